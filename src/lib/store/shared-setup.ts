/**
 * Turns `ouraAccountTokenStore` in settings.js into a running shared store, once per runtime:
 *
 *     ouraAccountTokenStore: { url: 'redis://redis:6379', prefix: 'oura:' }
 *
 * Without it nothing changes: each Node-RED keeps its tokens in its own encrypted file copy.
 */
import { useBackend } from '../oauth/pending';
import { redactUrl, RedisConnection } from './redis-client';
import { SharedStore } from './shared-store';
import { SharedTokens } from './shared-tokens';
import { local, notAuthorized, otherClient, refusalMessage, REFRESH_MARGIN_MS, useSharedStore } from './tokens';
import { t } from '../i18n';

export interface StoreSettings {
  url: string;
  prefix?: string;
  /** D, the whole of one renewal; the lock lives twice as long. Default 30. */
  refreshDeadlineSeconds?: number;
}

export interface Log {
  warn(m: string): void;
  error(m: string): void;
  info(m: string): void;
  debug?(m: string): void;
}

let running: { signature: string; store: SharedStore; tokens: SharedTokens } | undefined;

/** The running shared store, for the webhook's once-only deliveries and its subscription lock. */
export function sharedStore(): SharedStore | undefined {
  return running?.store;
}

/** What is wrong with the setting, in the user's words; undefined when it can be used. */
export function checkSettings(v: unknown, credentialSecret: unknown): string | undefined {
  if (!v || typeof v !== 'object') return t('oura.store.settings.notAnObject');
  const o = v as Record<string, unknown>;
  if (typeof o.url !== 'string' || !/^rediss?:\/\//.test(o.url)) return t('oura.store.settings.url');
  if (o.prefix !== undefined && (typeof o.prefix !== 'string' || !o.prefix)) return t('oura.store.settings.prefix');
  const d = o.refreshDeadlineSeconds;
  if (d !== undefined && !(typeof d === 'number' && d >= 2 && d <= 300)) return t('oura.store.settings.deadline');
  if (typeof credentialSecret !== 'string' || !credentialSecret) {
    return t('oura.store.settings.credentialSecret');
  }
  return undefined;
}

/** Starts (or keeps, or replaces) the shared store for these settings; stops it when they are gone. */
export function startSharedStore(settings: unknown, credentialSecret: unknown, log: Log): void {
  if (settings === undefined || settings === null) {
    void stopSharedStore();
    return;
  }
  const problem = checkSettings(settings, credentialSecret);
  if (problem) {
    log.error(`[oura] ${t('oura.store.notStarted', { problem })}`);
    void stopSharedStore();
    return;
  }
  const s = settings as StoreSettings;
  const signature = JSON.stringify([s.url, s.prefix, s.refreshDeadlineSeconds, credentialSecret]);
  if (running?.signature === signature) return;
  void stopSharedStore();
  const redis = new RedisConnection(s.url, log);
  const store = new SharedStore(redis, s.prefix ?? 'oura:', credentialSecret as string);
  const deadlineMs = (s.refreshDeadlineSeconds ?? 30) * 1000;
  const tokens = new SharedTokens(store, local, {
    deadlineMs, maxWaitMs: 4 * deadlineMs + 2000, pollMs: 500, marginMs: REFRESH_MARGIN_MS,
  }, { notAuthorized, otherClient, refusal: refusalMessage });
  redis.start();
  useSharedStore(tokens);
  useBackend({
    put: (state, p, ttl) => store.putPending(state, p, ttl),
    take: (state) => store.takePending(state),
    peek: (state) => store.peekPending(state),
  });
  running = { signature, store, tokens };
  log.info(`[oura] ${t('oura.store.sharing', { url: redactUrl(s.url), prefix: s.prefix ?? 'oura:' })}`);
}

export async function stopSharedStore(): Promise<void> {
  const r = running;
  if (!r) return;
  running = undefined;
  useSharedStore(undefined);
  useBackend(undefined);
  await r.store.redis.close();
}
