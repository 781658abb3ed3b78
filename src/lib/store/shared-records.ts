/**
 * Keeps this replica's record and Redis' in step. Versions only grow while Redis keeps its data; when it lost writes
 * (restarted empty, or from an older snapshot), the newer record wins and goes back in above every version, so that
 * every replica takes it.
 */
import { isNewer, stillHeld, TokenRecord } from './record';
import type { LocalTokens } from './shared-contract';
import type { SharedStore, Versioned } from './shared-store';

export class RecordSync {
  constructor(private readonly store: SharedStore, private readonly local: LocalTokens) {}

  /** Another replica announced `version`: take a newer record, or put ours back if Redis lost it. */
  heard(key: string, version: number): void {
    const mine = this.mineVersion(key);
    if (version > mine) void this.follow(key);
    // Redis lost writes and another replica just stored an older record there (its own copy): ours go back in.
    else if (version < mine) void this.restore(key);
  }

  async follow(key: string): Promise<void> {
    try {
      const r = await this.store.readRecord(key);
      if (r && r !== 'undecryptable' && r.version > this.mineVersion(key)) this.adoptRemote(key, r);
    } catch {
      // Redis went away again: the next notice or renewal reads it
    }
  }

  /** Redis holds a lower version than this replica: put ours back (Redis lost writes), or raise a newer record. */
  async restore(key: string): Promise<void> {
    // A write that loses its compare-and-set to another replica's looks again.
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const r = await this.store.readRecord(key);
        const mine = this.local.get(key);
        if (r === 'undecryptable' || (r?.version ?? 0) >= (mine.version ?? 0)) return;
        if (r && !this.olderThanMine(key, r)) {
          if (await this.raise(key, r)) return;
        } else if (!mine.record || (await this.write(key, mine.record, r?.version ?? 0))) {
          return;
        }
      } catch {
        return; // Redis went away again: the next renewal puts them back
      }
    }
  }

  /**
   * Versions only grow while Redis keeps its data, so a lower version than this replica's is older: Redis lost
   * writes. Except when its record is newer than the one held here: a replica that knew no better (Redis restarted
   * empty) stored a new consent or a Disconnect at a low version. Only then are the records' times compared.
   */
  olderThanMine(key: string, remote: Versioned<TokenRecord>): boolean {
    const mine = this.local.get(key);
    return remote.version < (mine.version ?? 0) && !(mine.record && isNewer(remote.value, mine.record));
  }

  /** A newer record stored at a low version goes above every replica's version, so that all of them take it. */
  async raise(key: string, r: Versioned<TokenRecord>): Promise<boolean> {
    const version = this.nextVersion(key, r.version);
    if (!(await this.store.casRecord(key, r.version, version, r.value))) return false;
    this.adoptRemote(key, { version, value: r.value });
    await this.announce(key, version);
    return true;
  }

  /** The version this replica holds (0: none). */
  mineVersion(key: string): number {
    return this.local.get(key).version ?? 0;
  }

  /** A write over `expected`: above Redis' version and above this replica's, which may be higher if Redis lost writes. */
  nextVersion(key: string, expected: number): number {
    return Math.max(expected, this.mineVersion(key)) + 1;
  }

  adoptRemote(key: string, r: Versioned<TokenRecord>): void {
    this.local.adopt(key, r.value.forgotten ? undefined : r.value, r.version);
  }

  async write(key: string, record: TokenRecord, expected: number): Promise<boolean> {
    const version = this.nextVersion(key, expected);
    const ok = await this.store.casRecord(key, expected, version, record);
    if (ok) {
      const now = this.local.get(key);
      if (stillHeld(now.record, record)) this.local.adopt(key, record.forgotten ? undefined : record, version);
      // A newer record made here meanwhile (the Oura user's label, right after a consent) stays: it is written next.
      else this.local.adopt(key, now.record, Math.max(version, now.version ?? 0));
      await this.announce(key, version);
    }
    return ok;
  }

  /** Tells the other replicas that Redis holds `version` now (best effort: they also read it at their next need). */
  async announce(key: string, version: number): Promise<void> {
    await this.store.publish({ kind: 'record', account: key, version }).catch(() => undefined);
  }
}
