/**
 * The shared store's pieces below Node-RED, against a real redis-server: the connection right after a start. (The
 * rules as a user meets them are in tokens.test.ts.)
 */
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import { RedisServer, requireRedis } from '../redis';
import { RedisConnection, StoreUnavailableError } from '../../src/lib/store/redis-client';

const quiet = { warn: () => undefined };

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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

  it('a command that found no connection before its deadline is never sent later', async function () {
    await redis.stop();
    const c = connect();
    const key = `late-${crypto.randomBytes(4).toString('hex')}`;
    await assert.rejects(c.call('write', (x) => x.set(key, '1'), 300), StoreUnavailableError);
    await redis.run();
    await until('connected again', () => c.ready);
    assert.equal(await c.call('look', (x) => x.exists(key)), 0, 'the write the caller gave up on did not happen');
  });
});
