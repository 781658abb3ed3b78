import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  ask, askError, assertNoSecrets, authorize, creds, Env, helper, load, placed, setUp, sleepFlow, tearDown, watchStatus,
} from '../support';
import * as tokens from '../../src/lib/store/tokens';
import { addDays, systemTimeZone } from '../../src/lib/data/dates';
import { axiosTransport, setTransport } from '../../src/lib/http';
import { timing } from '../../src/lib/retry';
import { day, productClockAt, TODAY } from '../clock';

describe('oura sleep: fetching', function () {
  let env: Env;
  beforeEach(async function () {
    env = await setUp({ pageSize: 3 });
    productClockAt();
    await load(sleepFlow());
    await authorize(env);
    env.sim.resetStats();
  });
  afterEach(async function () {
    await tearDown(env);
  });

  it('returns every sleep period whose day lies in the range, across pages, last day included', async function () {
    const end = day(-1);
    const start = addDays(end, -6);
    const msg = await ask({ start_date: start, end_date: end, topic: 'kept' });
    const days = new Set(msg.payload.map((d: { day: string }) => d.day));
    assert.ok(msg.payload.length >= 7, 'one or more periods per night');
    assert.deepEqual([...days].sort(), Array.from({ length: 7 }, (_, i) => addDays(start, i)), 'exactly the 7 days asked for');
    assert.ok(env.sim.stats().dataRequests > 2, 'followed next_token across pages');
    assert.equal(msg.topic, 'kept');
    assert.deepEqual(msg.oura, { collection: 'sleep', start_date: start, end_date: end, timezone: systemTimeZone(), count: msg.payload.length });
  });

  it('one date alone means that single day', async function () {
    const one = day(-2);
    const a = await ask({ start_date: one });
    const b = await ask({ end_date: one });
    assert.ok(a.payload.length >= 1);
    assert.ok(a.payload.every((d: { day: string }) => d.day === one));
    assert.deepEqual(a.payload, b.payload);
  });

  it('defaults to last night: the sleep whose day is today in the node\'s time zone', async function () {
    const msg = await ask({});
    assert.ok(msg.payload.length >= 1);
    assert.ok(msg.payload.every((d: { day: string }) => d.day === TODAY));
  });

  it('rejects bad dates before any request, naming the field', async function () {
    const bad = await askError({ start_date: '23/11/2026' });
    assert.match(bad.message, /msg\.start_date must be a date written YYYY-MM-DD/);
    const swapped = await askError({ start_date: '2026-11-10', end_date: '2026-11-01' });
    assert.match(swapped.message, /is after msg\.end_date/);
    assert.equal(env.sim.stats().dataRequests, 0);
  });

  it('refreshes once on a 401 for the current token and retries the call', async function () {
    env.sim.expireAccessTokens();
    const before = tokens.current('acc1')!;
    const msg = await ask({ start_date: day(-1) });
    assert.ok(msg.payload.length >= 1);
    assert.equal(env.sim.stats().refreshes, 1);
    assert.notEqual(tokens.current('acc1')!.refreshToken, before.refreshToken);
  });

  it('100 messages with an expired token cause exactly one token request and 100 answers', async function () {
    env.sim.expireAccessTokens();
    const answers = await Promise.all(Array.from({ length: 100 }, () => ask({ start_date: TODAY })));
    assert.equal(answers.length, 100);
    assert.equal(env.sim.stats().tokenRequests, 1);
    assert.equal(env.sim.stats().refreshReuse, 0);
  });

  it('refreshes before expires_in runs out, without a 401 first', async function () {
    const rec = tokens.current('acc1')!;
    // Pretend the token is 30 s from expiry (inside the refresh margin).
    (rec as { expiresAt: number }).expiresAt = timing.now() + 30_000;
    await ask({ start_date: TODAY });
    const stats = env.sim.stats();
    assert.equal(stats.refreshes, 1);
    assert.equal(stats.unauthorized, 0, 'no request was made with the old token');
  });

  it('when Oura refuses the refresh: red status, a catchable error saying Authorize, then no more token requests', async function () {
    const seen = watchStatus();
    env.sim.revokeAll();
    const err = await askError({ start_date: TODAY });
    assert.match(err.message, /click Authorize again/);
    assert.ok(seen.some((s) => s.fill === 'red' && s.text === 're-authorization needed'), JSON.stringify(seen));
    const requests = env.sim.stats().tokenRequests;
    assert.equal(requests, 1);
    const again = await askError({ start_date: TODAY });
    assert.match(again.message, /Authorize/);
    assert.equal(env.sim.stats().tokenRequests, requests, 'no further token requests');
    const st = await helper.request().get('/oura/auth/status/acc1');
    assert.equal(st.body.reauthRequired, true);
    // Authorizing again heals it.
    await authorize(env);
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1);
  });

  it('explains a refresh token used elsewhere (another Node-RED or a copied flow)', async function () {
    const rec = tokens.current('acc1')!;
    // Another Node-RED with the same authorization refreshes first.
    const other = await fetch(env.sim.tokenUrl, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rec.refreshToken, client_id: creds().clientId, client_secret: creds().clientSecret }).toString(),
    });
    assert.equal(other.status, 200);
    env.sim.expireAccessTokens();
    const err = await askError({ start_date: TODAY });
    assert.match(err.message, /already used.*another Node-RED/);
  });

  it('waits out a 429 for Retry-After and retries', async function () {
    env.sim.setFaults([{ kind: '429', retryAfter: '7', count: 1 }]);
    const seen = watchStatus();
    const msg = await ask({ start_date: TODAY });
    assert.ok(msg.payload.length >= 1);
    assert.ok(env.sleeps.includes(7000), `waited ${env.sleeps}`);
    assert.ok(seen.some((s) => /rate limited: retrying in 0:07/.test(s.text ?? '')), JSON.stringify(seen));
  });

  it('waits out a Retry-After of up to 5 minutes, counting down in the status', async function () {
    env.sim.setFaults([{ kind: '429', retryAfter: '120', count: 1 }]);
    const seen = watchStatus();
    const msg = await ask({ start_date: TODAY });
    assert.ok(msg.payload.length >= 1);
    assert.deepEqual(env.sleeps, [120_000]);
    assert.ok(seen.some((st) => st.text === 'rate limited: retrying in 2:00'), JSON.stringify(seen));
  });

  it('a Retry-After over 5 minutes ends the message at once with an error naming the wait, not "retries ran out"', async function () {
    env.sim.setFaults([{ kind: '429', retryAfter: '1800', count: 1 }]);
    const seen = watchStatus();
    const err = await askError({ start_date: TODAY });
    assert.match(err.message, /Oura asks to wait 30 minutes \(Retry-After\), longer than the 5 minutes a message waits\. Try again after \d\d:\d\d\./);
    assert.doesNotMatch(err.message, /ran out/);
    assert.deepEqual(env.sleeps, [], 'no waiting, no retry');
    assert.equal(env.sim.stats().dataRequests, 1);
    assert.deepEqual(seen.at(-1), { fill: 'red', shape: 'ring', text: 'rate limited: wait 30 min' });
  });

  it('retries 5xx, dropped connections and garbage with backoff, then gives up with a clear error', async function () {
    env.sim.setFaults([{ kind: '500', count: 1 }, { kind: 'drop', count: 1 }, { kind: 'garbage', count: 1 }]);
    const msg = await ask({ start_date: TODAY });
    assert.ok(msg.payload.length >= 1);
    assert.equal(env.sleeps.length, 3);
    env.sim.setFaults([{ kind: '503', count: 10 }]);
    env.sim.resetStats();
    const err = await askError({ start_date: TODAY });
    assert.match(err.message, /503/);
    assert.equal(env.sim.stats().dataRequests, 4, 'first try and three retries');
  });

  it('explains 403 as a missing scope or lapsed membership, without refreshing', async function () {
    await authorize(env, 'acc1', { scopes: ['personal'] });
    env.sim.resetStats();
    const err = await askError({ start_date: TODAY });
    assert.match(err.message, /401|403/);
    assert.match(err.message, /scope/);
    assert.ok(env.sim.stats().refreshes <= 1);
  });

  it('never puts a token or secret in errors, statuses or outputs', async function () {
    const seen = watchStatus();
    const texts: string[] = [];
    env.sim.revokeAll();
    texts.push((await askError({ start_date: TODAY })).message);
    texts.push(JSON.stringify(seen));
    assertNoSecrets(env.sim, texts.join('\n'), 'errors and statuses');
  });
});

