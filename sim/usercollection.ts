/**
 * The data routes, /v2/usercollection/* and /v2/sandbox/usercollection/*: scopes, range parameters
 * with Oura's per-collection end_date rule, `fields`, opaque next_token paging and single documents.
 */
import * as crypto from 'crypto';
import type * as http from 'http';
import { sendJson } from './http';
import type { AccessToken } from './oauth';
import {
  BATTERY_STEP_MS, BY_DAY, Doc, END_EXCLUSIVE, HEARTRATE_STEP_MS, Series, addDays, arraySeries, batteryAt, gridSeries,
  heartrateAt, localMidnight, personalInfo, ringConfiguration,
} from './data';

export const COLLECTIONS = [
  'daily_activity', 'daily_cardiovascular_age', 'daily_readiness', 'daily_resilience', 'daily_sleep', 'daily_spo2', 'daily_stress',
  'enhanced_tag', 'heartrate', 'personal_info', 'rest_mode_period', 'ring_battery_level', 'ring_configuration', 'session', 'sleep',
  'sleep_time', 'tag', 'vO2_max', 'workout',
];

/** Which scopes open a collection, and whether lacking them answers 401 (older scopes) or 403 (newer ones). */
export const SCOPE_OF: Record<string, { any: string[]; status: 401 | 403 }> = {
  daily_activity: { any: ['daily'], status: 401 },
  daily_readiness: { any: ['daily'], status: 401 },
  daily_sleep: { any: ['daily'], status: 401 },
  sleep: { any: ['daily'], status: 401 },
  sleep_time: { any: ['daily'], status: 401 },
  daily_stress: { any: ['daily'], status: 401 },
  rest_mode_period: { any: ['daily'], status: 401 },
  heartrate: { any: ['heartrate'], status: 401 },
  workout: { any: ['workout'], status: 401 },
  session: { any: ['session'], status: 401 },
  tag: { any: ['tag'], status: 401 },
  enhanced_tag: { any: ['tag'], status: 401 },
  daily_spo2: { any: ['spo2Daily', 'spo2'], status: 403 },
  daily_resilience: { any: ['stress'], status: 403 },
  vO2_max: { any: ['heart_health'], status: 403 },
  daily_cardiovascular_age: { any: ['heart_health'], status: 403 },
  ring_battery_level: { any: ['ring_configuration'], status: 403 },
  ring_configuration: { any: ['ring_configuration'], status: 403 },
};

const DATETIME = new Set(['heartrate', 'ring_battery_level']);
const NO_SINGLE = new Set(['heartrate', 'ring_battery_level', 'personal_info']);
export const HISTORY_DAYS = 400;
const DAY_MS = 86400_000;
/** heartrate and ring_battery_level: at most 30 days per request (reported by three clients). */
const MAX_DATETIME_RANGE_MS = 30 * DAY_MS;

export interface DataContext {
  now(): number;
  /** The last day with data (the user's "today"). */
  today(): string;
  pageSize: number;
  heartratePageSize: number;
  /** end_datetime excluded instead of included (Oura does not document which). */
  datetimeEndExclusive?: boolean;
}

/** A refusal: the status and JSON body to answer with. */
class Refusal extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

const detail = (status: number, msg: string) => new Refusal(status, { detail: msg });
const unprocessable = (field: string, msg: string) => new Refusal(422, { detail: [{ loc: ['query', field], msg, type: 'value_error' }] });

function isDay(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);
}

const DATETIME_RE = /^(\d{4}-\d{2}-\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** start_date/end_date: a date, or (the spec allows it) a date-time whose date part counts. */
function readDay(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const m = DATETIME_RE.exec(v);
  if (!m || !isDay(m[1])) throw detail(400, `Invalid ${name} "${v}": expected a date (YYYY-MM-DD).`);
  return m[1];
}

/**
 * start_datetime/end_datetime. An unescaped '+' in the offset reaches Oura as a space, which no
 * datetime parser accepts: the request fails, as it does at Oura.
 */
function readInstant(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const m = DATETIME_RE.exec(v);
  if (!m || !isDay(m[1])) throw unprocessable(name, `invalid datetime "${v}" (ISO 8601 expected; send '+' as %2B)`);
  // A datetime without an offset is taken as UTC, not as the simulator host's zone.
  const t = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : m[2] ? v : `${v}Z`);
  if (Number.isNaN(t)) throw unprocessable(name, `invalid datetime "${v}"`);
  return t;
}

function readBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '') return false;
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  throw unprocessable(name, 'value could not be parsed to a boolean');
}

/** What a next_token carries: collection, offset, the query as sent and with its defaults resolved. */
interface PageToken {
  c: string;
  o: number;
  q: string;
  r: string;
}

export class UserCollections {
  /** Keys next_token, so a token is opaque and cannot be forged or reused for another query. */
  private readonly pagingKey = crypto.randomBytes(16);
  /** Per collection: document id -> day, for the history ending on `indexedFor`. */
  private readonly index = new Map<string, Map<string, string>>();
  private indexedFor = '';

  constructor(private readonly ctx: DataContext) {}

  handle(res: http.ServerResponse, url: URL, grant: AccessToken): void {
    try {
      sendJson(res, 200, this.answer(url, grant));
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      sendJson(res, err.status, err.body);
    }
  }

  /** The route's path pattern, before any token check: unknown routes are 404 whoever asks. */
  static parse(pathname: string): { collection: string; docId?: string; sandbox: boolean } | undefined {
    const m = /^\/v2\/(sandbox\/)?usercollection\/([^/]+)(?:\/([^/]+))?\/?$/.exec(pathname);
    if (!m || !COLLECTIONS.includes(m[2])) return undefined;
    if (m[1] && m[2] === 'personal_info') return undefined;
    if (m[3] && NO_SINGLE.has(m[2])) return undefined;
    return { collection: m[2], docId: m[3] ? decodeURIComponent(m[3]) : undefined, sandbox: !!m[1] };
  }

  private answer(url: URL, grant: AccessToken): unknown {
    const route = UserCollections.parse(url.pathname);
    if (!route) throw detail(404, 'Not Found');
    const { collection, docId } = route;
    if (collection === 'personal_info') return personalInfo(grant.scopes);
    const need = SCOPE_OF[collection];
    if (!need.any.some((s) => grant.scopes.has(s))) {
      throw detail(need.status, `The access token lacks the scope for ${collection} (${need.any.join(' or ')}).`);
    }
    if (docId !== undefined) {
      const doc = this.find(collection, docId);
      if (!doc) throw detail(404, 'Document not found.');
      return doc;
    }
    const page = this.paging(collection, url.searchParams);
    const { series, resolved } = this.series(collection, page.resolved);
    const size = collection === 'heartrate' ? this.ctx.heartratePageSize : this.ctx.pageSize;
    const fields = (resolved.get('fields') ?? '').split(',').map((f) => f.trim()).filter(Boolean);
    const end = page.offset + size;
    const data = series.slice(page.offset, end)
      .map((d) => (fields.length ? Object.fromEntries(Object.entries(d).filter(([k]) => fields.includes(k))) : d));
    return { data, next_token: end < series.length ? this.token({ c: collection, o: end, q: page.query.toString(), r: resolved.toString() }) : null };
  }

  /**
   * The documents of a query, and the query with its defaults filled in: later pages use that, so
   * that "the last 24 hours" does not move under a client while it pages.
   */
  private series(collection: string, q: URLSearchParams): { series: Series; resolved: URLSearchParams } {
    const resolved = new URLSearchParams(q);
    if (collection === 'ring_configuration') return { series: arraySeries(ringConfiguration()), resolved };
    if (DATETIME.has(collection)) return this.timeSeries(collection, q);
    const endQ = readDay(q, 'end_date');
    const startQ = readDay(q, 'start_date');
    const end = endQ ?? this.ctx.today();
    const start = startQ ?? addDays(end, -1);
    if (start > end) throw unprocessable('start_date', `start_date (${start}) must not be after end_date (${end})`);
    resolved.set('start_date', start);
    resolved.set('end_date', end);
    const last = this.ctx.today();
    const first = addDays(last, -HISTORY_DAYS);
    const exclusive = END_EXCLUSIVE.has(collection);
    const docs: Doc[] = [];
    for (let d = start < first ? first : start; (exclusive ? d < end : d <= end) && d <= last; d = addDays(d, 1)) {
      docs.push(...BY_DAY[collection](d));
    }
    return { series: arraySeries(docs), resolved };
  }

