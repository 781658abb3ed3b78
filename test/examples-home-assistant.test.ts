/**
 * Example 07 (Home Assistant sensors) with the Home Assistant palette the Node-RED add-on ships
 * (node-red-contrib-home-assistant-websocket, pinned in devDependencies): the example is deployed as imported,
 * with that package's own sensor, entity-config and server nodes. No Home Assistant is needed: a test-only
 * `onReceive` hook records what reaches each sensor node, and the sensor node itself then checks that input
 * against its schema before it finds it has no connection (NoConnectionError, its first check after validation).
 */
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import * as FakeTimers from '@sinonjs/fake-timers';
import { accountConfig, authorize, creds, Env, helper, placed, setUp, tearDown } from './support';
import { getJson } from '../src/lib/data/api';
import { addDays, dayIn, systemTimeZone } from '../src/lib/data/dates';
import * as tokens from '../src/lib/store/tokens';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { hooks } = require('@node-red/util');
const HA = 'node-red-contrib-home-assistant-websocket/dist';
const palette = require(`${HA}/index.js`).default;
const { createHaConfig } = require(`${HA}/common/integration/helpers.js`);

const core = (p: string) => require(`@node-red/nodes/core/${p}`);
const webhookModule = require('../src/oura-webhook');
const OURA = [require('../src/oura-account'), require('../src/oura-sleep'), require('../src/oura-data')];
const CORE = ['common/20-inject.js', 'common/90-comment.js', 'common/25-catch.js', 'function/10-function.js', 'function/10-switch.js', 'function/15-change.js'].map(core);

const FILE = path.resolve(__dirname, '../examples/07 - Home Assistant sensors.json');
const ACCOUNT = 'a1b2c3d4e5f60007';
const id = (n: number) => `c0ffee00000007${String(n).padStart(2, '0')}`;
const INJECT = id(2);
const SERVER = id(50);
const SENSORS = { sleepScore: id(30), readiness: id(31), totalSleep: id(32), restingHr: id(33), bedtime: id(34) };
const SENSOR_IDS: string[] = Object.values(SENSORS);
/** The clock the nodes read (Date only); the simulator's last day of data is this day in the machine's time zone. */
const NOW = Date.parse('2026-03-11T06:30:00Z');
const HOOK = 'haExampleTest';

/** The palette's loader starts a 6-hour issue check that nothing stops; mocha runs without --exit, so the suite stops it. */
const paletteTimers: NodeJS.Timeout[] = [];
async function haPalette(red: unknown): Promise<void> {
  const realSetInterval = global.setInterval;
  global.setInterval = ((...args: Parameters<typeof setInterval>) => {
    const t = realSetInterval(...args);
    paletteTimers.push(t);
    return t;
  }) as typeof setInterval;
  try {
    await palette(red);
  } finally {
    global.setInterval = realSetInterval;
  }
}

/** The webhook node as Node-RED loads it, with RED.httpNode served by the test server. */
function webhookNode(red: any) {
  helper._app.use('/', red.httpNode);
  return webhookModule(red);
}

/**
 * A Home Assistant that refuses the access token. The server node connects and, told `auth_invalid`, stops for
 * good, as with a revoked token (an unreachable address would be retried every 5 s for ever).
 */
