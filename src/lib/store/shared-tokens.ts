/**
 * Tokens shared by several Node-REDs through Redis. Oura's refresh tokens are single-use, so only one replica may
 * renew an account at a time, under a lock that cannot lapse mid-request:
 * - one hard deadline D for a whole renewal (every attempt); the lock lives 2·D, is taken with SET NX PX and a random
 *   value, extended (compare-and-PEXPIRE) before each request, so no request leaves with less than D left on it;
 * - the result is stored with a compare-and-set on the record's version (never a wall clock across hosts); if storing
 *   fails, the new tokens stay in memory and the lock is kept while the write is retried;
 * - on "refresh token already used", Redis is read again before declaring that a new consent is needed;
 * - the lock is released by compare-and-delete; waiters are woken by pub/sub, also poll, and always re-read;
 * - versions only grow while Redis keeps its data: a record older than the one a replica holds means Redis lost writes
 *   (restarted empty, or from an older snapshot), so that replica's tokens win and go back in, and every write takes a
 *   version above both, so that every replica takes it.
 * With Redis unreachable, a still-valid access token goes on being used, and a renewal waits for Redis instead of
 * risking a reuse.
 */
import { ReauthRequiredError, TokenError } from '../errors';
import { revokeTokens } from '../oauth/revoke';
import { isRefreshRefused, isRefreshTokenReused, requestToken, TokenSet } from '../oauth/token-requests';
import { timing } from '../retry';
import { DeployedClient, isNewer, renewed, stillHeld, TokenRecord } from './record';
import { StoreUnavailableError, StoreUnreadableError } from './redis-client';
import { Notices, pause, pauseBeforeRetry } from './notices';
import { RecordSync } from './shared-records';
import { LocalTokens, Messages, SharedOptions, StoreTimeoutError } from './shared-contract';
import { Lock, SharedStore, Versioned } from './shared-store';
import { t } from '../i18n';

export type { LocalTokens, Messages, SharedOptions } from './shared-contract';
export { StoreTimeoutError } from './shared-contract';

export class SharedTokens {
  private readonly notices = new Notices();
  private readonly sync: RecordSync;
  private stopListening?: () => void;
  private stopped = false;

  constructor(readonly store: SharedStore, private readonly local: LocalTokens, private readonly o: SharedOptions, private readonly text: Messages) {
    this.sync = new RecordSync(store, local);
  }

  get lockTtlMs(): number {
    return 2 * this.o.deadlineMs;
  }

  /** Follows what other replicas write: a newer version replaces what this one holds. */
  start(): void {
    this.stopped = false;
    this.stopListening ??= this.store.onEvent((e) => {
      if (e.kind === 'record') {
        this.notices.tell(`record:${e.account}`);
        this.sync.heard(e.account, e.version);
      } else {
        this.notices.tell(`unlock:${e.name}`);
      }
    });
  }

  stop(): void {
    this.stopped = true;
    this.stopListening?.();
    this.stopListening = undefined;
  }

  /**
   * At an account's start: Redis' record wins over what this replica brought (its credentials may be older). With no
   * record there yet, this replica's own becomes the first one.
   */
  async adoptAtStart(key: string, report: (msg: string) => void): Promise<void> {
    const r = await this.store.readRecord(key);
    if (r === 'undecryptable') {
      report(undecryptableText(key));
      return;
    }
    if (r) {
      const mine = this.local.get(key);
      // A redeploy after Redis lost writes: this replica's newer tokens go back in.
      if (mine.record && this.sync.olderThanMine(key, r)) await this.sync.write(key, mine.record, r.version);
      else if (!(r.version < (mine.version ?? 0) && (await this.sync.raise(key, r)))) this.sync.adoptRemote(key, r);
      return;
    }
    const mine = this.local.get(key);
    if (mine.record && !mine.record.forgotten) await this.sync.write(key, mine.record, 0);
  }

  /** A new consent, a user label, a Disconnect: written over whatever version is there (re-read on a race). */
  async put(key: string, record: TokenRecord): Promise<number> {
    for (;;) {
      const now = this.local.get(key);
      // Replaced here meanwhile (the user's label right after a consent): the newer record is written by its own put.
      if (!stillHeld(now.record, record)) return this.sync.mineVersion(key);
      const r = await this.store.readRecord(key);
      if (r === 'undecryptable') throw new StoreUnreadableError(undecryptableText(key));
      if (await this.sync.write(key, record, r?.version ?? 0)) return this.sync.mineVersion(key);
    }
  }

  private usable(rec: TokenRecord, stale: string): boolean {
    return !rec.forgotten && !rec.reauth && rec.accessToken !== stale && rec.expiresAt - this.o.marginMs > timing.now();
  }

