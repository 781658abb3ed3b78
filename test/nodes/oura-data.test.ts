import { strict as assert } from 'assert';
import { accountConfig, ask, askError, authorize, creds, Env, helper, inject, placed, setUp, tearDown } from '../support';
import { COLLECTIONS } from '../../src/lib/data/collections';
import { addDays, startOfDay } from '../../src/lib/data/dates';
import { clockFrom, day, NOON, productClockAt, TODAY } from '../clock';

const dataNode = require('../../src/oura-data');
const accountNode = require('../../src/oura-account');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const joinNode = require('@node-red/nodes/core/sequence/17-split.js');

function flow(props: Record<string, unknown> = {}, extra: unknown[] = []) {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    accountConfig('acc1'),
    { id: 'data1', z: 'tab', type: 'oura data', account: 'acc1', collection: 'daily_readiness', range: 'last_7_days', output: 'all', wires: [['out']], ...props },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    { id: 'complete', z: 'tab', type: 'complete', scope: ['data1'], uncaught: false, wires: [['completed']] },
    { id: 'completed', z: 'tab', type: 'helper' },
    ...extra,
  ];
}

async function start(env: Env, props: Record<string, unknown> = {}, extra: unknown[] = [], scopes?: string[]) {
  await helper.load([accountNode, dataNode, catchNode, completeNode, joinNode], placed(flow(props, extra)), { acc1: creds() });
  await authorize(env, 'acc1', { scopes });
  env.sim.resetStats();
}

/** Collects every output message until the node reports done (a Complete node fires). */
function collect(msg: Record<string, unknown>): Promise<any[]> {
  const got: any[] = [];
  return new Promise((resolve, reject) => {
    const forget = inject('data1', msg, {
      onOut: (m) => got.push(m),
      onDone: () => {
        forget();
        resolve(got);
      },
      onError: (m) => {
        forget();
        reject(new Error(m.error?.message));
      },
    });
  });
}