  private timeSeries(collection: string, q: URLSearchParams): { series: Series; resolved: URLSearchParams } {
    const step = collection === 'heartrate' ? HEARTRATE_STEP_MS : BATTERY_STEP_MS;
    const at = collection === 'heartrate' ? heartrateAt : batteryAt;
    // Data runs up to now, but never past the end of the simulated "today".
    const dataEnd = Math.min(this.ctx.now(), localMidnight(addDays(this.ctx.today(), 1)) - 1);
    const dataStart = localMidnight(addDays(this.ctx.today(), -HISTORY_DAYS));
    const startQ = readInstant(q, 'start_datetime');
    const endQ = readInstant(q, 'end_datetime');
    const resolved = new URLSearchParams(q);
    if (readBool(q, 'latest')) {
      const last = Math.floor(dataEnd / step) * step;
      return { series: gridSeries(last, last, step, at), resolved };
    }
    const end = endQ ?? dataEnd;
    const start = startQ ?? end - DAY_MS;
    if (start > end) throw unprocessable('start_datetime', 'start_datetime must not be after end_datetime');
    if (end - start > MAX_DATETIME_RANGE_MS) throw detail(400, 'The range may span at most 30 days.');
    resolved.set('start_datetime', new Date(start).toISOString());
    resolved.set('end_datetime', new Date(end).toISOString());
    const last = this.ctx.datetimeEndExclusive ? end - 1 : end;
    return { series: gridSeries(Math.max(start, dataStart), Math.min(last, dataEnd), step, at), resolved };
  }

  private sign(payload: string): string {
    return crypto.createHmac('sha256', this.pagingKey).update(payload).digest('base64url').slice(0, 16);
  }

  private token(t: PageToken): string {
    const payload = Buffer.from(JSON.stringify(t)).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /**
   * The query a page belongs to and where it starts. A next_token may come with the original
   * parameters repeated or alone; with other parameters it belongs to another query: 400.
   */
  private paging(collection: string, q: URLSearchParams): { query: URLSearchParams; resolved: URLSearchParams; offset: number } {
    const rest = new URLSearchParams(q);
    rest.delete('next_token');
    rest.sort();
    const token = q.get('next_token');
    if (token === null || token === '') return { query: rest, resolved: rest, offset: 0 };
    const invalid = detail(400, 'Invalid next_token.');
    const [payload, mac] = token.split('.');
    if (!payload || !mac || this.sign(payload) !== mac) throw invalid;
    let p: PageToken;
    try {
      p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid;
    }
    if (p.c !== collection || (rest.toString() !== '' && rest.toString() !== p.q)) throw detail(400, 'Invalid next_token: it belongs to another query.');
    return { query: new URLSearchParams(p.q), resolved: new URLSearchParams(p.r), offset: p.o };
  }

  private find(collection: string, id: string): Doc | undefined {
    if (collection === 'ring_configuration') return ringConfiguration().find((d) => d.id === id);
    const today = this.ctx.today();
    if (this.indexedFor !== today) {
      this.index.clear();
      this.indexedFor = today;
    }
    let ids = this.index.get(collection);
    if (!ids) {
      // Ids do not encode their day: index the collection's whole history once.
      ids = new Map();
      for (let i = 0, d = today; i <= HISTORY_DAYS; i++, d = addDays(d, -1)) {
        for (const doc of BY_DAY[collection](d)) ids.set(String(doc.id), d);
      }
      this.index.set(collection, ids);
    }
    const day = ids.get(id);
    return day ? BY_DAY[collection](day).find((d) => d.id === id) : undefined;
  }
}
