import { EventEmitter } from 'events';
import { DurableStore, KeySource } from './durable-store';
import { DeployedClient, fromStored, isNewer, TokenRecord } from './record';
import { NotAuthorizedError, ReauthRequiredError, TokenError } from '../errors';
import { ClientCredentials, TokenSet, isRefreshRefused, isRefreshTokenReused, requestToken } from '../oauth/token-requests';
import { revokeTokens, RevokeOutcome } from '../oauth/revoke';
import { timing } from '../retry';

export { fromStored, parseCredentialTokens } from './record';
export type { DeployedClient, TokenRecord } from './record';

interface AccountState {
  record?: TokenRecord;
  refreshing?: Promise<TokenRecord>;
  /** Authorized in this process but not (yet) seen in a deployed flow. */
  pending?: boolean;
}

export interface Logger {
  warn(msg: string): void;
  debug?(msg: string): void;
}

/** Refresh this long before expiry so a request never leaves with a token about to die. */
export const REFRESH_MARGIN_MS = 60_000;

/**
 * Lives at module level on purpose: a redeploy or "Restart Flows" makes new node objects, but an
 * account's tokens and its in-flight refresh must outlive them.
 */
const states = new Map<string, AccountState>();
let durable: DurableStore<TokenRecord> | undefined;
let logger: Logger = { warn: () => undefined };
let credentialSink: (key: string, tokens: TokenRecord | undefined) => void = () => undefined;

export function configureStorage(opts: {
  userDir?: string;
  keys: KeySource;
  log: Logger;
  /** Mirrors the tokens into Node-RED's credentials (written at the next deploy). */
  sink: (key: string, tokens: TokenRecord | undefined) => void;
}): void {
  durable = opts.userDir ? new DurableStore<TokenRecord>(opts.userDir, opts.keys) : undefined;
  logger = opts.log;
  credentialSink = opts.sink;
  if (!durable) logger.warn('Node-RED has no user directory: Oura tokens are kept in memory and in credentials only');
}

function state(key: string): AccountState {
  let s = states.get(key);
  if (!s) {
    s = {};
    states.set(key, s);
  }
  return s;
}

/** Tells flow nodes when an account is authorized, refused or forgotten, so their status follows. */
const changes = new EventEmitter();
changes.setMaxListeners(0);

export function onChange(key: string, listener: (record: TokenRecord | undefined) => void): () => void {
  changes.on(key, listener);
  return () => changes.removeListener(key, listener);
}

/** Why an account's newest tokens are not on disk (a failed write of the durable copy), by account. */
const saveProblems = new Map<string, string>();

export function saveProblem(key: string): string | undefined {
  return saveProblems.get(key);
}

/**
 * Writes (or removes) the durable copy. A failure is loud: the tokens Oura just rotated live only in memory (and reach
 * Node-RED's credentials at the next deploy), so a restart before then would need a new consent.
 */
function saveCopy(key: string, record: TokenRecord | undefined): void {
  if (!durable) return;
  try {
    if (record) durable.write(key, record);
    else durable.remove(key);
    saveProblems.delete(key);
  } catch (err) {
    const text = `Could not save the newest Oura tokens of account ${key} to disk (${(err as Error).message}). They are kept in memory and `
      + 'reach Node-RED\'s credentials at the next deploy: free disk space and deploy, or a restart before then will need a new authorization.';
    saveProblems.set(key, text);
    logger.warn(text);
  }
}

function persist(key: string, record: TokenRecord | undefined): void {
  saveCopy(key, record);
  credentialSink(key, record);
  changes.emit(key, record);
}

function readDurable(key: string): TokenRecord | undefined {
  if (!durable) return undefined;
  const r = durable.read(key);
  if (r.ok) return fromStored(r.value);
  if (r.reason === 'undecryptable') {
    logger.warn(`Ignoring the Oura token copy for account ${key}: it cannot be decrypted (was credentialSecret changed?)`);
  }
  return undefined;
}

/**
 * Called when an account node starts: the newest of memory, the durable copy and Node-RED's
 * credentials wins, and the others are brought up to date.
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
    if (fromCredentials) credentialSink(key, undefined);
    return undefined;
  }
  s.record = best;
  if (best) {
    if (durable && (!fromDisk || isNewer(best, fromDisk))) persist(key, best);
    else if (!fromCredentials || isNewer(best, fromCredentials)) credentialSink(key, best);
  }
  return best;
}

export function current(key: string): TokenRecord | undefined {
  return states.get(key)?.record;
}

/** Stores a fresh authorization (code exchange): durable copy first, then memory and credentials. */
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
}

/**
 * Refreshes the tokens once for every caller. `staleAccessToken` is the token a caller saw fail or
 * expire: when it is no longer the current one, somebody already refreshed and there is nothing to do.
 */
