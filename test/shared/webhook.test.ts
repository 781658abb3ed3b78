/**
 * `oura webhook` with the shared store: an event reaches the flows once across replicas (the others are played by
 * the test through Redis), Redis away means 503 so Oura retries, and one replica at a time looks after the
 * subscriptions. The three-process version is in the e2e suite.
 */
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import { accountConfig, authorize, creds, Env, helper, placed, setUp, tearDown } from '../support';
import { RedisServer, requireRedis } from '../redis';
import { request } from '../../sim/http';
import { RedisConnection } from '../../src/lib/store/redis-client';
import { SharedStore } from '../../src/lib/store/shared-store';
import { eventKey } from '../../src/lib/webhook/events';
import * as tokens from '../../src/lib/store/tokens';
import { until } from '../until';

const webhookModule = require('../../src/oura-webhook');
const accountNode = require('../../src/oura-account');
const VERIFY = 'verify-token-for-shared-tests-0123';
const PATH = '/oura/hook';

function webhookNode(red: any) {
  helper._app.use('/', red.httpNode);
  return webhookModule(red);
}

describe('oura webhook with the shared store (Redis)', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  let env: Env | undefined;
  let prefix: string;
  let other: SharedStore;
  let conn: RedisConnection;
  let out: any[];

  before(async function () {
    requireRedis(this);
    redis = await RedisServer.start();
  });
  after(async function () {
    await redis?.stop();
  });

  async function start(props: Record<string, unknown> = {}): Promise<void> {
    prefix = `w${crypto.randomBytes(4).toString('hex')}:`;
    env = await setUp({}, { ouraAccountTokenStore: { url: redis.url, prefix, refreshDeadlineSeconds: 2 } });
    await helper.load([accountNode, webhookNode], placed([
      { id: 'tab', type: 'tab', label: 'test' }, accountConfig('acc1'),
      { id: 'hook', z: 'tab', type: 'oura webhook', account: 'acc1', path: PATH, baseUrl: helper.url(), fetch: false, maxAge: '', wires: [['out']], ...props },
      { id: 'out', z: 'tab', type: 'helper' },
    ]), { acc1: creds(), hook: { verificationToken: VERIFY } });
    await authorize(env, 'acc1');
    out = [];
    helper.getNode('out').on('input', (m: any) => out.push(m));
    conn = new RedisConnection(redis.url, { warn: () => undefined });
    conn.start();
    await until('the test\'s connection', () => conn.ready);
    other = new SharedStore(conn, prefix, 'test-credential-secret');
  }

  afterEach(async function () {
    redis.resume();
    await conn?.close();
    await tearDown(env);
    env = undefined;
  });

  const event = (n: number) => ({
    event_type: 'create', data_type: 'daily_sleep', object_id: `doc-${n}`, event_time: '2026-11-23T07:00:00+00:00', user_id: tokens.current('acc1')!.user!.id!,
  });

  it('hands an event to the flows once across replicas: one another replica delivered is a duplicate here', async function () {
    await start();
    const mine = event(1);
    assert.equal((await env!.sim.sendEvent(`${helper.url()}${PATH}`, mine)).status, 200);
    await until('the message', () => out.length === 1);
    // Another replica got event 2 first and claimed it.
    const theirs = event(2);
    assert.ok(await other.claim(`webhook:${PATH}:${eventKey(theirs as never)}`, 60_000));
    const dup = await env!.sim.sendEvent(`${helper.url()}${PATH}`, theirs);
    assert.equal(dup.status, 200);
    assert.equal(JSON.parse(dup.body).status, 'duplicate');
    // The same delivery posted again (an Oura retry at this replica) is a duplicate too.
    assert.equal(JSON.parse((await env!.sim.sendEvent(`${helper.url()}${PATH}`, mine)).body).status, 'duplicate');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(out.length, 1);
  });

  it('with Redis away, answers 503 so that Oura retries, and delivers the retry once Redis is back', async function () {
    await start();
    redis.pause();
    const e = event(3);
    const first = await env!.sim.sendEvent(`${helper.url()}${PATH}`, e);
    assert.equal(first.status, 503);
    assert.equal(out.length, 0);
    redis.resume();
    await until('Redis again', () => conn.ready);
    const retry = await env!.sim.sendEvent(`${helper.url()}${PATH}`, e);
    assert.equal(retry.status, 200);
    await until('the message', () => out.length === 1);
  });

  it('a delivery that failed (the document could not be fetched) is let go, so Oura\'s retry can deliver it anywhere', async function () {
    await start({ fetch: true });
    env!.sim.setFaults([{ kind: '500', count: 10 }]);
    const e = { ...event(4), object_id: 'no-such-document' };
    assert.equal((await env!.sim.sendEvent(`${helper.url()}${PATH}`, e)).status, 200);
    const name = `webhook:${PATH}:${eventKey(e as never)}`;
    await until('the claim let go', async () => (await other.claim(name, 1000)) === true);
  });

  it('looks after the subscriptions only when no other replica does (a lock per callback URL)', async function () {
    await start({ subscribe: true, eventTypes: ['create'], dataTypes: ['daily_sleep'] });
    await until('the subscription', async () => JSON.parse((await request(`${env!.sim.url}/_sim/webhooks`)).body).length === 1);
    // Another replica holds the lock: this one leaves the subscriptions alone.
    await helper.unload();
    const subsBefore = JSON.parse((await request(`${env!.sim.url}/_sim/webhooks`)).body);
    await request(`${env!.sim.url}/_sim/reset-stats`, { method: 'POST', body: '{}' });
    const lock = await other.tryLock(`webhook-subscriptions:${helper.url()}${PATH}`, 10_000);
    assert.ok(lock);
    const sets = async () => Number(/cmdstat_set:calls=(\d+)/.exec(await conn.call('info', (c) => (c as unknown as { info(s: string): Promise<string> }).info('commandstats')))?.[1] ?? 0);
    const setsBefore = await sets();
    await helper.load([accountNode, webhookNode], placed([
      { id: 'tab', type: 'tab', label: 'test' }, accountConfig('acc1'),
      { id: 'hook', z: 'tab', type: 'oura webhook', account: 'acc1', path: PATH, baseUrl: helper.url(), fetch: false, maxAge: '', subscribe: true, eventTypes: ['create', 'update'], dataTypes: ['daily_sleep'], wires: [[]] },
    ]), { acc1: creds(), hook: { verificationToken: VERIFY } });
    // The node tried to take the lock (a SET NX in Redis), found it held, and left it there.
    await until('the node\'s try for the lock', async () => (await sets()) > setsBefore);
    const stats = JSON.parse((await request(`${env!.sim.url}/_sim/stats`)).body);
    assert.equal(stats.byPath['/v2/webhook/subscription'] ?? 0, 0, 'it did not even list them');
    assert.deepEqual(JSON.parse((await request(`${env!.sim.url}/_sim/webhooks`)).body), subsBefore);
    await lock!.release();
  });
});
