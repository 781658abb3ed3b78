/**
 * What a user sees when things go right and wrong: every node status of `oura sleep` / `oura data` is one of the
 * README's status table, each row of the table is shown by some situation here, and failures reach Catch nodes as
 * sentences with stable codes (msg.error.code, msg.ouraError), or the debug sidebar as a sentence when uncaught.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { accountConfig, ask, askError, authorize, creds, Env, helper, inject, placed, setUp, tearDown } from '../support';
import { ERROR_CODES } from '../../src/lib/errors';
import { timing } from '../../src/lib/retry';

const dataNode = require('../../src/oura-data');
const sleepNode = require('../../src/oura-sleep');
const accountNode = require('../../src/oura-account');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');

const SIM = { today: '2026-06-30', now: () => Date.parse('2026-07-01T09:00:00Z') };
const DAY = '2026-06-29';
const README = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');

type Shown = { fill?: string; shape?: string; text?: string };

/** The README's status table as `fill shape` + a pattern of the text. */
function statusTable(): Array<{ row: string; fill: string; shape: string; re: RegExp }> {
  const section = README.slice(README.indexOf('### Statuses'), README.indexOf('### Errors'));
  const rows = [...section.matchAll(/^\| (\w+) (dot|ring) \*([^*]+)\* \|/gm)];
  assert.ok(rows.length > 20, 'the README has a status table');
  return rows.map((m) => {
    const pattern = m[3]
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/…/g, '.+')
      .replace(/\bHH:MM\b/g, '\\d\\d:\\d\\d')
      .replace(/\bm:ss\b/g, '\\d+:\\d\\d')
      .replace(/\bCOLLECTION\b/g, '[A-Za-z0-9_]+')
      .replace(/\b[NPDTU]\b/g, '\\d+')
      .replace(/documents/g, 'documents?')
      .replace(/pages/g, 'pages?');
    return { row: m[0], fill: m[1], shape: m[2], re: new RegExp(`^${pattern}$`) };
  });
}

/** Every status the package's nodes showed since the helper loaded the flow (the helper spies Node.prototype.status). */
function statusesOf(ids: string[]): Shown[] {
  const spy = helper._NodePrototype.status as { getCalls(): Array<{ thisValue: { id: string }; args: Shown[] }> };
  return spy.getCalls().filter((c) => ids.includes(c.thisValue?.id)).map((c) => c.args[0]).filter((s) => s && s.text);
}

function flow(extra: unknown[] = [], account = 'acc1', withAccount = true): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    ...(withAccount ? [accountConfig('acc1')] : []),
    { id: 'data1', z: 'tab', type: 'oura data', account, collection: 'daily_readiness', range: 'last_7_days', output: 'all', wires: [['out']] },
    { id: 'pages1', z: 'tab', type: 'oura data', account, collection: 'heartrate', timezone: 'UTC', output: 'page', wires: [['out']] },
    { id: 'new1', z: 'tab', type: 'oura data', account, collection: 'daily_sleep', output: 'all', newOnly: true, wires: [['out']] },
    { id: 'sleep1', z: 'tab', type: 'oura sleep', account, collection: 'sleep', wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    { id: 'complete', z: 'tab', type: 'complete', scope: ['pages1', 'new1'], uncaught: false, wires: [['completed']] },
    { id: 'completed', z: 'tab', type: 'helper' },
    ...extra,
  ];
}
const NODES = ['data1', 'pages1', 'new1', 'sleep1'];

function load(f: unknown[], credentials: Record<string, unknown> = { acc1: creds() }): Promise<void> {
  return helper.load([accountNode, dataNode, sleepNode, catchNode, completeNode], placed(f), credentials);
}

/** Sends a message and waits until the node is done with it (output, Complete or Catch). */
function settle(nodeId: string, msg: Record<string, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const forget = inject(nodeId, msg, {
      onOut: () => undefined,
      onDone: () => {
        forget();
        resolve();
      },
      onError: () => {
        forget();
        resolve();
      },
    });
  });
}