export function refresh(key: string, client: DeployedClient, staleAccessToken: string): Promise<TokenRecord> {
  const s = state(key);
  if (s.refreshing) return s.refreshing;
  const rec = s.record;
  if (!rec) return Promise.reject(notAuthorized());
  if (rec.reauth) return Promise.reject(new ReauthRequiredError(rec.reauth));
  if (rec.accessToken !== staleAccessToken) return Promise.resolve(rec);
  // The deployed secret belongs to the deployed Client ID: it never renews another client's authorization.
  if (rec.clientId && rec.clientId !== client.clientId) return Promise.reject(otherClient());
  const run = (async () => {
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
    const next: TokenRecord = {
      ...rec,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: tokens.expiresAt,
      scopes: tokens.scopes.length ? tokens.scopes : rec.scopes,
      tokenRole: tokens.role ?? rec.tokenRole,
      updatedAt: Math.max(timing.now(), rec.updatedAt + 1),
      reauth: undefined,
    };
    if (s.record !== rec && isNewer(s.record, next)) return s.record as TokenRecord;
    // The old refresh token is dead now: write the new one durably before anything uses it.
    persist(key, next);
    s.record = next;
    return next;
  })();
  s.refreshing = run;
  const clear = () => {
    if (s.refreshing === run) s.refreshing = undefined;
  };
  run.then(clear, clear);
  return run;
}

function refusalMessage(err: TokenError): string {
  const base = 'Oura refused to renew the authorization: open the Oura account node and click Authorize again';
  if (isRefreshTokenReused(err)) {
    return `${base}. Oura says the refresh token was already used: another Node-RED, a copied flow or a restored backup may be using the same authorization (each Node-RED needs its own).`;
  }
  return `${base} (${err.message}).`;
}

function otherClient(): ReauthRequiredError {
  return new ReauthRequiredError('This authorization was made with another Client ID than the Oura account node now has: open the Oura account node and click Authorize again.');
}

export function notAuthorized(): NotAuthorizedError {
  return new NotAuthorizedError('This Oura account is not authorized yet: open the Oura account node, click Authorize and accept on Oura\'s page, then Update and Deploy.');
}

/** A valid access token, refreshing first when it is about to expire. */
export async function accessToken(key: string, client: DeployedClient): Promise<string> {
  const s = state(key);
  if (s.refreshing) return (await s.refreshing).accessToken;
  const rec = s.record;
  if (!rec) throw notAuthorized();
  if (rec.reauth) throw new ReauthRequiredError(rec.reauth);
  if (rec.expiresAt - REFRESH_MARGIN_MS <= timing.now()) return (await refresh(key, client, rec.accessToken)).accessToken;
  return rec.accessToken;
}

/**
 * Forgets an account's tokens everywhere. Disconnect (`revokeWith` set) revokes them at Oura (best effort, with the
 * deployed client when it is the one that authorized) and leaves a tombstone so the copy in Node-RED's credential
 * file, written only at the next deploy, cannot return at a restart; a deleted account leaves nothing.
 */
export async function forget(key: string, disconnect?: { client?: ClientCredentials }): Promise<RevokeOutcome> {
  const s = states.get(key);
  const rec = s?.record ?? readDurable(key);
  if (s) s.record = undefined; // a refresh still in flight sees this and drops its answer
  states.delete(key);
  if (disconnect && rec && durable) {
    const now = timing.now();
    const tombstone: TokenRecord = {
      accessToken: '', refreshToken: '', expiresAt: 0, scopes: [], clientId: rec.clientId,
      authorizedAt: rec.authorizedAt, updatedAt: Math.max(now, rec.updatedAt + 1), forgotten: true,
    };
    saveCopy(key, tombstone);
    credentialSink(key, undefined);
    changes.emit(key, undefined);
  } else {
    persist(key, undefined);
  }
  if (!disconnect || !rec || rec.forgotten) return 'skipped';
  const client = disconnect.client && disconnect.client.clientId === rec.clientId ? disconnect.client : undefined;
  return revokeTokens({ accessToken: rec.accessToken, refreshToken: rec.refreshToken, role: rec.tokenRole }, client);
}

/**
 * Removes copies of accounts that are not in the deployed flows, except authorizations made in this
 * process for a node the user has not deployed yet.
 */
export function prune(deployedKeys: Set<string>): void {
  for (const [key, s] of states) {
    if (!deployedKeys.has(key) && !s.pending) states.delete(key);
  }
  if (!durable) return;
  for (const key of durable.list()) {
    if (!deployedKeys.has(key) && !states.get(key)?.pending) {
      durable.remove(key);
    }
  }
}

/** For tests: forget everything held in memory (as a process restart would). */
export function resetMemory(): void {
  states.clear();
  saveProblems.clear();
}
