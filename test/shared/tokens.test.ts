/**
 * The shared token store (settings.js `ouraAccountTokenStore`) against a real redis-server and the simulator: one
 * Node-RED here, and "other replicas" played by the test through Redis itself (a second connection with the same
 * credentialSecret), so that each rule can be made to happen at the right moment. The three-process tests are in the
 * e2e suite (test/e2e/specs/09-shared-store.e2e.ts).
 */
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ask, askError, assertNoSecrets, authorize, CLIENT_ID, CLIENT_SECRET, creds, Env, helper, load, setUp, sleepFlow, tearDown, watchStatus } from '../support';
import { quiet, RedisServer, requireRedis } from '../redis';
import { TODAY } from '../clock';
import { RedisConnection } from '../../src/lib/store/redis-client';
import { SharedStore } from '../../src/lib/store/shared-store';
import type { TokenRecord } from '../../src/lib/store/record';
import * as tokens from '../../src/lib/store/tokens';
import { until } from '../until';

const SECRET = 'test-credential-secret';

describe('the shared token store (Redis)', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  let env: Env | undefined;
  let prefix: string;
  const others: RedisConnection[] = [];

  before(async function () {
    requireRedis(this);
    redis = await RedisServer.start();
  });
  after(async function () {
    await redis?.stop();
  });

  /** The version of the account's record in Redis now. */
  async function versionNow(store: SharedStore): Promise<number> {
    const r = await store.readRecord('acc1');
    assert.ok(r && r !== 'undecryptable');
    return r.version;
  }

  /** Node-RED with the shared store, its account authorized (in Redis: the consent, then its Oura user's label). */
  async function start(extra: Record<string, unknown> = {}, authorized = true): Promise<void> {
    prefix = `t${crypto.randomBytes(4).toString('hex')}:`;
    env = await setUp({}, { ouraAccountTokenStore: { url: redis.url, prefix, refreshDeadlineSeconds: 2, ...extra } });
    await load(sleepFlow());
    if (authorized) {
      await authorize(env);
      const other = await replica();
      await until('the authorization in Redis', async () => (await other.readRecord('acc1').catch(() => undefined)) !== undefined);
    }
    env.sim.resetStats();
  }

  /** Another Node-RED, as far as Redis can tell: its own connection, the same credentialSecret. */
  async function replica(secret = SECRET): Promise<SharedStore> {
    const conn = new RedisConnection(redis.url, quiet);
    others.push(conn);
    conn.start();
    await until('the second connection', () => conn.ready);
    return new SharedStore(conn, prefix, secret);
  }

  /** What another replica does when it renews: at Oura with the current refresh token, then into Redis. */
  async function renewElsewhere(store: SharedStore, publish: boolean): Promise<TokenRecord> {
    const cur = await store.readRecord('acc1');
    assert.ok(cur && cur !== 'undecryptable');
    const res = await fetch(env!.sim.tokenUrl, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cur.value.refreshToken, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }).toString(),
    });
    const t = await res.json() as { access_token: string; refresh_token: string; expires_in: number };
    const next = { ...cur.value, accessToken: t.access_token, refreshToken: t.refresh_token, expiresAt: Date.now() + t.expires_in * 1000, updatedAt: cur.value.updatedAt + 1 };
    assert.ok(await store.casRecord('acc1', cur.version, cur.version + 1, next));
    if (publish) await store.publish({ kind: 'record', account: 'acc1', version: cur.version + 1 });
    return next;
  }

  /** Every status the flow node showed, kept before each teardown, for the README check at the end. */
  const shown: Array<{ fill?: string; shape?: string; text?: string }> = [];
  afterEach(async function () {
    redis.resume();
    const spy = helper._NodePrototype?.status as { getCalls?(): Array<{ thisValue: { id: string }; args: any[] }> } | undefined;
    if (spy?.getCalls) shown.push(...spy.getCalls().filter((c) => c.thisValue?.id === 'sleep1').map((c) => c.args[0]));
    for (const c of others.splice(0)) await c.close();
    await tearDown(env);
    env = undefined;
  });

  after(function () {
    // The README's table of the shared store's statuses: each shown here, as written.
    const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('With a shared store the flow nodes can also show:'), readme.indexOf('## Webhooks (push instead of polling)'));
    const rows = [...table.matchAll(/^\| (\w+) (dot|ring) \*([^*]+)\* \|/gm)].map((m) => ({ fill: m[1], shape: m[2], text: m[3] }));
    assert.equal(rows.length, 5);
    for (const r of rows) assert.ok(shown.some((s) => s.fill === r.fill && s.shape === r.shape && s.text === r.text), `README row "${r.text}" was shown`);
  });

  it('keeps each account\'s tokens in Redis sealed with the credentialSecret, with a version, and never the URL\'s password in the log', async function () {
    await start();
    const conn = await replica();
    const raw = await conn.redis.call('look', (c) => c.hGetAll(`${prefix}tokens:acc1`));
    assert.equal(raw.version, '2', 'version 1 the consent, version 2 with the Oura user who gave it');
    assertNoSecrets(env!.sim, JSON.stringify(raw), 'Redis');
    const mine = await conn.readRecord('acc1');
    assert.ok(mine && mine !== 'undecryptable' && mine.value.accessToken === tokens.current('acc1')!.accessToken);
    assert.equal(await (await replica('another-secret')).readRecord('acc1'), 'undecryptable', 'another credentialSecret cannot read it');
    assert.match(JSON.stringify(helper.log().args), /Sharing Oura tokens through Redis at redis:\/\/127\.0\.0\.1:\d+/);
  });

  it('takes a newer record another replica stores and announces, without asking Oura', async function () {
    await start();
    const next = await renewElsewhere(await replica(), true);
    await until('the new tokens', () => tokens.current('acc1')?.accessToken === next.accessToken);
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1);
    assert.equal(env!.sim.stats().tokenRequests, 1, 'only the other replica\'s renewal');
  });

  it('a replica that starts takes Redis\' record over its own older credentials', async function () {
    await start();
    const stale = { acc1: creds({ tokens: JSON.stringify(tokens.current('acc1')) }) };
    await helper.unload();
    tokens.resetMemory();
    const next = await renewElsewhere(await replica(), false);
    await load(sleepFlow(), stale);
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1);
    assert.equal(tokens.current('acc1')?.accessToken, next.accessToken);
    assert.equal(env!.sim.stats().refreshReuse, 0);
    assert.equal(env!.sim.stats().tokenRequests, 1);
  });

  it('a lock left by a replica that died: messages wait, saying so, then one renewal after its TTL and no new consent', async function () {
    await start();
    const other = await replica();
    const before = await versionNow(other);
    await other.redis.call('plant', (c) => c.set(`${prefix}lock:tokens:acc1`, 'dead-replica', { PX: 2500 }));
    env!.sim.expireAccessTokens();
    const seen = watchStatus();
    const t0 = Date.now();
    const answers = await Promise.all([ask({ start_date: TODAY }), ask({ start_date: TODAY }), ask({ start_date: TODAY })]);
    assert.ok(answers.every((m) => m.payload.length >= 1));
    assert.ok(Date.now() - t0 >= 1500, 'they waited for the lock to expire');
    assert.ok(seen.some((s) => s.text === 'waiting for another Node-RED' && s.fill === 'yellow'), JSON.stringify(seen));
    const stats = env!.sim.stats();
    assert.deepEqual([stats.refreshes, stats.refreshReuse, stats.codeExchanges], [1, 0, 0]);
    const r = await other.readRecord('acc1');
    assert.ok(r && r !== 'undecryptable' && r.version === before + 1 && r.value.accessToken === tokens.current('acc1')!.accessToken);
  });

  it('"refresh token already used": Redis is read again, and a renewal another replica stored is used instead of a new consent', async function () {
    await start();
    const other = await replica();
    // Our renewal reaches Oura late; meanwhile another replica (whose lock lapsed) renews and stores, without a notice.
    env!.sim.setFaults([{ kind: 'slow', target: 'token', delayMs: 400, count: 1 }]);
    env!.sim.expireAccessTokens();
    const pending = ask({ start_date: TODAY });
    await until('our renewal at Oura', () => env!.sim.stats().tokenRequests === 1);
    const theirs = await renewElsewhere(other, false);
    assert.ok((await pending).payload.length >= 1);
    assert.equal(tokens.current('acc1')?.accessToken, theirs.accessToken);
    assert.equal(env!.sim.stats().refreshReuse, 1, 'ours was refused as already used');
    assert.equal(tokens.current('acc1')?.reauth, undefined, 'no new consent asked for');
  });

  it('the Oura user\'s label stored over the old tokens while this Node-RED renews them: the new tokens stay, with the label, and renew again', async function () {
    await start();
    const other = await replica();
    const old = await other.readRecord('acc1');
    assert.ok(old && old !== 'undecryptable');
    env!.sim.setFaults([{ kind: 'slow', target: 'token', delayMs: 400, count: 1 }]);
    env!.sim.expireAccessTokens();
    const pending = ask({ start_date: TODAY });
    await until('our renewal at Oura', () => env!.sim.stats().tokenRequests === 1);
    // What setUser shares when the user is learned meanwhile (a webhook event): the record it held, labelled.
    const labelled = { ...old.value, user: { id: 'user-label', email: 'label@example.com' } };
    assert.ok(await other.casRecord('acc1', old.version, old.version + 1, labelled));
    await other.publish({ kind: 'record', account: 'acc1', version: old.version + 1 });
    assert.ok((await pending).payload.length >= 1);
    const now = tokens.current('acc1')!;
    assert.notEqual(now.refreshToken, old.value.refreshToken, 'the renewed tokens stay, not the used ones');
    assert.equal(now.user?.id, 'user-label', 'with the label');
    await until('Redis holds them', async () => {
      const r = await other.readRecord('acc1');
      return !!r && r !== 'undecryptable' && r.version > old.version + 1 && r.value.refreshToken === now.refreshToken && r.value.user?.id === 'user-label';
    });
    env!.sim.expireAccessTokens();
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1);
    assert.deepEqual([env!.sim.stats().refreshes, env!.sim.stats().refreshReuse], [2, 0]);
    assert.equal(tokens.current('acc1')?.reauth, undefined, 'no new consent asked for');
  });

  it('Redis restored from an older snapshot: the replica holding newer tokens keeps them, renews with them and puts them back', async function () {
    await start();
    const other = await replica();
    const key = `${prefix}tokens:acc1`;
    // An RDB snapshot taken now, before the next renewal...
    const snapshot = await other.redis.call('snapshot', (c) => c.hGetAll(key));
    env!.sim.expireAccessTokens();
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1);
    const renewed = tokens.current('acc1')!;
    // ... and Redis restarted from it: its record is older than the tokens this Node-RED holds.
    await other.redis.call('restore', (c) => c.eval("return redis.call('HSET', KEYS[1], 'version', ARGV[1], 'data', ARGV[2])", { keys: [key], arguments: [snapshot.version, snapshot.data] }));
    env!.sim.expireAccessTokens();
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1, 'renewed with the newer refresh token it held');
    assert.deepEqual([env!.sim.stats().refreshes, env!.sim.stats().refreshReuse, env!.sim.stats().codeExchanges], [2, 0, 0]);
    assert.equal(tokens.current('acc1')?.reauth, undefined, 'no new consent asked for');
    assert.notEqual(tokens.current('acc1')?.refreshToken, renewed.refreshToken);
    const r = await other.readRecord('acc1');
    assert.ok(r && r !== 'undecryptable' && r.value.refreshToken === tokens.current('acc1')!.refreshToken, 'Redis holds the newest tokens again');
    assert.ok(r.version > Number(snapshot.version) + 1, `a version above any this Node-RED held, so every replica takes it (${r.version})`);
  });

  it('Redis restarted empty, and a replica starting with an older copy stores it there: the one holding newer tokens puts them back at once', async function () {
    await start();
    const other = await replica();
    const older = await other.readRecord('acc1');
    assert.ok(older && older !== 'undecryptable');
    env!.sim.expireAccessTokens();
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1);
    const newer = tokens.current('acc1')!;
    await other.redis.call('empty restart', (c) => c.del(`${prefix}tokens:acc1`));
    // What a replica that was down during the renewal does at its start against an empty Redis.
    assert.ok(await other.casRecord('acc1', 0, 1, older.value));
    await other.publish({ kind: 'record', account: 'acc1', version: 1 });
    await until('the newer tokens back in Redis', async () => {
      const r = await other.readRecord('acc1');
      return !!r && r !== 'undecryptable' && r.version > older.version && r.value.refreshToken === newer.refreshToken;
    });
    assert.equal(tokens.current('acc1')?.refreshToken, newer.refreshToken, 'this Node-RED kept its newer tokens');
    assert.deepEqual([env!.sim.stats().refreshes, env!.sim.stats().refreshReuse], [1, 0]);
  });

  /** Redis restarted empty, and a replica that knew no better stored `record` there at version 1 and said so. */
  async function storedAfterEmptyRestart(other: SharedStore, record: TokenRecord): Promise<void> {
    await other.redis.call('empty restart', (c) => c.del(`${prefix}tokens:acc1`));
    assert.ok(await other.casRecord('acc1', 0, 1, record));
    await other.publish({ kind: 'record', account: 'acc1', version: 1 });
  }

  it('Redis restarted empty, then a new consent in a replica that knew no better (version 1): taken here and raised above every version, never undone', async function () {
    await start();
    const other = await replica();
    env!.sim.expireAccessTokens();
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1);
    const mine = tokens.current('acc1')!;
    const held = await versionNow(other);
    const consent: TokenRecord = {
      ...mine, accessToken: 'consent-access', refreshToken: 'consent-refresh', authorizedAt: mine.updatedAt + 60_000, updatedAt: mine.updatedAt + 60_000,
    };
    await storedAfterEmptyRestart(other, consent);
    await until('the new consent taken here', () => tokens.current('acc1')?.refreshToken === consent.refreshToken);
    await until('the consent raised above every version held', async () => {
      const r = await other.readRecord('acc1');
      return !!r && r !== 'undecryptable' && r.version > held && r.value.refreshToken === consent.refreshToken;
    });
    assert.equal(tokens.current('acc1')?.refreshToken, consent.refreshToken, 'the older tokens were not put back over the consent');
  });

  it('Redis restarted empty, then a Disconnect in a replica that knew no better (version 1): this Node-RED forgets too, and does not put its tokens back', async function () {
    await start();
    const other = await replica();
    const mine = tokens.current('acc1')!;
    const tokenRequests = env!.sim.stats().tokenRequests;
    await storedAfterEmptyRestart(other, { ...mine, forgotten: true, updatedAt: mine.updatedAt + 1 });
    await until('the Disconnect taken here', () => tokens.current('acc1') === undefined);
    const r = await other.readRecord('acc1');
    assert.ok(r && r !== 'undecryptable' && r.value.forgotten === true, 'Redis still says disconnected');
    const e = await askError({ start_date: TODAY });
    assert.equal(e.msg.error.code, 'OURA_NOT_AUTHORIZED');
    assert.equal(env!.sim.stats().tokenRequests, tokenRequests, 'no renewal with the disconnected tokens');
  });

  it('a replica that starts with no tokens of its own while Redis does not answer takes Redis\' record once it answers again', async function () {
    await start();
    const theirs = tokens.current('acc1')!;
    // A new replica: its flows and credentials hold the Client ID and Secret, no tokens, and it has no copy of its own.
    await helper.unload();
    tokens.resetMemory();
    fs.rmSync(path.join(env!.userDir, '.oura-tokens'), { recursive: true, force: true });
    redis.pause();
    await load(sleepFlow());
    await until('the log says it could not read Redis', () => /Could not read account acc1 from the shared token store yet/.test(JSON.stringify(helper.log().args)), 5000);
    redis.resume();
    await until('Redis\' record taken', () => tokens.current('acc1')?.accessToken === theirs.accessToken);
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1);
    assert.equal(env!.sim.stats().tokenRequests, 0);
  });

  it('Redis unreachable: a valid token goes on; a renewal waits for Redis, saying so, and finishes when it is back', async function () {
    await start();
    redis.pause();
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1, 'the access token is still valid');
    env!.sim.expireAccessTokens();
    const seen = watchStatus();
    const pending = ask({ start_date: TODAY });
    await until('the waiting status', () => seen.some((s) => s.text === 'waiting for Redis'));
    assert.equal(env!.sim.stats().tokenRequests, 0, 'no renewal without Redis');
    redis.resume();
    assert.ok((await pending).payload.length >= 1);
    assert.deepEqual([env!.sim.stats().refreshes, env!.sim.stats().refreshReuse], [1, 0]);
  });

  it('Redis goes away after Oura renewed: the new tokens serve from memory, the lock is kept, and the write happens later', async function () {
    await start();
    const other = await replica();
    const before = await versionNow(other);
    env!.sim.setFaults([{ kind: 'slow', target: 'token', delayMs: 300, count: 1 }]);
    env!.sim.expireAccessTokens();
    const pending = ask({ start_date: TODAY });
    await until('our renewal at Oura', () => env!.sim.stats().tokenRequests === 1);
    redis.pause();
    assert.ok((await pending).payload.length >= 1, 'answered with the tokens in memory');
    redis.resume();
    await until('the record in Redis', async () => {
      const r = await other.readRecord('acc1').catch(() => undefined);
      return !!r && r !== 'undecryptable' && r.version === before + 1 && r.value.accessToken === tokens.current('acc1')!.accessToken;
    });
    await until('the lock released', async () => !(await other.lockHeld('tokens:acc1')));
    assert.equal(env!.sim.stats().refreshReuse, 0);
  });

  it('Redis away for longer than a message may wait: it ends in a Catch saying why, and nothing was sent to Oura', async function () {
    await start();
    redis.pause();
    env!.sim.expireAccessTokens();
    const t0 = Date.now();
    const err = await askError({ start_date: TODAY });
    const waited = Date.now() - t0;
    assert.equal(err.msg.error.code, 'OURA_STORE_UNAVAILABLE');
    assert.match(err.message, /did not answer.*nothing was sent to Oura.*recovers by itself/);
    assert.ok(waited >= 9000 && waited < 20_000, `bounded: 4 × the 2 s deadline + 2 s (waited ${waited} ms)`);
    assert.equal(env!.sim.stats().tokenRequests, 0);
    assert.doesNotMatch(err.message, /127\.0\.0\.1:\d+\/\S*:[^@]+@/, 'no credentials of the URL');
  });

  it('another replica renewing for longer than a message may wait: the message ends in a Catch saying so', async function () {
    await start();
    const other = await replica();
    await other.redis.call('plant', (c) => c.set(`${prefix}lock:tokens:acc1`, 'slow-replica', { PX: 30_000 }));
    env!.sim.expireAccessTokens();
    const err = await askError({ start_date: TODAY });
    assert.equal(err.msg.error.code, 'OURA_STORE_TIMEOUT');
    assert.match(err.message, /^Another Node-RED has been renewing the Oura tokens of this account for over 10 s without finishing/);
    assert.equal(env!.sim.stats().tokenRequests, 0);
  });

  it('Disconnect in any Node-RED reaches every one; an authorization elsewhere too', async function () {
    await start();
    const other = await replica();
    const before = await versionNow(other);
    // Disconnect here: the tombstone reaches Redis.
    const res = await helper.request().post('/oura/auth/disconnect/acc1').send({});
    assert.equal(res.body.authorized, false);
    await until('the tombstone in Redis', async () => {
      const r = await other.readRecord('acc1');
      return !!r && r !== 'undecryptable' && r.version === before + 1 && !!r.value.forgotten;
    });
    // Authorized again elsewhere: this one follows.
    await authorize(env!);
    const mine = tokens.current('acc1')!;
    await helper.unload();
    tokens.resetMemory();
    await load(sleepFlow());
    assert.equal(tokens.current('acc1')?.accessToken, mine.accessToken);
    // Disconnected elsewhere: this one follows without a restart.
    const r = await other.readRecord('acc1');
    assert.ok(r && r !== 'undecryptable');
    assert.ok(await other.casRecord('acc1', r.version, r.version + 1, { ...r.value, accessToken: '', refreshToken: '', forgotten: true }));
    await other.publish({ kind: 'record', account: 'acc1', version: r.version + 1 });
    await until('forgotten here', () => tokens.current('acc1') === undefined);
    assert.match((await askError({ start_date: TODAY })).message, /not authorized yet/);
  });

  it('a record it cannot decrypt is reported, never overwritten', async function () {
    await start({}, false);
    const foreign = await replica('another-credential-secret');
    const theirs: TokenRecord = { accessToken: 'a', refreshToken: 'r', expiresAt: 1, scopes: [], clientId: CLIENT_ID, authorizedAt: 1, updatedAt: 1 };
    assert.ok(await foreign.casRecord('acc1', 0, 7, theirs));
    await helper.unload();
    await load(sleepFlow());
    await until('the report', () => /cannot decrypt.*same credentialSecret/.test(JSON.stringify(helper.log().args)));
    await authorize(env!);
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1, 'this Node-RED\'s own tokens still serve');
    env!.sim.expireAccessTokens();
    const t0 = Date.now();
    const refused = await askError({ start_date: TODAY });
    assert.match(refused.message, /cannot decrypt.*same credentialSecret/);
    assert.equal(refused.msg.error.code, 'OURA_STORE_UNREADABLE');
    assert.ok(Date.now() - t0 < 5000, 'no waiting: waiting would not help');
    assert.equal(env!.sim.stats().refreshes, 0, 'nothing renewed over it');
    const still = await foreign.readRecord('acc1');
    assert.ok(still && still !== 'undecryptable' && still.version === 7 && still.value.accessToken === 'a', 'left as it was');
  });

  it('an authorization started in one Node-RED can be finished in another: pending in Redis, sealed, single use', async function () {
    await start({}, false);
    const url = new URL(await (await import('../support')).startAuth());
    const state = url.searchParams.get('state')!;
    const other = await replica();
    const keys = await other.redis.call('keys', (c) => (c as unknown as { keys(p: string): Promise<string[]> }).keys(`${prefix}pending:*`));
    assert.equal(keys.length, 1);
    assert.ok(!keys[0].includes(state), 'the state is not the key');
    const sealed = await other.redis.call('get', (c) => c.get(keys[0]));
    assert.ok(sealed && !sealed.includes(CLIENT_SECRET) && !sealed.includes(state));
    const location = await env!.sim.consent(url.toString());
    const first = await helper.request().get(`/oura/auth/callback${new URL(location).search}`);
    assert.equal(first.status, 200, first.text);
    assert.equal((await helper.request().get(`/oura/auth/callback${new URL(location).search}`)).status, 400, 'single use');
  });

  it('without an explicit credentialSecret the shared store does not start, and the log says why', async function () {
    prefix = 'unused:';
    env = await setUp({}, { credentialSecret: null, ouraAccountTokenStore: { url: redis.url } });
    await load(sleepFlow());
    assert.match(JSON.stringify(helper.log().args), /ouraAccountTokenStore needs an explicit credentialSecret/);
    await authorize(env);
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1, 'each Node-RED keeps its own tokens instead');
  });
});
