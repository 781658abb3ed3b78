/** What an `oura webhook` node's settings mean, read leniently: the editor validates them already. */
import type { HttpReq } from './routes';

export const DEFAULT_PATH = '/oura/webhook';
/** Longer than Oura's retry span (about 10 tries over about an hour), which may keep the first timestamp. */
export const DEFAULT_MAX_AGE_S = 3 * 3600;
/** A sender's clock may run a little ahead of ours. */
export const FUTURE_SKEW_MS = 15 * 60_000;
/** How long deleting a removed node's subscriptions may hold up the deploy. */
export const CLOSE_TIMEOUT_MS = 10_000;

/** The known values of a list setting (array or comma/space separated), each once. */
export function listOf(v: unknown, allowed: readonly string[]): string[] {
  const items = Array.isArray(v) ? v.map(String) : String(v ?? '').split(/[\s,]+/).filter(Boolean);
  return [...new Set(items.filter((x) => allowed.includes(x)))];
}

/** *Max age* in seconds as milliseconds; empty or unreadable = the default, 0 = no replay check. */
export function maxAgeMs(v: unknown): number {
  if (v === undefined || v === null || String(v).trim() === '') return DEFAULT_MAX_AGE_S * 1000;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : DEFAULT_MAX_AGE_S * 1000;
}

/** The query of a request, parsed by Express or not. */
export function queryOf(req: HttpReq): Record<string, unknown> {
  if (req.query && typeof req.query === 'object') return req.query;
  return Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams.entries());
}