describe('oura data', function () {
  let env: Env;
  afterEach(async function () {
    await tearDown(env);
  });

  it('reads every collection from the simulator, with the right shape', async function () {
    env = await setUp();
    await start(env);
    const start7 = day(-6);
    for (const c of COLLECTIONS) {
      const msg = await ask({ collection: c.name.toUpperCase() === c.name ? c.name : c.name.toLowerCase(), start_date: start7, end_date: TODAY }, 'data1');
      if (c.bare) {
        assert.equal(typeof msg.payload, 'object', c.name);
        assert.ok(!Array.isArray(msg.payload) && msg.payload.id, c.name);
      } else {
        assert.ok(Array.isArray(msg.payload), c.name);
      }
      if (c.range === 'day') {
        assert.ok(msg.payload.every((d: { day: string }) => d.day >= start7 && d.day <= TODAY), `${c.name} trimmed to the days`);
      }
      assert.equal(msg.oura.collection, c.name);
    }
    assert.ok(env.sim.stats().byPath['/v2/usercollection/vO2_max'] >= 1, 'vo2_max was sent as vO2_max');
  });

  it('gives exactly the asked days whatever Oura\'s end_date rule (inclusive daily_sleep, exclusive sleep)', async function () {
    env = await setUp();
    await start(env);
    const s = day(-3);
    const e = day(-1);
    for (const c of ['daily_sleep', 'daily_readiness', 'daily_activity', 'sleep', 'workout']) {
      const msg = await ask({ collection: c, start_date: s, end_date: e }, 'data1');
      const days = [...new Set(msg.payload.map((d: { day: string }) => d.day))].sort();
      if (c.startsWith('daily_') || c === 'sleep') assert.deepEqual(days, [s, addDays(s, 1), e], c);
      else assert.ok(days.every((d) => (d as string) >= s && (d as string) <= e), c);
    }
  });

  it('heart rate by local day and by explicit datetimes (+ sent as %2B), across pages', async function () {
    // The simulator's heart rate runs up to its clock: it reads noon on TODAY, so the days asked for are complete.
    env = await setUp({ now: clockFrom(NOON) });
    await start(env, { collection: 'heartrate', timezone: 'Europe/Berlin' });
    const one = day(-2);
    const msg = await ask({ start_date: one }, 'data1');
    assert.equal(msg.payload.length, 1200, 'one local day of samples every 72 s, the next midnight excluded');
    const times = msg.payload.map((d: { timestamp: string }) => Date.parse(d.timestamp));
    assert.equal(Math.min(...times), Date.parse(startOfDay(one, 'Europe/Berlin')));
    assert.ok(Math.max(...times) < Date.parse(startOfDay(addDays(one, 1), 'Europe/Berlin')));
    assert.ok(env.sim.stats().dataRequests >= 2, 'more than one page');
    // Days on which Berlin changes its clocks last 23 and 25 hours.
    for (const [dst, hours] of [['2026-03-29', 23], ['2026-10-25', 25]] as const) {
      const changed = await ask({ start_date: dst }, 'data1');
      assert.equal(changed.payload.length, hours * 50, `${dst} in Berlin: ${hours} hours of samples`);
      assert.equal(Date.parse(changed.payload[0].timestamp), Date.parse(startOfDay(dst, 'Europe/Berlin')), `${dst} starts at local midnight`);
    }
    const explicit = await ask({ start_datetime: `${one}T06:00:00+01:00`, end_datetime: `${one}T07:00:00+01:00` }, 'data1');
    assert.ok(explicit.payload.length > 10);
    assert.ok(explicit.payload.every((d: { timestamp: string }) => Date.parse(d.timestamp) >= Date.parse(`${one}T06:00:00+01:00`) && Date.parse(d.timestamp) <= Date.parse(`${one}T07:00:00+01:00`)));
    const date = await askError({ collection: 'daily_sleep', start_datetime: `${one}T06:00:00+01:00` }, 'data1');
    assert.match(date.message, /msg\.start_datetime applies to heartrate/);
  });

  it('fetches one document by id, and a missing one is a catchable "document not found"', async function () {
    env = await setUp();
    await start(env, { collection: 'daily_readiness' });
    const list = await ask({ start_date: day(-1) }, 'data1');
    const id = list.payload[0].id;
    const one = await ask({ document_id: id }, 'data1');
    assert.deepEqual(one.payload, list.payload[0]);
    const missing = await askError({ document_id: 'no-such-document' }, 'data1');
    assert.match(missing.message, /document not found/);
    const noSingle = await askError({ collection: 'heartrate', document_id: 'x' }, 'data1');
    assert.match(noSingle.message, /heartrate has no single documents/);
  });

  it('unknown msg.collection: an error naming the valid ones, before any request', async function () {
    env = await setUp();
    await start(env);
    const err = await askError({ collection: 'steps' }, 'data1');
    assert.match(err.message, /"steps" is not an Oura collection; valid ones: daily_activity/);
    assert.equal(env.sim.stats().dataRequests, 0);
  });

  it('one message per document with msg.parts, rebuilt by a join node', async function () {
    env = await setUp({ pageSize: 2 });
    productClockAt();
    const join = { id: 'join', z: 'tab', type: 'join', mode: 'auto', build: 'array', wires: [['joined']] };
    await start(env, { output: 'each', collection: 'daily_sleep', wires: [['out', 'join']] }, [join, { id: 'joined', z: 'tab', type: 'helper' }]);
    const joined = new Promise<any>((resolve) => helper.getNode('joined').once('input', resolve));
    const msgs = await collect({});
    assert.equal(msgs.length, 7);
    assert.ok(msgs.every((m, i) => m.parts.index === i && m.parts.count === 7 && !Array.isArray(m.payload)));
    const rebuilt = await joined;
    assert.deepEqual(rebuilt.payload, msgs.map((m) => m.payload));
  });

  it('one message per page for large ranges', async function () {
    env = await setUp({ pageSize: 5 });
    productClockAt();
    await start(env, { output: 'page', collection: 'daily_activity', range: 'last_30_days' });
    const msgs = await collect({});
    assert.ok(msgs.length >= 6, `${msgs.length} pages`);
    const all = msgs.flatMap((m) => m.payload);
    assert.deepEqual(all.map((d: { day: string }) => d.day), Array.from({ length: 30 }, (_, i) => day(i - 29)), 'the last 30 days, today included');
    assert.equal(msgs[msgs.length - 1].parts.count, msgs.length);
    assert.equal(msgs[msgs.length - 1].complete, true);
  });

  it('only new or changed documents: a second poll forwards nothing, a changed document is forwarded', async function () {
    env = await setUp();
    productClockAt();
    await start(env, { newOnly: true, collection: 'daily_sleep', range: 'last_7_days' });
    const first = await collect({});
    assert.equal(first.length, 1);
    assert.equal(first[0].payload.length, 7);
    const second = await collect({});
    assert.equal(second.length, 0, 'nothing new: no message');
    const ctx = helper.getNode('data1').context().get('oura-seen');
    assert.equal(Object.keys(ctx).length, 7, 'context holds only the polled range');
    const third = await collect({ start_date: day(-8), end_date: TODAY });
    assert.equal(third[0].payload.length, 2, 'only the two days not seen before');
  });

  it('a missing scope: the error names the scope to tick, and no refresh is attempted', async function () {
    env = await setUp();
    await start(env, { collection: 'heartrate' }, [], ['daily', 'personal']);
    const err = await askError({ start_date: TODAY }, 'data1');
    assert.match(err.message, /heartrate needs the "heartrate" scope/);
    assert.match(err.message, /Authorize again/);
    assert.equal(env.sim.stats().tokenRequests, 0);
  });
});

