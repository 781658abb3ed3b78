/**
 * The short soak (the full one is `npm run soak`, bench/soak.js, in a real Node-RED) and the refresh storm counts
 * (the timings are in `npm run bench`): every message ends in exactly one output or one Catch while the simulator
 * injects about 5% faults and expires the tokens at random; no refresh token is used twice; no unhandled rejection;
 * 500 messages in flight when the token expires make exactly one token request and no failure.
 */
import { strict as assert } from 'assert';
import * as net from 'net';
import { accountConfig, authorize, creds, Env, helper, placed, setUp, tearDown } from './support';
import { axiosTransport, setTransport } from '../src/lib/http';
import { timing } from '../src/lib/retry';
import * as tokens from '../src/lib/store/tokens';
import type { FaultSpec } from '../sim/server';
import { day, productClockAt } from './clock';

const accountNode = require('../src/oura-account');
const sleepNode = require('../src/oura-sleep');
const dataNode = require('../src/oura-data');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

/** Per account an oura sleep and an oura data node, all wired to 'out'; one Catch wired to 'caught'. */
function soakFlow(accounts: string[]) {
  const flow: any[] = [{ id: 'tab', type: 'tab', label: 'soak' }];
  accounts.forEach((acc, i) => {
    flow.push(accountConfig(acc, { name: `account ${i}` }));
    flow.push({ id: `sleep${i}`, z: 'tab', type: 'oura sleep', account: acc, range: 'last_7_days', timezone: 'UTC', wires: [['out']] });
    flow.push({ id: `data${i}`, z: 'tab', type: 'oura data', account: acc, collection: 'daily_readiness', range: 'last_7_days', timezone: 'UTC', output: 'all', wires: [['out']] });
  });
  flow.push({ id: 'out', z: 'tab', type: 'helper' });
  flow.push({ id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] });
  flow.push({ id: 'caught', z: 'tab', type: 'helper' });
  return placed(flow);
}

interface Outcome {
  outputs: number;
  caught: number;
  lost: number;
  twice: number;
  errors: Map<string, number>;
}

/**
 * Sends `n` messages, `inFlight` at a time, round-robin over `targets`; counts what reaches 'out' and 'caught' per
 * message, and waits `settleMs` after the last one for anything arriving twice. `live` holds the messages sent and
 * not yet ended.
 */
function drive(
  n: number, inFlight: number, targets: Array<{ node: string; msg: Record<string, unknown> }>, settleMs: number, deadlineMs: number,
  live = new Set<number>(),
): Promise<Outcome> {
  const outs = new Uint16Array(n);
  const errs = new Uint16Array(n);
  const errors = new Map<string, number>();
  const run = `soak${Date.now()}`;
  let sent = 0;
  let finished = 0;
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      setTimeout(() => {
        let lost = 0;
        let twice = 0;
        let outputs = 0;
        let caught = 0;
        for (let i = 0; i < n; i++) {
          outputs += outs[i];
          caught += errs[i];
          if (outs[i] + errs[i] === 0) lost++;
          if (outs[i] + errs[i] > 1) twice++;
        }
        resolve({ outputs, caught, lost, twice, errors });
      }, settleMs);
    };
    const deadline = setTimeout(finish, deadlineMs);
    const sendOne = () => {
      const id = sent++;
      const t = targets[id % targets.length];
      live.add(id);
      helper.getNode(t.node).receive({ ...t.msg, _soakId: id, _soakRun: run });
    };
    const arrive = (m: any, caught: boolean) => {
      if (m._soakRun !== run) return;
      const id = m._soakId as number;
      const first = outs[id] + errs[id] === 0;
      live.delete(id);
      if (caught) {
        errs[id]++;
        const key = String(m.error?.message ?? 'error').replace(/\d+/g, '#').slice(0, 300);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      } else outs[id]++;
      if (!first || done) return;
      finished++;
      if (sent < n) sendOne();
      else if (finished === n) finish();
    };
    helper.getNode('out').on('input', (m: any) => arrive(m, false));
    helper.getNode('caught').on('input', (m: any) => arrive(m, true));
    for (let i = 0; i < Math.min(n, inFlight); i++) sendOne();
  });
}

