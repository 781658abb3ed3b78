/**
 * What several Node-REDs share through Redis: each account's current tokens (sealed, with a version counter that
 * says which is newer, never a wall clock), short-lived locks, pending authorizations, webhook deliveries already
 * handed to a flow, and a channel that tells the replicas when something changed.
 *
 * Keys (under the configured prefix, default `oura:`): `tokens:<account>` (hash: version, data), `lock:<name>`,
 * `pending:<sha256(state)>`, `once:<name>`; channel `events`.
 */
import * as crypto from 'crypto';
import type { TokenRecord } from './record';
import { RedisConnection } from './redis-client';
import { deriveKey, Key, open, parseEnvelope, seal } from './sealed';
import { t } from '../i18n';

export interface Versioned<T> {
  version: number;
  value: T;
}

export type ReadRecord = Versioned<TokenRecord> | undefined | 'undecryptable';

export type StoreEvent = { kind: 'record'; account: string; version: number } | { kind: 'unlock'; name: string };

export interface Lock {
  /** Compare-and-PEXPIRE: false when the lock is not ours any more. */
  extend(ttlMs: number): Promise<boolean>;
  /** Compare-and-delete. */
  release(): Promise<void>;
}

const FORMAT = 1;

const CAS = `local v = redis.call('HGET', KEYS[1], 'version')
if (v == false and ARGV[1] == '0') or v == ARGV[1] then
  redis.call('HSET', KEYS[1], 'version', ARGV[2], 'data', ARGV[3])
  return 1
end
return 0`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

export class SharedStore {
  private readonly key: Key;
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private subscribed?: Promise<unknown>;

  constructor(readonly redis: RedisConnection, readonly prefix: string, credentialSecret: string) {
    this.key = deriveKey(credentialSecret);
  }

  private aad(kind: string, id: string): Buffer {
    return Buffer.from(`node-red-oura shared v${FORMAT}\0${kind}\0${id}`, 'utf8');
  }

  private sealJson(kind: string, id: string, value: unknown): string {
    return JSON.stringify({ v: FORMAT, ...seal(this.key, JSON.stringify(value), this.aad(kind, id)) });
  }

  private openJson<T>(kind: string, id: string, text: string): T | undefined {
    const env = parseEnvelope(text, [FORMAT]);
    if (!env) return undefined;
    try {
      return JSON.parse(open(this.key.key, env, this.aad(kind, id)).toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }

  /** The account's tokens and their version; `undecryptable` is reported by the caller and never overwritten. */
  async readRecord(account: string): Promise<ReadRecord> {
    const h = await this.redis.call(t('oura.store.op.readTokens'), (c) => c.hGetAll(`${this.prefix}tokens:${account}`));
    if (!h || h.version === undefined) return undefined;
    const value = h.data === undefined ? undefined : this.openJson<TokenRecord>('tokens', account, h.data);
    if (!value) return 'undecryptable';
    return { version: Number(h.version), value };
  }

  /** Writes `record` as `version` only when the stored version is still `expected` (0 = no record yet). */
  async casRecord(account: string, expected: number, version: number, record: TokenRecord): Promise<boolean> {
    const data = this.sealJson('tokens', account, record);
    const done = await this.redis.call(t('oura.store.op.writeTokens'), (c) => c.eval(CAS, { keys: [`${this.prefix}tokens:${account}`], arguments: [String(expected), String(version), data] }));
    return Number(done) === 1;
  }

  /** SET NX PX with a random value: a lock only its taker can extend or release. */
  async tryLock(name: string, ttlMs: number): Promise<Lock | undefined> {
    const key = `${this.prefix}lock:${name}`;
    const value = crypto.randomBytes(16).toString('hex');
    const ok = await this.redis.call(t('oura.store.op.takeLock'), (c) => c.set(key, value, { NX: true, PX: ttlMs }));
    if (ok !== 'OK') return undefined;
    return {
      extend: async (ms) => Number(await this.redis.call(t('oura.store.op.extendLock'), (c) => c.eval(EXTEND, { keys: [key], arguments: [value, String(ms)] }))) === 1,
      release: async () => {
        await this.redis.call(t('oura.store.op.releaseLock'), (c) => c.eval(RELEASE, { keys: [key], arguments: [value] }));
        await this.publish({ kind: 'unlock', name });
      },
    };
  }

  async lockHeld(name: string): Promise<boolean> {
    return (await this.redis.call(t('oura.store.op.lookAtLock'), (c) => c.exists(`${this.prefix}lock:${name}`))) === 1;
  }

  /** An authorization started in any replica, for its 10 minutes; the state itself is not in the key. */
  async putPending(state: string, value: unknown, ttlMs: number): Promise<void> {
    await this.redis.call(t('oura.store.op.saveAuthorization'), (c) => c.set(`${this.prefix}pending:${sha(state)}`, this.sealJson('pending', state, value), { PX: ttlMs }));
  }

  /** Single use across replicas: GETDEL. */
  async takePending<T>(state: string): Promise<T | undefined> {
    const text = await this.redis.call(t('oura.store.op.takeAuthorization'), (c) => c.getDel(`${this.prefix}pending:${sha(state)}`));
    return text ? this.openJson<T>('pending', state, text) : undefined;
  }

  async peekPending<T>(state: string): Promise<T | undefined> {
    const text = await this.redis.call(t('oura.store.op.lookAtAuthorization'), (c) => c.get(`${this.prefix}pending:${sha(state)}`));
    return text ? this.openJson<T>('pending', state, text) : undefined;
  }

  /** True for the first caller within `ttlMs` (SET NX): a webhook delivery handed to the flows once across replicas. */
  async claim(name: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.call(t('oura.store.op.claim'), (c) => c.set(`${this.prefix}once:${sha(name)}`, '1', { NX: true, PX: ttlMs }))) === 'OK';
  }

  async keepClaim(name: string, ttlMs: number): Promise<void> {
    await this.redis.call(t('oura.store.op.keepClaim'), (c) => c.pExpire(`${this.prefix}once:${sha(name)}`, ttlMs));
  }

  async dropClaim(name: string): Promise<void> {
    await this.redis.call(t('oura.store.op.dropClaim'), (c) => c.del(`${this.prefix}once:${sha(name)}`));
  }

  async publish(e: StoreEvent): Promise<void> {
    await this.redis.call(t('oura.store.op.publish'), (c) => c.publish(`${this.prefix}events`, JSON.stringify(e)));
  }

  /** Hears what other replicas changed (and this one: a listener must be idempotent). */
  onEvent(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.subscribed) {
      this.subscribed = this.redis.sub.subscribe(`${this.prefix}events`, (message: string) => {
        let e: StoreEvent;
        try {
          e = JSON.parse(message) as StoreEvent;
        } catch {
          return;
        }
        for (const l of this.listeners) l(e);
      }).catch(() => {
        // the subscriber connection re-subscribes by itself when it reconnects
      });
    }
    return () => this.listeners.delete(listener);
  }
}