describe('oura data: heart rate in 30-day windows', function () {
  let env: Env;
  afterEach(async function () {
    await tearDown(env);
  });
  const SIM = { today: '2026-06-30', now: () => Date.parse('2026-07-01T09:00:00Z') };
  // 45 days in UTC: 1,200 samples a day (one every 72 s), two windows (30 + 15 days), every request within Oura's
  // limit. (The e2e suite reads 90 days, three windows, through a real Node-RED.)
  const ASK = { start_date: '2026-05-15', end_date: '2026-06-28' };
  const EXPECTED = 45 * 1200;

  function checkSamples(samples: Array<{ timestamp: string }>): void {
    const times = samples.map((s) => Date.parse(s.timestamp));
    assert.equal(samples.length, EXPECTED, `every sample once: ${samples.length}`);
    assert.equal(new Set(times).size, EXPECTED, 'no sample twice (windows share their boundary instant)');
    assert.equal(times[0], Date.parse('2026-05-15T00:00:00Z'));
    assert.equal(times.at(-1), Date.parse('2026-06-29T00:00:00Z') - 72_000);
    assert.ok(times.every((t, i) => i === 0 || t > times[i - 1]), 'in order');
  }

  for (const datetimeEndExclusive of [false, true]) {
    it(`45 days, one message: every sample once, each request at most 30 days (Oura's end ${datetimeEndExclusive ? 'exclusive' : 'inclusive'})`, async function () {
      env = await setUp({ ...SIM, datetimeEndExclusive });
      await start(env, { collection: 'heartrate', timezone: 'UTC' });
      const msg = await ask({ ...ASK }, 'data1');
      checkSamples(msg.payload);
      assert.equal(msg.oura.count, EXPECTED);
    });
  }

  it('45 days, one message per page: pages stream across the windows, numbered on, the last one says so', async function () {
    env = await setUp(SIM);
    await start(env, { collection: 'heartrate', timezone: 'UTC', output: 'page' });
    const pages = await collect({ ...ASK });
    assert.ok(pages.length >= 75, `${pages.length} pages`);
    assert.deepEqual(pages.map((m) => m.parts.index), pages.map((_m, i) => i));
    assert.ok(pages.every((m) => m.parts.id === pages[0].parts.id));
    assert.equal(pages.at(-1).parts.count, pages.length);
    assert.equal(pages.at(-1).complete, true);
    assert.ok(pages.slice(0, -1).every((m) => m.parts.count === undefined && !m.complete));
    checkSamples(pages.flatMap((m) => m.payload));
    assert.equal(env.sim.stats().byPath['/v2/usercollection/heartrate'], pages.length, 'one request per page');
  });

  it('explicit datetimes longer than 30 days are split too; ring battery as well', async function () {
    env = await setUp(SIM);
    await start(env, { collection: 'ring_battery_level', timezone: 'UTC' });
    const msg = await ask({ start_datetime: '2026-05-01T00:00:00+02:00', end_datetime: '2026-06-15T00:00:00+02:00' }, 'data1');
    const times = msg.payload.map((s: { timestamp: string }) => Date.parse(s.timestamp));
    assert.equal(new Set(times).size, times.length);
    assert.equal(times.length, (45 * 86400) / 300 + 1, 'both ends included, at Oura\'s inclusive end');
  });
});