/**
 * Expires every access token at random moments, 0.1 to 0.5 s apart, as Oura may at any time, keeping one thing that
 * holds at Oura, where a token lives for a day and a message takes milliseconds: a new token outlives the messages
 * that were under way when it was issued. So an expiry waits until no refresh is in flight, and the next one, however
 * slow the machine, until every account holds a token issued since and the messages sent before that have ended.
 * (Without the rule a message can meet two expiries; the package renews once per call, since at Oura a token refused
 * right after its renewal means a missing scope.) `refreshing()` counts the refresh requests in flight.
 */
function expireAtRandom(sim: Env['sim'], accounts: string[], live: Set<number>, refreshing: () => number) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake = () => undefined as void;
  let count = 0;
  const pause = (ms: number) => new Promise<void>((resolve) => {
    wake = resolve;
    timer = setTimeout(resolve, ms);
  });
  /** Checks on a 5 ms beat: `cond` runs synchronously with whatever follows it. */
  const until = async (cond: () => boolean) => {
    while (!stopped && !cond()) await pause(5);
  };
  const running = (async () => {
    while (!stopped) {
      await pause(100 + Math.random() * 400);
      let dead: Array<string | undefined> = [];
      await until(() => {
        if (refreshing() > 0) return false;
        dead = accounts.map((a) => tokens.current(a)?.accessToken);
        sim.expireAccessTokens();
        count++;
        return true;
      });
      let underway: number[] = [];
      await until(() => {
        if (!accounts.every((a, i) => tokens.current(a)?.accessToken !== dead[i])) return false;
        underway = [...live];
        return true;
      });
      await until(() => underway.every((id) => !live.has(id)));
    }
  })();
  return {
    get count() {
      return count;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake();
      await running;
    },
  };
}

function socketsTo(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => h instanceof net.Socket && !h.destroyed && h.remotePort === port).length;
}

