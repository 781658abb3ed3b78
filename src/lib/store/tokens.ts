/**
 * An account's tokens over their life: taken from the newest copy at start, saved at consent, renewed once for every
 * caller (through the shared store when several Node-REDs share the account), forgotten at Disconnect.
 */
import { NotAuthorizedError, ReauthRequiredError, TokenError } from '../errors';
import { revokeTokens, RevokeOutcome } from '../oauth/revoke';
import { ClientCredentials, TokenSet, isRefreshRefused, isRefreshTokenReused, requestToken } from '../oauth/token-requests';
import { timing } from '../retry';
import {
  AccountState, announceWaiting, current, forgetLocally, hasDurable, logger, mirrorToCredentials, persist, readDurable, saveCopy, state, states,
} from './local-state';
import { DeployedClient, isNewer, renewed, stillHeld, TokenRecord } from './record';
import { pauseBeforeRetry } from './notices';
import { StoreUnreadableError } from './redis-client';
import type { LocalTokens, SharedTokens } from './shared-tokens';
import { t } from '../i18n';

export { fromStored, parseCredentialTokens } from './record';
export type { DeployedClient, TokenRecord } from './record';
export { configureStorage, current, onChange, onWaiting, prune, resetMemory, saveProblem } from './local-state';

/** Refresh this long before expiry so a request never leaves with a token about to die. */
export const REFRESH_MARGIN_MS = 60_000;

let shared: SharedTokens | undefined;

/** Several Node-REDs share the accounts through Redis (`ouraAccountTokenStore`); undefined: this one alone. */
export function useSharedStore(s: SharedTokens | undefined): void {
  shared?.stop();
  shared = s;
  shared?.start();
}

/** What the shared store sees of this Node-RED. */
export const local: LocalTokens = {
  get: (key) => {
    const s = states.get(key);
    return { record: s?.record, version: s?.version };
  },
  adopt: (key, record, version) => {
    const s = state(key);
    if (s.record === record && s.version === version) return;
    s.record = record;
    s.version = version;
    if (record) persist(key, record);
    else forgetLocally(key);
  },
  waiting: announceWaiting,
};

/**
 * Called when an account node starts: the newest of memory, the durable copy and Node-RED's credentials wins, and
 * the others are brought up to date. With a shared store, Redis' record then wins over all of them.
 */
export function reconcile(key: string, fromCredentials: TokenRecord | undefined): TokenRecord | undefined {
  const s = state(key);
  s.pending = false;
  const fromDisk = readDurable(key);
  let best = s.record;
  if (isNewer(fromDisk, best)) best = fromDisk;
  if (isNewer(fromCredentials, best)) best = fromCredentials;
  if (best?.forgotten) {
    s.record = undefined;
    if (fromCredentials) mirrorToCredentials(key, undefined);
  } else {
    s.record = best;
    if (best) {
      if (hasDurable() && (!fromDisk || isNewer(best, fromDisk))) persist(key, best);
      else if (!fromCredentials || isNewer(best, fromCredentials)) mirrorToCredentials(key, best);
    }
  }
  if (shared) {
    const sh = shared;
    const adopting = sh.adoptAtStart(key, reportShared).catch((err) => {
      logger.warn(t('oura.store.adoptLater', { key, message: (err as Error).message }));
      void adoptWhenRedisAnswers(sh, key, s);
    });
    s.adopting = adopting.finally(() => {
      if (s.adopting === adopting) s.adopting = undefined;
    });
  }
  return s.record;
}

const reportShared = (m: string) => (logger.error ?? logger.warn)(m);
const retryingAdoption = new WeakSet<object>();

/**
 * A replica that started while Redis did not answer and holds no tokens of its own has nothing to use until it reads
 * Redis' record: read again until Redis answers. (One with tokens of its own uses them, and meets Redis' newer ones at
 * its next renewal.)
 */
async function adoptWhenRedisAnswers(sh: SharedTokens, key: string, s: AccountState): Promise<void> {
  if (retryingAdoption.has(s)) return;
  retryingAdoption.add(s);
  try {
    for (let attempt = 0; ; attempt++) {
      await pauseBeforeRetry(attempt, 10_000);
      if (shared !== sh || states.get(key) !== s || s.record) return;
      try {
        await sh.adoptAtStart(key, reportShared);
        return;
      } catch {
        // still no answer
      }
    }
  } finally {
    retryingAdoption.delete(s);
  }
}

/** Tells the other replicas, now or as soon as Redis can be reached (this replica already uses `record`). */
function share(key: string, record: TokenRecord, what: string): void {
  if (!shared) return;
  const s = shared;
  void (async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        await s.put(key, record);
        return;
      } catch (err) {
        if (err instanceof StoreUnreadableError) {
          (logger.error ?? logger.warn)(t('oura.store.shareFailed', { what, key, message: err.message }));
          return;
        }
        if (attempt === 0) logger.warn(t('oura.store.shareLater', { what, key, message: (err as Error).message }));
        await pauseBeforeRetry(attempt, 10_000);
        if (shared !== s) return; // the shared store stopped (Node-RED shuts down)
        if (!stillHeld(current(key), record)) return; // superseded meanwhile
      }
    }
  })();
}

/** Stores a fresh authorization (code exchange): durable copy first, then memory and credentials, then Redis. */
export function saveAuthorization(key: string, tokens: TokenSet, clientId: string, deployed: boolean): TokenRecord {
  const now = timing.now();
  const prev = states.get(key)?.record;
  const record: TokenRecord = {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: tokens.expiresAt,
    scopes: tokens.scopes,
    tokenRole: tokens.role,
    clientId,
    authorizedAt: Math.max(now, (prev?.authorizedAt ?? 0) + 1),
    updatedAt: 0,
  };
  record.updatedAt = record.authorizedAt;
  persist(key, record);
  const s = state(key);
  s.record = record;
  s.pending = !deployed;
  share(key, record, t('oura.store.what.authorization'));
  return record;
}

