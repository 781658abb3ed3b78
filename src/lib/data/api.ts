import { apiUrl } from '../oauth/endpoints';
import { NetworkError, OuraHttpError, ProtocolError } from '../errors';
import { errorDetail, parseJson, send } from '../http';
import { backoffDelay, isRetryableStatus, parseRetryAfter, timing } from '../retry';
import type { AccountHandle } from '../red';
import * as tokens from '../store/tokens';
import { t } from '../i18n';

export type { AccountHandle } from '../red';

export type Query = Record<string, string | undefined>;

/** Explains a status a retry cannot fix, in the user's words. */
function httpError(status: number, body: unknown, path: string, scopeHint?: string): OuraHttpError {
  const { text } = errorDetail(body);
  const detail = text ? `: ${text}` : '';
  switch (status) {
    case 400:
      return new OuraHttpError(t('oura.errors.data400', { path, detail }), status, text);
    case 401:
      return new OuraHttpError(
        t('oura.errors.data401', { path, detail, hint: scopeHint ?? t('oura.errors.scopeProbablyNotGranted') }),
        status, text, t('oura.status.missingScope'), 'OURA_MISSING_SCOPE');
    case 403:
      return new OuraHttpError(
        t('oura.errors.data403', { path, detail, hint: scopeHint ? `${scopeHint}. ` : '' }),
        status, text, t('oura.status.missingScopeOrMembership'), 'OURA_MISSING_SCOPE');
    case 404:
      return new OuraHttpError(t('oura.errors.data404', { path, detail }), status, text, t('oura.status.documentNotFound'));
    case 422:
      return new OuraHttpError(t('oura.errors.data422', { path, detail }), status, text, t('oura.status.invalidRequest'));
    case 429:
      return new OuraHttpError(t('oura.errors.data429', { path, detail }), status, text, t('oura.status.rateLimited'));
    default:
      return new OuraHttpError(t('oura.errors.dataHttp', { status, path, detail }), status, text);
  }
}

/** Oura asks for a longer pause than a message should wait: say how long, and until when. */
function rateLimitedFor(path: string, waitMs: number): OuraHttpError {
  const minutes = Math.ceil(waitMs / 60_000);
  const until = new Date(timing.now() + waitMs).toTimeString().slice(0, 5);
  return new OuraHttpError(
    t('oura.errors.rateLimitedFor', { path, minutes, limit: Math.round(timing.maxRetryAfterMs / 60_000), until }),
    429, undefined, t('oura.status.rateLimitedWait', { minutes }));
}

export interface GetOptions {
  /** Says which scope the path needs, for 401/403 messages. */
  scopeHint?: string;
  /** Any of these scopes grants the path: when the account's granted scopes are known and lack them all, a 401 is a missing scope, not an expired token. */
  scopes?: string[];
  /** Called before each retry wait, e.g. to show "retrying" in the node status. */
  onRetry?: (reason: string, delayMs: number) => void;
}

/**
 * GET one API path as JSON with the account's token: refreshes once on a 401 for the current token
 * (a 401 for a token already replaced just retries), waits out 429s and retries 5xx and network
 * errors with bounded backoff.
 */
export async function getJson(account: AccountHandle, path: string, query: Query, opts: GetOptions = {}): Promise<unknown> {
  const url = buildUrl(path, query);
  let retried401 = false;
  let transient = 0;
  for (;;) {
    const token = await tokens.accessToken(account.key, account.credentials());
    let res;
    try {
      res = await send({ method: 'GET', url, headers: { Authorization: `Bearer ${token}` } });
    } catch (err) {
      if (err instanceof NetworkError && transient < timing.maxRetries) {
        const delay = backoffDelay(transient++);
        opts.onRetry?.(err.status, delay);
        await timing.sleep(delay);
        continue;
      }
      throw err;
    }
    if (res.status === 200) {
      const body = parseJson(res.body);
      if (body === undefined) {
        if (transient < timing.maxRetries) {
          const delay = backoffDelay(transient++);
          opts.onRetry?.(t('oura.status.badAnswer'), delay);
          await timing.sleep(delay);
          continue;
        }
        throw new ProtocolError(t('oura.errors.notJson', { path }));
      }
      return body;
    }
    if (res.status === 401 && !retried401 && !scopeKnownMissing(account.key, opts.scopes)) {
      retried401 = true;
      const cur = tokens.current(account.key);
      if (cur && cur.accessToken === token) {
        await tokens.refresh(account.key, account.credentials(), token);
      }
      continue;
    }
    if (res.status === 429) {
      const wait = parseRetryAfter(res.headers['retry-after']) ?? backoffDelay(transient);
      if (wait > timing.maxRetryAfterMs) throw rateLimitedFor(path, wait);
      if (transient < timing.maxRetries) {
        transient++;
        opts.onRetry?.(t('oura.status.rateLimited'), wait);
        await timing.sleep(wait);
        continue;
      }
    }
    if (res.status !== 429 && isRetryableStatus(res.status) && transient < timing.maxRetries) {
      const delay = backoffDelay(transient++);
      opts.onRetry?.(t('oura.status.http', { status: res.status }), delay);
      await timing.sleep(delay);
      continue;
    }
    throw httpError(res.status, parseJson(res.body), path, opts.scopeHint);
  }
}

function scopeKnownMissing(key: string, scopes?: string[]): boolean {
  const granted = tokens.current(key)?.scopes ?? [];
  return !!scopes && granted.length > 0 && !scopes.some((s) => granted.includes(s));
}

export function buildUrl(path: string, query: Query): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    // encodeURIComponent sends '+' in a time-zone offset as %2B, which Oura needs.
    if (v !== undefined && v !== '') parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  }
  return `${apiUrl()}${path}${parts.length ? `?${parts.join('&')}` : ''}`;
}

export const MAX_PAGES = 2000;

/**
 * Follows `next_token` until it is null, handing each page's documents to `onPage`. Guards against a
 * repeated token (a cycle) and caps the number of pages.
 */
export async function forEachPage(
  account: AccountHandle,
  path: string,
  query: Query,
  onPage: (docs: unknown[], page: number, last: boolean) => void | Promise<void>,
  opts: GetOptions & { maxPages?: number } = {},
): Promise<number> {
  const seen = new Set<string>();
  const maxPages = opts.maxPages ?? MAX_PAGES;
  let next: string | undefined;
  let page = 0;
  for (;;) {
    const body = await getJson(account, path, next ? { ...query, next_token: next } : query, opts);
    if (!body || typeof body !== 'object' || !Array.isArray((body as { data?: unknown }).data)) {
      throw new ProtocolError(t('oura.errors.noDataArray', { path }));
    }
    const env = body as { data: unknown[]; next_token?: string | null };
    const token = env.next_token;
    await onPage(env.data, page++, !token);
    if (!token) return page;
    if (seen.has(token)) throw new ProtocolError(t('oura.errors.pagingCycle', { path }));
    if (page >= maxPages) {
      throw new ProtocolError(t('oura.errors.tooManyPages', { path, maxPages }));
    }
    seen.add(token);
    next = token;
  }
}