describe('soak (short version of npm run soak)', function () {
  let env: Env;
  let unhandled: unknown[];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeEach(function () {
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async function () {
    process.removeListener('unhandledRejection', onUnhandled);
    setTransport();
    await tearDown(env);
  });

  it('1,500 messages over 3 accounts with ~5% faults and random token expiry: each ends once, no refresh token reused', async function () {
    this.timeout(30000);
    const N = 1500;
    const IN_FLIGHT = 30;
    env = await setUp({ pageSize: 5 });
    // Half the messages let the nodes choose their days (the last 7): the package reads noon on TODAY.
    productClockAt();
    const accounts = ['acc1', 'acc2', 'acc3'];
    await helper.load([accountNode, sleepNode, dataNode, catchNode], soakFlow(accounts), Object.fromEntries(accounts.map((a) => [a, creds()])));
    for (const a of accounts) await authorize(env, a);
    // Retry waits shrink a hundredfold: Retry-After 1 s waits 10 ms, backoff 500 ms waits 5 ms.
    timing.baseDelayMs = 500;
    timing.maxRetryAfterMs = 60_000;
    timing.sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.round(ms / 100)));
    const port = Number(new URL(env.sim.url).port);
    env.sim.resetStats();

    const each = 1 - (1 - 0.05) ** (1 / 7);
    const faults: FaultSpec[] = [
      { kind: '429', rate: each, seed: 1, retryAfter: '1' },
      { kind: '429', rate: each, seed: 2, retryAfter: '0' },
      { kind: '500', rate: each, seed: 3 },
      { kind: '503', rate: each, seed: 4 },
      { kind: 'drop', rate: each, seed: 5 },
      { kind: 'garbage', rate: each, seed: 6 },
      { kind: 'slow', rate: each, seed: 7, delayMs: 20 },
      { kind: '503', target: 'token', rate: 0.05, seed: 8 },
      { kind: 'slow', target: 'token', rate: 0.1, seed: 9, delayMs: 20 },
    ];
    env.sim.setFaults(faults);
    let refreshing = 0;
    setTransport(async (req) => {
      const refresh = req.form?.grant_type === 'refresh_token';
      if (refresh) refreshing++;
      try {
        return await axiosTransport(req);
      } finally {
        if (refresh) refreshing--;
      }
    });
    const live = new Set<number>();
    const expiring = expireAtRandom(env.sim, accounts, live, () => refreshing);
    const shapes = [{}, { start_date: day(-1) }, { start_date: day(-4), end_date: day(-2) }];
    const targets = accounts.flatMap((_, i) => shapes.flatMap((msg) => [{ node: `sleep${i}`, msg }, { node: `data${i}`, msg }]));
    let r: Outcome;
    try {
      r = await drive(N, IN_FLIGHT, targets, 300, 25000, live);
    } finally {
      await expiring.stop();
      env.sim.setFaults([]);
    }
    const expiries = expiring.count;
    const stats = env.sim.stats();
    const errors = JSON.stringify(Object.fromEntries(r.errors));
    assert.equal(r.lost, 0, `${r.lost} messages ended in neither an output nor a Catch (errors: ${errors})`);
    assert.equal(r.twice, 0, `${r.twice} messages ended more than once`);
    assert.equal(r.outputs + r.caught, N);
    // What may reach Catch: a refresh that met an injected token-endpoint fault (the package does not retry those),
    // or retries that ran out. Never "refused access even after renewing the token": each message meets one expiry.
    const allowed = [/token endpoint .* answered #: Service Unavailable/, /retries ran out|answered # for|not JSON|failed \(|timed out/];
    for (const [text] of r.errors) assert.ok(allowed.some((re) => re.test(text)), `unexpected error reached Catch: ${text}`);
    assert.equal(stats.refreshReuse, 0, 'a refresh token was used twice');
    assert.ok(expiries > 0 && stats.refreshes > 0, `the tokens expired (${expiries} times) and were refreshed (${stats.refreshes} times)`);
    assert.ok(stats.dataRequests > N, 'faults caused retries');
    assert.deepEqual(unhandled.map(String), [], 'unhandled rejections');
    // Sockets to the simulator: at most the idle keep-alive ones of the last messages in flight, not one per message.
    assert.ok(socketsTo(port) <= IN_FLIGHT + accounts.length, `${socketsTo(port)} sockets to the simulator are open`);
  });

  it('refresh storm: 500 messages in flight when Oura expires the token make one token request and no failure', async function () {
    env = await setUp({ pageSize: 50 });
    await helper.load([accountNode, sleepNode, dataNode, catchNode], soakFlow(['acc1']), { acc1: creds() });
    await authorize(env, 'acc1');
    env.sim.resetStats();
    env.sim.expireAccessTokens();
    const r = await drive(500, 500, [{ node: 'sleep0', msg: { start_date: day(-1) } }], 100, 15000);
    const stats = env.sim.stats();
    assert.deepEqual({ outputs: r.outputs, caught: r.caught, lost: r.lost, twice: r.twice }, { outputs: 500, caught: 0, lost: 0, twice: 0 }, JSON.stringify(Object.fromEntries(r.errors)));
    assert.equal(stats.tokenRequests, 1);
    assert.equal(stats.refreshReuse, 0);
    assert.deepEqual(unhandled.map(String), []);
  });

  it('refresh storm: 500 messages in flight when expires_in runs out make one token request, before any 401', async function () {
    env = await setUp({ pageSize: 50 });
    await helper.load([accountNode, sleepNode, dataNode, catchNode], soakFlow(['acc1']), { acc1: creds() });
    await authorize(env, 'acc1');
    env.sim.resetStats();
    // The token is 30 s from its expiry: inside the package's refresh margin.
    (tokens.current('acc1') as { expiresAt: number }).expiresAt = timing.now() + 30_000;
    const r = await drive(500, 500, [{ node: 'data0', msg: { start_date: day(-1) } }], 100, 15000);
    const stats = env.sim.stats();
    assert.deepEqual({ outputs: r.outputs, caught: r.caught, lost: r.lost, twice: r.twice }, { outputs: 500, caught: 0, lost: 0, twice: 0 }, JSON.stringify(Object.fromEntries(r.errors)));
    assert.equal(stats.tokenRequests, 1);
    assert.equal(stats.unauthorized, 0, 'no request went out with the expiring token');
    assert.deepEqual(unhandled.map(String), []);
  });
});