describe('oura sleep: options', function () {
  let env: Env;
  afterEach(async function () {
    await tearDown(env);
  });

  it('daily_sleep and sleep_time collections, custom range set in the node', async function () {
    env = await setUp();
    productClockAt();
    const start = day(-4);
    const end = day(-2);
    const flow = sleepFlow({ collection: 'daily_sleep', range: 'custom', startDate: start, endDate: end });
    flow.push({ id: 'bed', z: 'tab', type: 'oura sleep', account: 'acc1', collection: 'sleep_time', range: 'last_7_days', wires: [['out']] } as never);
    await load(flow);
    await authorize(env);
    const scores = await ask({});
    assert.deepEqual(scores.payload.map((d: { day: string }) => d.day), [start, addDays(start, 1), end]);
    assert.ok(scores.payload.every((d: { score: unknown }) => typeof d.score === 'number' || d.score === null));
    const bed = await ask({}, 'bed');
    assert.deepEqual(bed.payload.map((d: { day: string }) => d.day), Array.from({ length: 7 }, (_, i) => day(i - 6)), 'the last 7 days, today included');
  });

  it('counts days in the node\'s time zone', async function () {
    env = await setUp();
    // 10:30 UTC is 00:30 tomorrow on Kiritimati (UTC+14) and 23:30 yesterday in Pago Pago (UTC-11).
    productClockAt(Date.parse(`${TODAY}T10:30:00Z`));
    const flow = sleepFlow({ timezone: 'Pacific/Kiritimati' });
    flow.push({ id: 'samoa', z: 'tab', type: 'oura sleep', account: 'acc1', timezone: 'Pacific/Pago_Pago', wires: [['out']] } as never);
    await load(flow);
    await authorize(env);
    const msg = await ask({});
    assert.deepEqual([msg.oura.start_date, msg.oura.end_date, msg.oura.timezone], [day(1), day(1), 'Pacific/Kiritimati']);
    const behind = await ask({}, 'samoa');
    assert.deepEqual([behind.oura.start_date, behind.oura.end_date], [day(-1), day(-1)]);
    assert.ok(behind.payload.length >= 1 && behind.payload.every((d: { day: string }) => d.day === day(-1)), 'last night in Pago Pago');
    const bad = sleepFlow({ timezone: 'Mars/Olympus' });
    await helper.unload();
    await load(bad);
    const err = await askError({});
    assert.match(err.message, /Time zone "Mars\/Olympus" is unknown/);
  });

  it('with an account that is not deployed: a clear error, no request', async function () {
    env = await setUp();
    const flow = sleepFlow({ account: 'missing' });
    await load(flow);
    const err = await askError({});
    assert.match(err.message, /The Oura account this node names is not deployed.*pick an Oura account, then Deploy/);
    assert.equal(env.sim.stats().dataRequests, 0);
  });
});