  /** Renews the account's tokens, or takes the ones another replica just renewed. */
  async refresh(key: string, client: DeployedClient, stale: string): Promise<TokenRecord> {
    const giveUpAt = timing.now() + this.o.maxWaitMs;
    const lockName = `tokens:${key}`;
    try {
      for (;;) {
        try {
          const remote = await this.store.readRecord(key);
          if (remote === 'undecryptable') throw new StoreUnreadableError(undecryptableText(key));
          const settled = this.settled(key, remote, stale);
          if (settled) return settled;
          const lock = await this.store.tryLock(lockName, this.lockTtlMs);
          if (lock) return await this.renewUnderLock(key, client, stale, lock);
          await this.waitForChange(key, lockName, giveUpAt);
        } catch (err) {
          if (!(err instanceof StoreUnavailableError) || err instanceof StoreTimeoutError) throw err;
          if (timing.now() >= giveUpAt) {
            throw new StoreUnavailableError(t('oura.store.renewOnlyThroughRedis', { message: err.message }));
          }
          this.local.waiting(key, t('oura.status.waitingForRedis'));
          await pause(Math.min(this.o.pollMs * 2, 1000));
        }
      }
    } finally {
      this.local.waiting(key, undefined);
    }
  }

  /** Redis already holds what a waiter needs (someone renewed, refused or disconnected): take it. */
  private settled(key: string, remote: Versioned<TokenRecord> | undefined, stale: string): TokenRecord | undefined {
    // Older than what this replica holds (Redis lost writes): nothing to take.
    if (!remote || this.sync.olderThanMine(key, remote)) return undefined;
    // Newer, at a lower version: a consent or Disconnect stored after Redis restarted empty (restore raises it).
    const lower = remote.version < this.sync.mineVersion(key);
    const rec = remote.value;
    if (rec.forgotten) {
      this.sync.adoptRemote(key, remote);
      throw this.text.notAuthorized();
    }
    if (rec.reauth && (lower || remote.version > this.sync.mineVersion(key))) {
      this.sync.adoptRemote(key, remote);
      throw new ReauthRequiredError(rec.reauth);
    }
    if (!this.usable(rec, stale)) return undefined;
    this.sync.adoptRemote(key, remote);
    return rec;
  }

  private async renewUnderLock(key: string, client: DeployedClient, stale: string, lock: Lock): Promise<TokenRecord> {
    let keepLock = false;
    try {
      // Under the lock, read once more: the replica that held it before may just have stored new tokens.
      const cur = await this.store.readRecord(key);
      if (cur === 'undecryptable') throw new StoreUnreadableError(undecryptableText(key));
      const settled = this.settled(key, cur, stale);
      if (settled) return settled;
      const mine = this.local.get(key);
      // With no record in Redis, or an older one than this replica's (Redis lost writes), this replica's own tokens
      // are the best there is.
      const base = cur && !this.sync.olderThanMine(key, cur) ? cur.value : mine.record;
      const baseVersion = cur?.version ?? 0;
      const version = this.sync.nextVersion(key, baseVersion);
      if (!base || base.forgotten) throw this.text.notAuthorized();
      if (base.reauth) throw new ReauthRequiredError(base.reauth);
      if (base.clientId && base.clientId !== client.clientId) throw this.text.otherClient();
      let tokens: TokenSet;
      try {
        tokens = await requestToken({ grant_type: 'refresh_token', refresh_token: base.refreshToken }, client, {
          configuredUrl: client.tokenUrl,
          role: base.tokenRole,
          deadline: timing.now() + this.o.deadlineMs,
          // No request leaves unless the lock has a full 2·D ahead of it again.
          beforeAttempt: async () => {
            if (!(await lock.extend(this.lockTtlMs))) throw new TokenError(t('oura.store.lockLapsed'));
          },
        });
      } catch (err) {
        if (isRefreshRefused(err)) return await this.refused(key, err as TokenError, stale, base, cur, baseVersion, version);
        throw err;
      }
      const next = renewed(base, tokens, timing.now());
      const now = this.local.get(key);
      if (mine.record && !now.record && (now.version ?? 0) === (mine.version ?? 0)) {
        // Disconnected here while Oura was answering: these tokens must not come back.
        void revokeTokens({ ...tokens, role: next.tokenRole }, client);
        throw this.text.notAuthorized();
      }
      // The old refresh token is dead now: memory first, then Redis.
      this.local.adopt(key, next, version);
      const stored = await this.store.casRecord(key, baseVersion, version, next).then(
        (ok) => (ok ? 'stored' : 'conflict'),
        () => 'unavailable',
      );
      if (stored === 'conflict') return await this.conflict(key, next, tokens, client);
      if (stored === 'unavailable') {
        keepLock = true;
        void this.storeLater(key, baseVersion, version, next, lock);
        return next;
      }
      await this.sync.announce(key, version);
      return next;
    } finally {
      if (!keepLock) await lock.release().catch(() => undefined);
    }
  }

