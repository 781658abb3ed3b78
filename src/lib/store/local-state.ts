/**
 * What this Node-RED holds of each account's tokens: memory, the encrypted durable copy, Node-RED's credentials, and
 * the notices that let flow nodes follow (authorized, refused, forgotten, waiting, not saved).
 *
 * Lives at module level on purpose: a redeploy or "Restart Flows" makes new node objects, but an account's tokens and
 * its in-flight refresh must outlive them.
 */
import { EventEmitter } from 'events';
import { DurableStore, KeySource } from './durable-store';
import { fromStored, TokenRecord } from './record';
import { t } from '../i18n';

export interface AccountState {
  record?: TokenRecord;
  /** The shared store's version of `record` (0 when there is no shared store or no record there). */
  version?: number;
  refreshing?: Promise<TokenRecord>;
  /** Redis' record being read at the account's start: requests wait for it rather than use older tokens. */
  adopting?: Promise<void>;
  /** Authorized in this process but not (yet) seen in a deployed flow. */
  pending?: boolean;
}

export interface Logger {
  warn(msg: string): void;
  error?(msg: string): void;
  debug?(msg: string): void;
}

export const states = new Map<string, AccountState>();
let durable: DurableStore<TokenRecord> | undefined;
export let logger: Logger = { warn: () => undefined };
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
  if (!durable) logger.warn(t('oura.store.noUserDir'));
}

export function state(key: string): AccountState {
  let s = states.get(key);
  if (!s) {
    s = {};
    states.set(key, s);
  }
  return s;
}

export function current(key: string): TokenRecord | undefined {
  return states.get(key)?.record;
}

/** Tells flow nodes when an account is authorized, refused or forgotten, so their status follows. */
const changes = new EventEmitter();
changes.setMaxListeners(0);

export function onChange(key: string, listener: (record: TokenRecord | undefined) => void): () => void {
  changes.on(key, listener);
  return () => changes.removeListener(key, listener);
}

/** Tells flow nodes that a message waits (for Redis, for another replica's renewal), and when it stops. */
const waits = new EventEmitter();
waits.setMaxListeners(0);

export function onWaiting(key: string, listener: (why: string | undefined) => void): () => void {
  waits.on(key, listener);
  return () => waits.removeListener(key, listener);
}

export function announceWaiting(key: string, why: string | undefined): void {
  waits.emit(key, why);
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
export function saveCopy(key: string, record: TokenRecord | undefined): void {
  if (!durable) return;
  try {
    if (record) durable.write(key, record);
    else durable.remove(key);
    saveProblems.delete(key);
  } catch (err) {
    const text = t('oura.store.notSaved', { key, message: (err as Error).message });
    saveProblems.set(key, text);
    logger.warn(text);
  }
}

/** Durable copy, credentials, then the flow nodes hear of it. */
export function persist(key: string, record: TokenRecord | undefined): void {
  saveCopy(key, record);
  credentialSink(key, record);
  changes.emit(key, record);
}

/** Forgets without a trace in the copies (the tombstone of a Disconnect is written by the caller). */
export function forgetLocally(key: string): void {
  credentialSink(key, undefined);
  changes.emit(key, undefined);
}

export function readDurable(key: string): TokenRecord | undefined {
  if (!durable) return undefined;
  const r = durable.read(key);
  if (r.ok) return fromStored(r.value);
  if (r.reason === 'undecryptable') {
    logger.warn(t('oura.store.undecryptableCopy', { key }));
  }
  return undefined;
}

export function hasDurable(): boolean {
  return !!durable;
}

export function mirrorToCredentials(key: string, record: TokenRecord | undefined): void {
  credentialSink(key, record);
}

/** Copies of accounts not deployed any more, except authorizations made here for a node not deployed yet. */
export function prune(deployedKeys: Set<string>): void {
  for (const [key, s] of states) {
    if (!deployedKeys.has(key) && !s.pending) states.delete(key);
  }
  if (!durable) return;
  for (const key of durable.list()) {
    if (!deployedKeys.has(key) && !states.get(key)?.pending) durable.remove(key);
  }
}

/** For tests: forget everything held in memory (as a process restart would). */
export function resetMemory(): void {
  states.clear();
  saveProblems.clear();
}