describe('oura-account: tokens survive restarts, redeploys and crashes', function () {
  let env: Env;
  afterEach(async function () {
    setTransport();
    await tearDown(env);
  });

  /** Node-RED's credentials as they were on disk at the last deploy (before any runtime refresh). */
  function credentialsOnDisk(): Record<string, unknown> {
    const rec = tokens.current('acc1');
    return { acc1: creds(rec ? { tokens: JSON.stringify(rec) } : {}) };
  }

  it('a refreshed token survives a restart with stale credentials on disk, with no refresh token reused', async function () {
    env = await setUp();
    await load(sleepFlow());
    await authorize(env);
    const deployed = credentialsOnDisk();
    env.sim.expireAccessTokens();
    await ask({ start_date: TODAY });
    assert.equal(env.sim.stats().refreshes, 1);
    // Crash: memory gone; Node-RED reloads the credentials written at the last deploy (older tokens).
    await helper.unload();
    tokens.resetMemory();
    await load(sleepFlow(), deployed);
    env.sim.expireAccessTokens();
    const msg = await ask({ start_date: TODAY });
    assert.ok(msg.payload.length >= 1);
    const stats = env.sim.stats();
    assert.equal(stats.refreshReuse, 0);
    assert.equal(stats.codeExchanges, 1, 'no new consent');
    assert.equal(stats.refreshes, 2);
  });

  it('"Restart Flows" (credentials reloaded from disk) keeps the newest tokens', async function () {
    env = await setUp();
    await load(sleepFlow());
    await authorize(env);
    const deployed = credentialsOnDisk();
    env.sim.expireAccessTokens();
    await ask({ start_date: TODAY });
    await helper.setFlows(placed(sleepFlow()), 'full', deployed);
    env.sim.expireAccessTokens();
    await ask({ start_date: TODAY });
    assert.equal(env.sim.stats().refreshReuse, 0);
  });

  it('an authorization made before the first deploy is used by the deploy that creates the node', async function () {
    env = await setUp();
    await load([{ id: 'tab', type: 'tab', label: 'empty' }], {});
    await authorize(env, 'acc1');
    await helper.setFlows(placed(sleepFlow()), 'full', { acc1: creds() });
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1);
    assert.equal(env.sim.stats().codeExchanges, 1);
  });

  it('removes copies of accounts that are not deployed at start, and when the account is deleted', async function () {
    env = await setUp();
    await load(sleepFlow());
    await authorize(env);
    const dir = path.join(env.userDir, '.oura-tokens');
    fs.copyFileSync(path.join(dir, 'acct-acc1.json'), path.join(dir, 'acct-gone.json'));
    await helper.unload();
    tokens.resetMemory();
    await load(sleepFlow());
    assert.ok(!fs.existsSync(path.join(dir, 'acct-gone.json')), 'orphan copy removed at start');
    assert.ok(fs.existsSync(path.join(dir, 'acct-acc1.json')));
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }], 'full', {});
    assert.ok(!fs.existsSync(path.join(dir, 'acct-acc1.json')), 'deleted account\'s copy removed');
  });

  it('ignores a copy it cannot decrypt with a warning, and keeps working from the credentials', async function () {
    env = await setUp();
    await load(sleepFlow());
    await authorize(env);
    const deployed = credentialsOnDisk();
    const file = path.join(env.userDir, '.oura-tokens', 'acct-acc1.json');
    const envl = JSON.parse(fs.readFileSync(file, 'utf8'));
    envl.data = Buffer.from('tampered').toString('base64');
    fs.writeFileSync(file, JSON.stringify(envl));
    await helper.unload();
    tokens.resetMemory();
    await load(sleepFlow(), deployed);
    const warned = helper.log().args.some((a: any[]) => /cannot be decrypted/.test(JSON.stringify(a[0])));
    assert.ok(warned, 'a warning was logged');
    assert.ok((await ask({ start_date: TODAY })).payload.length >= 1);
  });

  it('new tokens that cannot be written to disk (disk full) raise a warning in the log and on the node status', async function () {
    env = await setUp();
    await load(sleepFlow());
    await authorize(env);
    const seen = watchStatus();
    // The store calls fs through the module object, so swapping the function there reaches it.
    const nodeFs: { writeSync: unknown } = require('fs');
    const realWrite = nodeFs.writeSync;
    nodeFs.writeSync = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    try {
      env.sim.expireAccessTokens();
      assert.ok((await ask({ start_date: TODAY })).payload.length >= 1, 'the message is still answered, with the new tokens in memory');
    } finally {
      nodeFs.writeSync = realWrite;
    }
    assert.equal(seen.at(-1)?.fill, 'yellow');
    assert.match(seen.at(-1)?.text ?? '', /tokens not saved to disk$/);
    const warning = helper.log().args.map((a: any[]) => JSON.stringify(a[0])).find((t: string) => /Could not save the newest Oura tokens/.test(t));
    assert.ok(warning, 'a warning in the log');
    assert.match(warning, /ENOSPC.*deploy/);
    assertNoSecrets(env.sim, warning, 'the warning');
    assert.deepEqual(fs.readdirSync(path.join(env.userDir, '.oura-tokens')).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
    // Once a write works again, the warning is gone.
    env.sim.expireAccessTokens();
    await ask({ start_date: TODAY });
    assert.deepEqual([seen.at(-1)?.fill, seen.at(-1)?.shape], ['green', 'dot']);
  });

  it('a redeploy during a refresh neither loses the new tokens nor starts a second refresh', async function () {
    env = await setUp();
    await load(sleepFlow());
    await authorize(env);
    env.sim.resetStats();
    env.sim.expireAccessTokens();
    // Oura's answer to the refresh reaches the package only once the redeploy is done, however slow the machine.
    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    setTransport(async (req) => {
      const res = await axiosTransport(req);
      if (req.form?.grant_type === 'refresh_token') await held;
      return res;
    });
    // The first message's node is replaced mid-refresh: its answer goes nowhere, what matters is the next one.
    void ask({ start_date: TODAY }).catch(() => undefined);
    await waitFor(() => env.sim.stats().tokenRequests === 1);
    await helper.setFlows(placed(sleepFlow()), 'full', credentialsOnDisk());
    const asked = ask({ start_date: TODAY });
    release();
    const second = await asked;
    assert.ok(second.payload.length >= 1);
    assert.equal(env.sim.stats().tokenRequests, 1);
    assert.equal(env.sim.stats().refreshReuse, 0);
  });
});

/** Polls a condition on the event loop; fails after a bound instead of hanging. */
async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}