/**
 * Labels an authorization with its Oura user. `authorizedAt` names the authorization the user was looked up for:
 * when another one replaced it meanwhile, the label is dropped rather than put on the wrong one.
 */
export function setUser(key: string, user: TokenRecord['user'], authorizedAt: number): void {
  const s = states.get(key);
  if (!s?.record || !user || s.record.authorizedAt !== authorizedAt) return;
  s.record = { ...s.record, user };
  persist(key, s.record);
  share(key, s.record, t('oura.store.what.user'));
}

/**
 * Refreshes the tokens once for every caller. `staleAccessToken` is the token a caller saw fail or
 * expire: when it is no longer the current one, somebody already refreshed and there is nothing to do.
 */
export function refresh(key: string, client: DeployedClient, staleAccessToken: string): Promise<TokenRecord> {
  const s = state(key);
  if (s.refreshing) return s.refreshing;
  const rec = s.record;
  if (!shared) {
    if (!rec) return Promise.reject(notAuthorized());
    if (rec.reauth) return Promise.reject(new ReauthRequiredError(rec.reauth));
  }
  if (rec && !rec.reauth && rec.accessToken !== staleAccessToken) return Promise.resolve(rec);
  // The deployed secret belongs to the deployed Client ID: it never renews another client's authorization.
  if (rec?.clientId && rec.clientId !== client.clientId) return Promise.reject(otherClient());
  const run = shared ? shared.refresh(key, client, staleAccessToken) : refreshHere(key, client, rec!);
  s.refreshing = run;
  const clear = () => {
    if (s.refreshing === run) s.refreshing = undefined;
  };
  run.then(clear, clear);
  return run;
}

/** This Node-RED alone holds the account: renew, then write the new tokens durably before anything uses them. */
async function refreshHere(key: string, client: DeployedClient, rec: TokenRecord): Promise<TokenRecord> {
  const s = state(key);
  let tokens: TokenSet;
  try {
    tokens = await requestToken({ grant_type: 'refresh_token', refresh_token: rec.refreshToken }, client, { configuredUrl: client.tokenUrl, role: rec.tokenRole });
  } catch (err) {
    if (isRefreshRefused(err)) {
      const reason = refusalMessage(err as TokenError);
      // A newer authorization may have landed while we waited: do not mark it dead.
      if (s.record === rec) {
        s.record = { ...rec, reauth: reason };
        persist(key, s.record);
      }
      throw new ReauthRequiredError(reason);
    }
    throw err;
  }
  if (states.get(key) !== s || !s.record) {
    // Disconnected (or deleted) while Oura was answering: these tokens must not come back.
    void revokeTokens({ ...tokens, role: tokens.role ?? rec.tokenRole }, client);
    throw notAuthorized();
  }
  const next = renewed(rec, tokens, timing.now());
  if (s.record !== rec && isNewer(s.record, next)) return s.record as TokenRecord;
  persist(key, next);
  s.record = next;
  return next;
}

export function refusalMessage(err: TokenError): string {
  if (isRefreshTokenReused(err)) return t('oura.errors.refreshReused');
  return t('oura.errors.refreshRefused', { message: err.message });
}

export function otherClient(): ReauthRequiredError {
  return new ReauthRequiredError(t('oura.errors.otherClient'));
}

export function notAuthorized(): NotAuthorizedError {
  return new NotAuthorizedError(t('oura.errors.notAuthorized'));
}

/** A valid access token, refreshing first when it is about to expire. */
export async function accessToken(key: string, client: DeployedClient): Promise<string> {
  const s = state(key);
  if (s.adopting) await s.adopting;
  if (s.refreshing) return (await s.refreshing).accessToken;
  const rec = s.record;
  if (!rec) throw notAuthorized();
  if (rec.reauth) throw new ReauthRequiredError(rec.reauth);
  if (rec.expiresAt - REFRESH_MARGIN_MS <= timing.now()) return (await refresh(key, client, rec.accessToken)).accessToken;
  return rec.accessToken;
}

/**
 * Forgets an account's tokens everywhere. Disconnect revokes them at Oura (best effort, with the deployed client when
 * it is the one that authorized) and leaves a tombstone, newer than the tokens Node-RED still has in
 * flows_cred.json (written only at the next deploy), so a restart cannot bring them back; with a shared store the
 * tombstone reaches every replica. A deleted account leaves nothing.
 */
export async function forget(key: string, disconnect?: { client?: ClientCredentials }): Promise<RevokeOutcome> {
  const s = states.get(key);
  const rec = s?.record ?? readDurable(key);
  if (s) s.record = undefined; // a refresh still in flight sees this and drops its answer
  const version = s?.version;
  states.delete(key);
  if (disconnect && rec) {
    const tombstone: TokenRecord = {
      accessToken: '', refreshToken: '', expiresAt: 0, scopes: [], clientId: rec.clientId,
      authorizedAt: rec.authorizedAt, updatedAt: Math.max(timing.now(), rec.updatedAt + 1), forgotten: true,
    };
    saveCopy(key, tombstone);
    forgetLocally(key);
    if (shared) {
      state(key).version = version;
      share(key, tombstone, t('oura.store.what.disconnect'));
    }
  } else {
    persist(key, undefined);
  }
  if (!disconnect || !rec || rec.forgotten) return 'skipped';
  const client = disconnect.client && disconnect.client.clientId === rec.clientId ? disconnect.client : undefined;
  return revokeTokens({ accessToken: rec.accessToken, refreshToken: rec.refreshToken, role: rec.tokenRole }, client);
}