async function refusingHomeAssistant(): Promise<{ url: string; attempts: () => number; close: () => Promise<void> }> {
  let attempts = 0;
  const frame = (o: object) => {
    const p = Buffer.from(JSON.stringify(o));
    return Buffer.concat([Buffer.from([0x81, p.length]), p]); // one unmasked text frame, under 126 bytes
  };
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket) => {
    attempts++;
    const accept = crypto.createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.write(frame({ type: 'auth_required', ha_version: '2026.3.0' }));
    socket.once('data', () => socket.end(frame({ type: 'auth_invalid', message: 'Invalid access token or password' })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    attempts: () => attempts,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Examples ship without an Oura account node and leave `account` empty: imported into a Node-RED with one Oura
 * account, the runtime gives such nodes that account.
 */
function withTheOnlyAccount(flow: any[]): any[] {
  return [...flow, accountConfig(ACCOUNT)];
}

/**
 * The example as imported into a tab, plus a Catch for every error. Otherwise as shipped, but: the test fires the
 * inject node, the Oura account is added, and the server node talks to a local Home Assistant, not the Supervisor.
 */
function prepare(): any[] {
  const flow = JSON.parse(fs.readFileSync(FILE, 'utf8')) as any[];
  const out: any[] = [{ id: 'tab', type: 'tab', label: 'Home Assistant sensors' }];
  for (const n of flow) {
    const node = { ...n };
    if (node.x !== undefined) node.z = 'tab';
    if (node.type === 'inject') node.once = false; // the test triggers it
    if (node.id === SERVER) node.addon = false; // host and token come with the credentials (deploy())
    out.push(node);
  }
  out.push({ id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] });
  out.push({ id: 'caught', z: 'tab', type: 'helper' });
  return placed(withTheOnlyAccount(out));
}

const clone = (m: unknown) => JSON.parse(JSON.stringify(m));

/**
 * Message hooks (test-only) over the deployed flow: what each node sent (onSend), what reached it (onReceive) and
 * how it ended each message (onComplete, with the node's error). `until` waits for a condition on them and fails
 * as soon as a node other than a sensor reaches the Catch node.
 */
function record() {
  const sent: Array<{ from: string; port: number; to: string; msg: any }> = [];
  const received = new Map<string, any[]>();
  const ended = new Map<string, Array<{ msgid: string; error?: Error }>>();
  const waits = new Set<() => void>();
  let failure: Error | undefined;
  const poke = () => [...waits].forEach((w) => w());
  const push = <T>(m: Map<string, T[]>, k: string, v: T) => m.set(k, [...(m.get(k) ?? []), v]);
  hooks.add(`onSend.${HOOK}`, (events: any[]) => {
    for (const e of events) sent.push({ from: e.source.id, port: e.source.port, to: e.destination.id, msg: clone(e.msg) });
  });
  hooks.add(`onReceive.${HOOK}`, (ev: any) => push(received, ev.destination.id, clone(ev.msg)));
  hooks.add(`onComplete.${HOOK}`, (ev: any) => {
    push(ended, ev.node.id, { msgid: ev.msg._msgid, error: ev.error });
    poke();
  });
  helper.getNode('caught').on('input', (m: any) => {
    if (SENSOR_IDS.includes(m.error?.source?.id)) return;
    failure = new Error(`${m.error?.source?.type} failed: ${m.error?.message}`);
    poke();
  });
  const until = (ok: () => boolean) => new Promise<void>((resolve, reject) => {
    const w = () => {
      if (!failure && !ok()) return;
      waits.delete(w);
      if (failure) reject(failure);
      else resolve();
    };
    waits.add(w);
    w();
  });
  const endedBy = (nodeId: string) => ended.get(nodeId) ?? [];
  const receivedBy = (nodeId: string) => received.get(nodeId) ?? [];
  return { sent, receivedBy, endedBy, until };
}

describe('example flow 07 - Home Assistant sensors (node-red-contrib-home-assistant-websocket)', function () {
  let env: Env | undefined;
  let ha: Awaited<ReturnType<typeof refusingHomeAssistant>>;
  let clock: ReturnType<typeof FakeTimers.install>;
  let day: string;

  beforeEach(async function () {
    clock = FakeTimers.install({ now: NOW, toFake: ['Date'] });
    day = dayIn(systemTimeZone(), new Date());
    env = await setUp({ today: day });
    ha = await refusingHomeAssistant();
  });
  afterEach(async function () {
    hooks.remove(`*.${HOOK}`);
    await tearDown(env);
    await ha.close();
    clock.uninstall();
  });
  after(function () {
    paletteTimers.forEach((t) => clearInterval(t));
  });

  async function deploy(): Promise<void> {
    const credentials = { [ACCOUNT]: creds(), [SERVER]: { host: ha.url, access_token: 'refused-by-this-home-assistant' } };
    await helper.load([...OURA, webhookNode, ...CORE, haPalette], prepare(), credentials);
    await authorize(env!, ACCOUNT);
  }

  async function oura(collection: string): Promise<any[]> {
    const handle = helper.getNode(ACCOUNT).handle;
    return ((await getJson(handle, `/v2/usercollection/${collection}`, { start_date: day, end_date: collection === 'sleep' ? addDays(day, 1) : day })) as any).data;
  }

  /** Each sensor ended exactly one message, with NoConnectionError: its input passed the node's own validation. */
  function assertAccepted(rec: ReturnType<typeof record>, sensors: string[]): void {
    for (const sensor of sensors) {
      const ends = rec.endedBy(sensor);
      assert.equal(ends.length, 1, `${sensor}: one message`);
      assert.equal(ends[0].error?.name, 'NoConnectionError', `${sensor}: the node should accept its input and stop only for want of Home Assistant (${ends[0].error?.message})`);
    }
  }

  it('the morning trigger sets state and attributes of all five sensors, in the input the sensor node documents', async function () {
    await deploy();
    const rec = record();
    helper.getNode(INJECT).receive({});
    await rec.until(() => SENSOR_IDS.every((s) => rec.endedBy(s).length > 0));

    const [score] = await oura('daily_sleep');
    const [readiness] = await oura('daily_readiness');
    const night = (await oura('sleep')).find((s) => s.type === 'long_sleep');
    const expected: Record<string, { state: unknown; attributes: Record<string, unknown> }> = {
      [SENSORS.sleepScore]: { state: score.score, attributes: { day, ...score.contributors } },
      [SENSORS.readiness]: {
        state: readiness.score,
        attributes: { day, temperature_deviation: readiness.temperature_deviation, temperature_trend_deviation: readiness.temperature_trend_deviation, ...readiness.contributors },
      },
      [SENSORS.totalSleep]: {
        state: hours(night.total_sleep_duration),
        attributes: {
          day, time_in_bed: hours(night.time_in_bed), deep_sleep: hours(night.deep_sleep_duration), rem_sleep: hours(night.rem_sleep_duration),
          light_sleep: hours(night.light_sleep_duration), efficiency: night.efficiency,
        },
      },
      [SENSORS.restingHr]: { state: night.lowest_heart_rate, attributes: { day, average_heart_rate: night.average_heart_rate, average_hrv: night.average_hrv } },
      [SENSORS.bedtime]: { state: night.bedtime_start, attributes: { day, bedtime_end: night.bedtime_end } },
    };
    for (const sensor of SENSOR_IDS) {
      const got = rec.receivedBy(sensor);
      assert.equal(got.length, 1, `${sensor}: one message`);
      // The sensor node's documented input: msg.payload.state and msg.payload.attributes (its state setting is msg.payload).
      assert.deepEqual(got[0].payload, expected[sensor], sensor);
      for (const key of Object.keys(got[0].payload.attributes)) assert.match(key, /^[a-z0-9_]+$/, 'kept as is by the node (it slugifies keys)');
    }
    assertAccepted(rec, SENSOR_IDS);
    assert.match(expected[SENSORS.bedtime].state as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$/, 'a timestamp sensor needs an offset');
    assert.ok((expected[SENSORS.totalSleep].state as number) > 3, 'hours, not seconds');
    assert.ok(ha.attempts() >= 1, 'the server node did try Home Assistant');
  });

  it('each entity config registers the sensor Home Assistant expects (unit, device and state class, icon)', async function () {
    await deploy();
    // What the sensor's integration sends Home Assistant when it registers the entity (empty fields left out).
    const registered = (sensor: string) => createHaConfig(helper.getNode(helper.getNode(sensor).config.entityConfig).config.haConfig);
    assert.deepEqual(registered(SENSORS.sleepScore), { name: 'Oura sleep score', icon: 'mdi:sleep', state_class: 'measurement' });
    assert.deepEqual(registered(SENSORS.readiness), { name: 'Oura readiness', icon: 'mdi:gauge', state_class: 'measurement' });
    assert.deepEqual(registered(SENSORS.totalSleep), { name: 'Oura total sleep', icon: 'mdi:power-sleep', device_class: 'duration', unit_of_measurement: 'h', state_class: 'measurement' });
    assert.deepEqual(registered(SENSORS.restingHr), { name: 'Oura resting heart rate', icon: 'mdi:heart-pulse', unit_of_measurement: 'bpm', state_class: 'measurement' });
    assert.deepEqual(registered(SENSORS.bedtime), { name: 'Oura bedtime', icon: 'mdi:bed-clock', device_class: 'timestamp' });
  });

  it('a signed Oura event for sleep or readiness refreshes all five sensors', async function () {
    await deploy();
    const rec = record();
    const [readiness] = await oura('daily_readiness');
    const event = { event_type: 'update', data_type: 'daily_readiness', object_id: readiness.id, event_time: new Date().toISOString(), user_id: tokens.current(ACCOUNT)?.user?.id };
    const res = await env!.sim.sendEvent(`${helper.url()}/oura/webhook`, event);
    assert.equal(res.status, 200, res.body);
    await rec.until(() => SENSOR_IDS.every((s) => rec.endedBy(s).length > 0));
    assertAccepted(rec, SENSOR_IDS);
    assert.equal(rec.receivedBy(SENSORS.readiness)[0].payload.state, readiness.score);
    assert.equal(rec.receivedBy(SENSORS.sleepScore)[0].payload.attributes.day, day);
  });

  it('values Oura left out (null) leave their sensor as it is and never reach an attribute', async function () {
    await deploy();
    const rec = record();
    const [score] = await oura('daily_sleep');
    const periods = await oura('sleep');
    const night = periods.find((s) => s.type === 'long_sleep');
    // Every field of a sleep document but a few may be null or absent (Oura's OpenAPI); so may a contributor.
    const partial = { ...night, total_sleep_duration: null, deep_sleep_duration: null, average_heart_rate: null, average_hrv: null };
    const nap = { ...night, type: 'late_nap', id: 'nap', lowest_heart_rate: 40, bedtime_start: `${day}T14:00:00.000+01:00` };
    const fns = { score: id(20), readiness: id(21), night: id(22) };
    helper.getNode(fns.readiness).receive({ payload: [] });
    helper.getNode(fns.score).receive({ payload: [{ ...score, contributors: { ...score.contributors, timing: null } }] });
    helper.getNode(fns.night).receive({ payload: [nap, partial] });
    const reached = () => rec.sent.filter((e) => Object.values(fns).includes(e.from)).map((e) => e.to);
    await rec.until(() => Object.values(fns).every((f) => rec.endedBy(f).length === 1) && reached().every((s) => rec.endedBy(s).length === 1));

    assert.deepEqual(reached().sort(), [SENSORS.sleepScore, SENSORS.restingHr, SENSORS.bedtime].sort(), 'no readiness yet, no total sleep');
    assertAccepted(rec, reached());
    const contributors = { ...score.contributors };
    delete contributors.timing;
    assert.deepEqual(rec.receivedBy(SENSORS.sleepScore)[0].payload, { state: score.score, attributes: { day, ...contributors } });
    assert.deepEqual(rec.receivedBy(SENSORS.restingHr)[0].payload, { state: night.lowest_heart_rate, attributes: { day } }, 'the night, not the nap');
    assert.deepEqual(rec.receivedBy(SENSORS.bedtime)[0].payload, { state: night.bedtime_start, attributes: { day, bedtime_end: night.bedtime_end } });
  });
});

function hours(seconds: number): number {
  return Math.round(seconds / 36) / 100;
}
