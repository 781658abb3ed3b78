/**
 * The shared store's pieces below Node-RED, against a real redis-server: the connection right after a start, and what
 * a replica keeps when its own writes overlap. (The rules as a user meets them are in tokens.test.ts.)
 */
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import { quiet, RedisServer, requireRedis } from '../redis';
import { RedisConnection, StoreUnavailableError } from '../../src/lib/store/redis-client';
import { SharedStore } from '../../src/lib/store/shared-store';
import { LocalTokens, SharedTokens } from '../../src/lib/store/shared-tokens';
import type { TokenRecord } from '../../src/lib/store/record';
import { until } from '../until';

describe('the shared store\'s connection and writes (Redis)', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  const conns: RedisConnection[] = [];

  before(async function () {
    requireRedis(this);
    redis = await RedisServer.start();
  });
  afterEach(async function () {
    redis.resume();
    for (const c of conns.splice(0)) await c.close();
  });
  after(async function () {
    await redis?.stop();
  });

  function connect(): RedisConnection {
    const c = new RedisConnection(redis.url, quiet);
    conns.push(c);
    c.start();
    return c;
  }

  it('a command sent while the connection is still being made (a Node-RED that just started) waits for it', async function () {
    const c = connect();
    assert.equal(c.ready, false, 'not connected yet');
    assert.equal(await c.call('look', (x) => x.exists('nothing-here')), 0);
  });

  it('many commands sent while the connection is being made (several accounts, webhooks, an Authorize) all go through, with no Node.js listener warning', async function () {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const c = connect();
      assert.equal(c.ready, false, 'not connected yet');
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => c.call(`look ${i}`, (x) => x.exists(`nothing-${i}`))));
      assert.deepEqual(answers, Array(40).fill(0));
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings.filter((w) => w === 'MaxListenersExceededWarning'), []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a command that found no connection before its deadline is never sent later', async function () {
    await redis.stop();
    const c = connect();
    const key = `late-${crypto.randomBytes(4).toString('hex')}`;
    await assert.rejects(c.call('write', (x) => x.set(key, '1'), 300), StoreUnavailableError);
    await redis.run();
    await until('connected again', () => c.ready);
    assert.equal(await c.call('look', (x) => x.exists(key)), 0, 'the write the caller gave up on did not happen');
  });

  it('a newer record made here while an older one is being written (the Oura user\'s label right after a consent) stays', async function () {
    const c = connect();
    await until('connected', () => c.ready);
    const store = new SharedStore(c, `c${crypto.randomBytes(4).toString('hex')}:`, 'test-credential-secret');
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const cas = store.casRecord.bind(store);
    store.casRecord = async (...args) => {
      await gate;
      return cas(...args);
    };
    const held = new Map<string, { record?: TokenRecord; version?: number }>();
    const local: LocalTokens = {
      get: (key) => ({ ...held.get(key) }),
      adopt: (key, record, version) => held.set(key, { record, version }),
      waiting: () => undefined,
    };
    const shared = new SharedTokens(store, local, { deadlineMs: 2000, maxWaitMs: 10_000, pollMs: 500, marginMs: 60_000 }, {
      notAuthorized: () => new Error('not authorized') as never, otherClient: () => new Error('other client'), refusal: () => 'refused',
    });
    const consent: TokenRecord = { accessToken: 'a1', refreshToken: 'r1', expiresAt: Date.now() + 86_400_000, scopes: [], clientId: 'c', authorizedAt: 1, updatedAt: 1 };
    const labelled: TokenRecord = { ...consent, user: { id: 'user-1' } };
    held.set('acc1', { record: consent });
    const first = shared.put('acc1', consent);
    // While the consent is on its way to Redis, the Oura user is learned: the label goes on the record here.
    held.set('acc1', { record: labelled });
    open();
    await first;
    assert.equal(held.get('acc1')?.record, labelled, 'the label stayed on the record here');
    await shared.put('acc1', labelled);
    const r = await store.readRecord('acc1');
    assert.ok(r && r !== 'undecryptable');
    assert.deepEqual([r.version, r.value.user?.id, held.get('acc1')?.version], [2, 'user-1', 2]);
  });
});