  /** Oura refused the refresh. "Already used": maybe another replica renewed without us hearing of it. */
  private async refused(
    key: string, err: TokenError, stale: string, base: TokenRecord, cur: Versioned<TokenRecord> | undefined, baseVersion: number, version: number,
  ): Promise<TokenRecord> {
    if (isRefreshTokenReused(err)) {
      const again = await this.store.readRecord(key).catch(() => undefined);
      if (again && again !== 'undecryptable' && again.version > baseVersion) {
        const settled = this.settled(key, again, stale);
        if (settled) return settled;
      }
    }
    const reason = this.text.refusal(err);
    const dead: TokenRecord = { ...base, reauth: reason };
    if (cur && (await this.store.casRecord(key, baseVersion, version, dead).catch(() => false))) {
      this.local.adopt(key, dead, version);
      await this.sync.announce(key, version);
    } else {
      // Redis had nothing (an empty restart) or changed: this replica's copy may just be the stale one. Say so
      // here only; a replica with the current tokens, or a new consent, heals the others.
      this.local.adopt(key, dead, this.sync.mineVersion(key));
    }
    throw new ReauthRequiredError(reason);
  }

  /** The version moved under us (the lock lapsed, or a Disconnect or consent elsewhere): Redis decides. */
  private async conflict(key: string, next: TokenRecord, tokens: TokenSet, client: DeployedClient): Promise<TokenRecord> {
    const r = await this.store.readRecord(key).catch(() => undefined);
    if (!r || r === 'undecryptable') return next;
    if (r.value.refreshToken === next.refreshToken) return next;
    if (!r.value.forgotten && r.value.authorizedAt === next.authorizedAt && isNewer(next, r.value)) {
      // Written meanwhile over the tokens this renewal replaced (the Oura user's label): the new tokens stay, labelled.
      const labelled: TokenRecord = { ...next, user: r.value.user ?? next.user };
      this.local.adopt(key, labelled, this.sync.mineVersion(key));
      if (await this.sync.write(key, labelled, r.version).catch(() => false)) return labelled;
      return await this.conflict(key, labelled, tokens, client);
    }
    this.sync.adoptRemote(key, r);
    if (r.value.forgotten || r.value.authorizedAt > next.authorizedAt) {
      void revokeTokens({ ...tokens, role: next.tokenRole }, client);
      if (r.value.forgotten) throw this.text.notAuthorized();
    }
    return r.value;
  }

  /** Redis went away after Oura answered: keep the tokens in memory, keep the lock, write when Redis is back. */
  private async storeLater(key: string, baseVersion: number, version: number, next: TokenRecord, lock: Lock): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await pauseBeforeRetry(attempt, 5000);
      // Stopped (Node-RED shuts down), or replaced or disconnected here meanwhile: nothing left to write.
      if (this.stopped || this.local.get(key).record !== next) return;
      try {
        await lock.extend(this.lockTtlMs);
        if (await this.store.casRecord(key, baseVersion, version, next)) {
          await this.sync.announce(key, version);
        } else {
          // Someone wrote meanwhile (a Disconnect or a consent elsewhere): theirs stands.
          const r = await this.store.readRecord(key);
          if (r && r !== 'undecryptable' && r.value.refreshToken !== next.refreshToken) this.sync.adoptRemote(key, r);
        }
        await lock.release().catch(() => undefined);
        return;
      } catch {
        // still unreachable: try again
      }
    }
  }

  /** Until another replica stores new tokens or lets go of the lock (pub/sub), or the next poll. */
  private waitForChange(key: string, lockName: string, giveUpAt: number): Promise<void> {
    const left = giveUpAt - timing.now();
    if (left <= 0) {
      return Promise.reject(new StoreTimeoutError(t('oura.store.renewalElsewhereTooLong', { seconds: Math.round(this.o.maxWaitMs / 1000) })));
    }
    this.local.waiting(key, t('oura.status.waitingForReplica'));
    return this.notices.next([`record:${key}`, `unlock:${lockName}`], Math.min(this.o.pollMs, left));
  }
}

function undecryptableText(key: string): string {
  return t('oura.store.undecryptableShared', { key });
}
