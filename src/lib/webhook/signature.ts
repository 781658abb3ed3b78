/**
 * Checking that an event comes from Oura: `x-oura-signature` is the upper-case hex HMAC-SHA256, keyed with
 * the application's client secret, of `x-oura-timestamp` followed by the body.
 */
import * as crypto from 'crypto';

export function signature(secret: string, timestamp: string, body: Buffer | string): string {
  return crypto.createHmac('sha256', secret).update(timestamp).update(body).digest('hex').toUpperCase();
}

/**
 * True when `header` signs any of `bodies` (the raw bytes, or re-serializations of the parsed JSON when a
 * parser consumed the raw bytes first). Every candidate is compared in constant time, none is skipped.
 */
export function verifySignature(secret: string, timestamp: string, header: string, bodies: Array<Buffer | string>): boolean {
  const given = Buffer.from(header.trim().toUpperCase(), 'utf8');
  let ok = false;
  for (const body of bodies) {
    const expected = Buffer.from(signature(secret, timestamp, body), 'utf8');
    const same = given.length === expected.length && crypto.timingSafeEqual(given, expected);
    ok = same || ok;
  }
  return ok;
}

/** Compares two secrets without telling how much of them matched. */
export function sameSecret(a: string, b: string): boolean {
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
}

const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * `x-oura-timestamp` as epoch milliseconds. Oura does not document its format (its sample shows epoch
 * seconds): seconds, milliseconds (told apart by size) and ISO 8601 are accepted; an ISO time without a
 * zone is read as UTC.
 */
export function parseTimestamp(value: string | undefined): number | undefined {
  const v = (value ?? '').trim();
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    if (!Number.isFinite(n)) return undefined;
    // 1e11 seconds is the year 5138; 1e11 milliseconds is 1973.
    return n >= 1e11 ? Math.round(n) : Math.round(n * 1000);
  }
  if (ISO.test(v)) {
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(v) ? v : `${v}Z`;
    const t = Date.parse(zoned.replace(' ', 'T'));
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/**
 * JSON as Python's `json.dumps` writes it by default (", " and ": " separators, non-ASCII escaped), which is
 * how Oura's own verification sample re-serializes the body it received.
 */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  return 'null';
}

/** Oura's events are small flat objects: a parsed body beyond these is not one, and is not re-serialized. */
export const RESERIALIZE_LIMITS = { depth: 16, values: 2048, chars: 64 * 1024 };

/**
 * The bodies a signature may cover: the raw bytes when they exist, else (a parser consumed them) the parsed
 * value re-serialized compactly and the way Python's json.dumps writes it. Never throws; an unknown sender
 * controls the parsed value, so a deep or large one gives nothing to check (401) instead of blowing the stack.
 */
export function signedBodies(body: { raw?: Buffer; parsed?: unknown }): Array<Buffer | string> {
  if (body.raw) return [body.raw];
  try {
    if (body.parsed === undefined || !withinLimits(body.parsed)) return [];
    return [JSON.stringify(body.parsed), pythonJson(body.parsed)];
  } catch {
    return []; // a value no JSON parser makes (a throwing getter or toJSON)
  }
}

/** Walks the value without recursion and gives up as soon as it is too deep, too many values or too long. */
function withinLimits(value: unknown): boolean {
  const { depth: maxDepth, values: maxValues, chars: maxChars } = RESERIALIZE_LIMITS;
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  let values = 0;
  let chars = 0;
  while (stack.length) {
    const { v, depth } = stack.pop()!;
    if (++values > maxValues || depth > maxDepth) return false;
    if (typeof v === 'string') chars += v.length;
    else if (Array.isArray(v)) {
      if (values + stack.length + v.length > maxValues) return false;
      for (const x of v) stack.push({ v: x, depth: depth + 1 });
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (values + stack.length + keys.length > maxValues) return false;
      for (const k of keys) {
        chars += k.length;
        stack.push({ v: (v as Record<string, unknown>)[k], depth: depth + 1 });
      }
    }
    if (chars > maxChars) return false;
  }
  return true;
}