describe('node statuses and errors, as the README says', function () {
  const seen: Array<Shown & { where: string }> = [];
  let env: Env | undefined;
  const keep = (where: string) => seen.push(...statusesOf(NODES).map((s) => ({ ...s, where })));
  afterEach(async function () {
    keep(this.currentTest?.title ?? '');
    await tearDown(env);
    env = undefined;
  });

  it('no account, several accounts: yellow, saying what to do, code OURA_NO_ACCOUNT', async function () {
    env = await setUp(SIM);
    await load(flow([], '', false), {});
    assert.deepEqual(statusesOf(['data1']).at(-1), { fill: 'yellow', shape: 'ring', text: 'no account' });
    const none = await askError({}, 'data1');
    assert.match(none.message, /^There is no Oura account yet: open this node, click the pencil next to Account to add one/);
    assert.equal(none.msg.error.code, 'OURA_NO_ACCOUNT');
    assert.deepEqual(statusesOf(['data1']).at(-1), { fill: 'yellow', shape: 'ring', text: 'no account' });
    keep('no account');
    await helper.unload();
    await load(flow([accountConfig('acc2', { name: 'Partner' })], ''), { acc1: creds(), acc2: creds() });
    assert.deepEqual(statusesOf(['data1']).at(-1), { fill: 'yellow', shape: 'ring', text: 'pick an account' });
    const several = await askError({}, 'data1');
    assert.match(several.message, /^Several Oura accounts are deployed \("Me", "Partner"\): open this node, pick one under Account/);
    assert.equal(several.msg.error.code, 'OURA_NO_ACCOUNT');
  });

  it('never authorized: yellow "not authorized" before and after a message, and a sentence with OURA_NOT_AUTHORIZED', async function () {
    env = await setUp(SIM);
    await load(flow([], ''));
    assert.deepEqual(statusesOf(['sleep1']).at(-1), { fill: 'yellow', shape: 'ring', text: 'not authorized' });
    const err = await askError({ start_date: DAY }, 'sleep1');
    assert.equal(err.msg.error.message, 'This Oura account is not authorized yet: open the Oura account node, click Authorize and accept on Oura\'s page, then Update and Deploy.');
    assert.equal(err.msg.error.code, 'OURA_NOT_AUTHORIZED');
    assert.deepEqual(err.msg.ouraError, { code: 'OURA_NOT_AUTHORIZED' });
    assert.equal(err.msg.error.source.id, 'sleep1');
    assert.deepEqual(statusesOf(['sleep1']).at(-1), { fill: 'yellow', shape: 'ring', text: 'not authorized' });
  });

  it('an empty Account uses the only deployed account: data, progress over pages and days, and the done statuses', async function () {
    env = await setUp({ ...SIM, pageSize: 3 });
    await load(flow([], ''));
    await authorize(env);
    assert.ok((await ask({ start_date: '2026-06-20', end_date: DAY }, 'data1')).payload.length === 10);
    await ask({ collection: 'heartrate', start_date: '2026-06-25', end_date: DAY }, 'data1');
    await ask({ collection: 'heartrate', start_datetime: '2026-06-27T00:00:00Z', end_datetime: '2026-06-28T12:00:00Z' }, 'data1');
    await ask({ collection: 'personal_info' }, 'data1');
    await settle('pages1', { start_date: '2026-06-28', end_date: DAY });
    await settle('new1', { start_date: '2026-06-26', end_date: '2026-06-27' });
    await settle('new1', { start_date: '2026-06-26', end_date: DAY });
    await settle('new1', { start_date: '2026-06-26', end_date: DAY });
    const texts = statusesOf(NODES).map((s) => s.text);
    for (const re of [/^page 1, 1 of 5 days$/, /^page \d+, 5 of 5 days$/, /^page 2$/, /^10 documents at \d\d:\d\d$/, /^personal_info at \d\d:\d\d$/,
      /^\d+ documents in \d+ pages at \d\d:\d\d$/, /^2 documents \(2 unchanged\) at \d\d:\d\d$/, /^no new documents at \d\d:\d\d$/]) {
      assert.ok(texts.some((t) => re.test(t ?? '')), `${re} in ${JSON.stringify(texts)}`);
    }
  });

  it('retries, counts down, gives up: yellow while waiting, red with the reason and a code when it ends', async function () {
    env = await setUp(SIM);
    await load(flow([], ''));
    await authorize(env);
    env.sim.setFaults([{ kind: '500', count: 1 }]);
    await ask({ start_date: DAY }, 'data1');
    env.sim.setFaults([{ kind: '429', retryAfter: '7', count: 1 }]);
    await ask({ start_date: DAY }, 'data1');
    const expectFail = async (faults: object[], code: string, status: string, extra: (e: { msg: any }) => void = () => undefined) => {
      env!.sim.setFaults(faults as never);
      const e = await askError({ start_date: DAY }, 'data1');
      assert.equal(e.msg.error.code, code, e.message);
      assert.deepEqual(statusesOf(['data1']).at(-1), { fill: 'red', shape: 'ring', text: status });
      assert.ok(!/^\w*Error: /.test(e.msg.error.message), `a sentence, not "${e.msg.error.message.slice(0, 40)}"`);
      extra(e);
    };
    await expectFail([{ kind: '500', count: 4 }], 'OURA_HTTP_ERROR', 'HTTP 500', (e) => assert.deepEqual(e.msg.ouraError, { code: 'OURA_HTTP_ERROR', status: 500, detail: 'Internal Server Error' }));
    await expectFail([{ kind: '429', retryAfter: '0', count: 4 }], 'OURA_RATE_LIMITED', 'rate limited');
    await expectFail([{ kind: '429', retryAfter: '1800', count: 1 }], 'OURA_RATE_LIMITED', 'rate limited: wait 30 min');
    await expectFail([{ kind: '422', count: 1 }], 'OURA_REQUEST_REFUSED', 'invalid request', (e) => assert.equal(e.msg.ouraError.status, 422));
    await expectFail([{ kind: 'drop', count: 4 }], 'OURA_NETWORK', 'network error');
    await expectFail([{ kind: 'garbage', count: 4 }], 'OURA_BAD_ANSWER', 'bad answer from Oura');
    timing.requestTimeoutMs = 100;
    await expectFail([{ kind: 'slow', delayMs: 1000, count: 4 }], 'OURA_NETWORK', 'timeout', (e) => assert.equal(e.msg.ouraError.cause, 'ETIMEDOUT'));
    timing.requestTimeoutMs = 30_000;
    const bad = await askError({ start_date: 'yesterday' }, 'data1');
    assert.equal(bad.msg.error.code, 'OURA_INVALID_INPUT');
    assert.equal(bad.msg.error.message, 'msg.start_date must be a date written YYYY-MM-DD, e.g. 2026-11-23 (got "yesterday")');
    const missing = await askError({ collection: 'sleep', document_id: 'no-such-id' }, 'data1');
    assert.equal(missing.msg.error.code, 'OURA_NOT_FOUND');
    assert.deepEqual(statusesOf(['data1']).at(-1), { fill: 'red', shape: 'ring', text: 'document not found' });
  });

  it('scopes, a refused renewal, a token endpoint answering 503, tokens not saved: each shown as the README says', async function () {
    env = await setUp(SIM);
    await load(flow([], ''));
    await authorize(env, 'acc1', { scopes: ['daily'] });
    const scope401 = await askError({ collection: 'heartrate', start_date: DAY }, 'data1');
    assert.equal(scope401.msg.error.code, 'OURA_MISSING_SCOPE');
    const scope403 = await askError({ collection: 'daily_spo2', start_date: DAY }, 'data1');
    assert.deepEqual(scope403.msg.ouraError.status, 403);
    env.sim.expireAccessTokens();
    env.sim.setFaults([{ kind: '503', target: 'token', count: 1 }]);
    const token = await askError({ start_date: DAY }, 'data1');
    assert.equal(token.msg.error.code, 'OURA_TOKEN_ERROR');
    assert.deepEqual(token.msg.ouraError, { code: 'OURA_TOKEN_ERROR', status: 503, detail: 'Service Unavailable' });
    const nodeFs: { writeSync: unknown } = require('fs');
    const realWrite = nodeFs.writeSync;
    nodeFs.writeSync = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    try {
      await ask({ start_date: DAY }, 'data1');
    } finally {
      nodeFs.writeSync = realWrite;
    }
    env.sim.revokeAll();
    env.sim.expireAccessTokens();
    const reauth = await askError({ start_date: DAY }, 'data1');
    assert.equal(reauth.msg.error.code, 'OURA_REAUTH_REQUIRED');
    assert.deepEqual(statusesOf(['data1']).at(-1), { fill: 'red', shape: 'ring', text: 're-authorization needed' });
    assert.deepEqual(statusesOf(['sleep1']).at(-1), { fill: 'red', shape: 'ring', text: 're-authorization needed' }, 'the other nodes of the account follow');
  });

  it('without a Catch node, the debug sidebar gets the sentence, not a folded error object', async function () {
    env = await setUp(SIM);
    await helper.load([accountNode, sleepNode], placed([
      { id: 'tab', type: 'tab', label: 'test' }, accountConfig('acc1'), { id: 'lone', z: 'tab', type: 'oura sleep', account: '', wires: [[]] },
    ]), { acc1: creds() });
    helper.getNode('lone').receive({ start_date: DAY });
    const logged = () => helper.log().args.map((a: any[]) => a[0]).find((o: any) => o.level === 20 && o.id === 'lone');
    while (!logged()) await new Promise((r) => setImmediate(r));
    assert.equal(logged().msg, 'This Oura account is not authorized yet: open the Oura account node, click Authorize and accept on Oura\'s page, then Update and Deploy.');
  });

  after(function () {
    assert.ok(seen.length > 40, `statuses were recorded (${seen.length})`);
    const table = statusTable();
    const unknown = seen.filter((s) => !table.some((t) => t.fill === s.fill && t.shape === s.shape && t.re.test(s.text ?? '')));
    assert.deepEqual(unknown.map((s) => `${s.fill} ${s.shape} "${s.text}" (${s.where})`), [], 'statuses the README does not list');
    const unseen = table.filter((t) => !seen.some((s) => t.fill === s.fill && t.shape === s.shape && t.re.test(s.text ?? '')));
    assert.deepEqual(unseen.map((t) => t.row), [], 'README statuses no situation here showed');
  });
});

describe('error codes are documented', function () {
  it('every stable code is in the README and in the nodes\' help', function () {
    const help = ['oura-data', 'oura-sleep'].map((n) => fs.readFileSync(path.join(__dirname, `../../nodes/locales/en-US/${n}.html`), 'utf8')).join('\n');
    for (const code of ERROR_CODES) {
      assert.ok(README.includes(`\`${code}\``), `${code} in the README`);
      assert.ok(help.includes(code), `${code} in the help`);
    }
  });
});
