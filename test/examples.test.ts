/**
 * Every example flow under examples/ imports and runs: its inject nodes are triggered and what would reach
 * the user (debug sidebar, a CSV file, a dashboard chart) is checked. Only the Oura cloud is simulated.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { accountConfig, authorize, creds, Env, helper, inject, placed, setUp, tearDown } from './support';
import { clockFrom, NOON, productClockAt } from './clock';

const core = (p: string) => require(`@node-red/nodes/core/${p}`);
const NODES = [
  require('../src/oura-account'), require('../src/oura-sleep'), require('../src/oura-data'),
  core('common/20-inject.js'), core('common/90-comment.js'), core('common/24-complete.js'), core('common/25-catch.js'), core('function/10-function.js'), core('parsers/70-CSV.js'),
];
const ACCOUNT = 'a1b2c3d4e5f60001';
const dir = path.resolve(__dirname, '../examples');

/**
 * The example as imported into a Node-RED that has one Oura account (its oura nodes name none and use that one).
 * What a user sees is replaced by helper nodes with the same ids; dashboard config nodes go away.
 */
function prepare(file: string): any[] {
  const flow = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as any[];
  const out: any[] = [{ id: 'tab', type: 'tab', label: file }, accountConfig(ACCOUNT)];
  for (const n of flow) {
    if (['ui-group', 'ui-page', 'ui-base', 'ui-theme'].includes(n.type)) continue;
    const node = { ...n };
    if (node.type !== 'oura-account') node.z = 'tab';
    if (['debug', 'file', 'ui-chart'].includes(node.type)) {
      for (const k of Object.keys(node)) if (!['id', 'z', 'x', 'y', 'name'].includes(k)) delete node[k];
      node.type = 'helper';
      node.wires = [];
    }
    if (node.type === 'inject') node.once = false; // the test triggers it
    out.push(node);
  }
  const ouraNodes = out.filter((n) => /^oura (sleep|data)$/.test(n.type)).map((n) => n.id);
  out.push({ id: 'complete', z: 'tab', type: 'complete', scope: ouraNodes, uncaught: false, wires: [['completed']] });
  out.push({ id: 'completed', z: 'tab', type: 'helper' });
  out.push({ id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] });
  out.push({ id: 'caught', z: 'tab', type: 'helper' });
  return placed(out);
}

/** Triggers an inject node and resolves with the first message that reaches `sinkId`. */
function run(injectId: string, sinkId: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const sink = helper.getNode(sinkId);
    const caught = helper.getNode('caught');
    sink.on('input', (m: any) => resolve(m));
    caught.on('input', (m: any) => reject(new Error(m.error?.message)));
    helper.getNode(injectId).receive({});
  });
}

async function load(env: Env, file: string): Promise<void> {
  await helper.load(NODES, prepare(file), { [ACCOUNT]: creds() });
  await authorize(env, ACCOUNT);
}

describe('example flows', function () {
  let env: Env;
  beforeEach(async function () {
    // The flows ask for last night, today, yesterday, the last 7 or 30 days: the simulator and the package both
    // read noon on TODAY, whatever the machine's date and zone.
    env = await setUp({ now: clockFrom(NOON) });
    productClockAt(NOON);
  });
  afterEach(async function () {
    await tearDown(env);
  });

  it('there is one for every flow node type; none brings an Oura account of its own, so the user\'s is used', function () {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    const types = new Set(files.flatMap((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).map((n: any) => n.type)));
    for (const t of ['oura sleep', 'oura data', 'oura webhook']) assert.ok(types.has(t), t);
    for (const f of files) {
      const flow = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      assert.ok(flow.some((n: any) => n.type === 'comment'), `${f} explains itself`);
      assert.ok(!JSON.stringify(flow).includes('credentials'), `${f} carries no credentials`);
      assert.ok(!flow.some((n: any) => n.type === 'oura-account'), `${f} has no oura-account node`);
      for (const n of flow.filter((x: any) => /^oura /.test(x.type))) assert.equal(n.account, '', `${f}: ${n.id} names no account`);
    }
  });

  it("01 - Read last night's sleep", async function () {
    await load(env, "01 - Read last night's sleep.json");
    const night = await run('c0ffee0000000102', 'c0ffee0000000104');
    assert.ok(night.payload.length >= 1 && night.payload.every((d: any) => d.bedtime_start));
    const week = await run('c0ffee0000000105', 'c0ffee0000000107');
    assert.equal(week.payload.length, 7);
  });

  it('02 - Morning sleep-score notification: one message per new score, none when nothing changed', async function () {
    await load(env, '02 - Morning sleep-score notification.json');
    const note = await run('c0ffee0000000202', 'c0ffee0000000205');
    assert.match(note.payload, /^Good morning! Sleep score \d+ for \d{4}-\d{2}-\d{2} \(deep sleep \d+, REM \d+, efficiency \d+\)\.$/);
    let extra = 0;
    helper.getNode('c0ffee0000000205').on('input', () => extra++);
    await new Promise<void>((resolve) => {
      inject('c0ffee0000000203', {}, { onDone: () => resolve() });
    });
    assert.equal(extra, 0, 'the same score is not announced twice');
  });

  it('03 - Sleep history to CSV', async function () {
    await load(env, '03 - Sleep history to CSV.json');
    const csv = await run('c0ffee0000000302', 'c0ffee0000000306');
    const lines = String(csv.payload).trim().split('\n');
    assert.equal(lines[0], 'day,bedtime_start,bedtime_end,total_sleep_min,deep_min,rem_min,efficiency,average_heart_rate');
    assert.equal(lines.length, 31, 'a header and one row per night');
    assert.match(lines[1], /^\d{4}-\d{2}-\d{2},\d{4}-/);
  });

  it('04 - Dashboard sleep score chart (chart data; the dashboard package itself is not installed here)', async function () {
    const flow = JSON.parse(fs.readFileSync(path.join(dir, '04 - Dashboard sleep score chart.json'), 'utf8'));
    assert.match(flow.find((n: any) => n.type === 'comment').name, /@flowfuse\/node-red-dashboard/);
    await load(env, '04 - Dashboard sleep score chart.json');
    const chart = await run('c0ffee0000000402', 'c0ffee0000000405');
    assert.equal(chart.payload.length, 30);
    assert.ok(chart.payload.every((p: any) => /^\d{4}-\d{2}-\d{2}$/.test(p.x) && p.y >= 0 && p.y <= 100));
    assert.equal(chart.action, 'replace');
  });

  it('05 - Readiness, activity and heart rate', async function () {
    await load(env, '05 - Readiness, activity and heart rate.json');
    const readiness = await run('c0ffee0000000502', 'c0ffee0000000504');
    assert.equal(readiness.oura.collection, 'daily_readiness');
    const activity = await run('c0ffee0000000505', 'c0ffee0000000507');
    assert.equal(activity.oura.collection, 'daily_activity', 'msg.collection from the inject node');
    assert.deepEqual(Object.keys(activity.payload[0]).sort(), ['active_calories', 'day', 'score', 'steps']);
    const page = await run('c0ffee0000000508', 'c0ffee0000000510');
    assert.ok(page.parts && page.payload.length > 0, 'one message per page');
  });
});
