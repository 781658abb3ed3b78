import axios, { AxiosError } from 'axios';
import { NetworkError } from './errors';
import { timing } from './retry';
import { t } from './i18n';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  json?: unknown;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** The raw body: parsing is the caller's business, so garbage can be told from an error. */
  body: string;
}

export type Transport = (req: HttpRequest) => Promise<HttpResponse>;

const client = axios.create({
  responseType: 'text',
  transformResponse: [(data: unknown) => data],
  validateStatus: () => true,
  maxRedirects: 0,
});

/** Sends one request with axios. Never throws an axios error: those carry headers and bodies (tokens, secrets). */
export const axiosTransport: Transport = async (req) => {
  const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
  let data: string | undefined;
  if (req.form) {
    data = new URLSearchParams(req.form).toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  } else if (req.json !== undefined) {
    data = JSON.stringify(req.json);
    headers['Content-Type'] = 'application/json';
  }
  try {
    const res = await client.request({
      method: req.method,
      url: req.url,
      headers,
      data,
      timeout: req.timeoutMs ?? timing.requestTimeoutMs,
    });
    const outHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers ?? {})) {
      if (v !== undefined && v !== null) outHeaders[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    return { status: res.status, headers: outHeaders, body: typeof res.data === 'string' ? res.data : String(res.data ?? '') };
  } catch (err) {
    throw toNetworkError(err, req.url);
  }
};

function toNetworkError(err: unknown, url: string): NetworkError {
  const e = err as AxiosError;
  let code = typeof e?.code === 'string' ? e.code : 'ENETWORK';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(String(e?.message))) code = 'ETIMEDOUT';
  const host = hostOf(url);
  const message = code === 'ETIMEDOUT' ? t('oura.errors.requestTimedOut', { host })
    : code === 'ECONNREFUSED' ? t('oura.errors.requestRefused', { host }) : t('oura.errors.requestFailed', { host, code });
  return new NetworkError(message, code);
}

/** The host of a URL, for messages: never the path or query, which may carry a token. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'Oura';
  }
}

let transport: Transport = axiosTransport;

export function send(req: HttpRequest): Promise<HttpResponse> {
  return transport(req);
}

/** Tests and benchmarks swap the transport; `undefined` restores axios. */
export function setTransport(t?: Transport): void {
  transport = t ?? axiosTransport;
}

/** Parses a JSON body; `undefined` when it is not JSON. */
export function parseJson(body: string): unknown {
  if (!body) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/**
 * Oura's error bodies come as RFC 6749 (`error`, `error_description`), RFC 7807 (`title`, `detail`)
 * or FastAPI's `{detail: string | [{loc, msg}]}`. Returns one human-readable line, or undefined.
 */
export function errorDetail(body: unknown): { code?: string; text?: string } {
  if (!body || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const code = typeof b.error === 'string' ? b.error : undefined;
  const parts: string[] = [];
  if (typeof b.error_description === 'string') parts.push(b.error_description);
  if (typeof b.title === 'string' && typeof b.detail !== 'string') parts.push(b.title);
  if (typeof b.detail === 'string') parts.push(b.detail);
  else if (Array.isArray(b.detail)) {
    for (const d of b.detail) {
      if (d && typeof d === 'object') {
        const item = d as Record<string, unknown>;
        const loc = Array.isArray(item.loc) ? item.loc.filter((x) => x !== 'query' && x !== 'body').join('.') : '';
        parts.push(loc ? `${loc}: ${String(item.msg ?? '')}` : String(item.msg ?? ''));
      }
    }
  }
  if (typeof b.message === 'string' && !parts.length) parts.push(b.message);
  const text = parts.join('; ').slice(0, 300) || undefined;
  return { code, text: text ?? code };
}
