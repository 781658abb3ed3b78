/**
 * The `oura webhook` node against the simulator, over real HTTP: the simulator plays Oura (verification
 * call, signed events, subscriptions) and reaches the node through the test server, where RED.httpNode is
 * mounted at httpNodeRoot as Node-RED mounts it.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import * as FakeTimers from '@sinonjs/fake-timers';
import { accountConfig, assertNoSecrets, authorize, CLIENT_ID, CLIENT_SECRET, creds, Env, helper, placed, setUp, tearDown } from '../support';
import { request } from '../../sim/http';
import { sign } from '../../sim/webhooks';
import { getJson } from '../../src/lib/data/api';
import { axiosTransport, HttpRequest, setTransport } from '../../src/lib/http';
import * as tokens from '../../src/lib/store/tokens';
import { MAX_PATHS, RecentEvents, recentEventsFor } from '../../src/lib/webhook/events';
import { callbackUrl, normalizePath, WebhookRoutes } from '../../src/lib/webhook/routes';
import { clock, nextCheck, RENEW_BEFORE_MS, Wakeup, WebhookClock } from '../../src/lib/webhook/schedule';
import { parseTimestamp, pythonJson, signature, verifySignature } from '../../src/lib/webhook/signature';
import { day, TODAY, VO2_MAX_DAY } from '../clock';
import { until } from '../until';

const webhookModule = require('../../src/oura-webhook');
const accountNode = require('../../src/oura-account');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

const VERIFY = 'verify-token-for-tests-0123456789';
const HOOK_PATH = '/oura/hook';
const DAY = 86_400_000;

let root = '/';
let parseFirst = false;

/** A body parser ahead of every route, as another package or httpNodeMiddleware might install. */
function greedyJsonParser(req: any, _res: unknown, next: () => void): void {
  if (req.method !== 'POST') return next();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      req.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      req.body = {};
    }
    req._body = true;
    next();
  });
}

/** The module as Node-RED loads it, with RED.httpNode served by the test server at httpNodeRoot. */
function webhookNode(red: any) {
  if (parseFirst) red.httpNode.use(greedyJsonParser);
  helper._app.use(root, red.httpNode);
  return webhookModule(red);
}

const base = () => helper.url();
const hookUrl = () => `${base()}${root === '/' ? '' : root}${HOOK_PATH}`;

function flow(props: Record<string, unknown> = {}, extra: unknown[] = []) {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    accountConfig('acc1'),
    { id: 'hook', z: 'tab', type: 'oura webhook', account: 'acc1', path: HOOK_PATH, baseUrl: base(), fetch: false, maxAge: '', wires: [['out']], ...props },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    ...extra,
  ];
}

const credentials = () => ({ acc1: creds(), hook: { verificationToken: VERIFY } });

/** Every message that reaches the helper nodes, with one listener each for their whole life. */
interface Seen { out: any[]; caught: any[] }

async function start(env: Env, props: Record<string, unknown> = {}): Promise<Seen> {
  await helper.load([accountNode, webhookNode, catchNode], placed(flow(props)), credentials());
  await authorize(env, 'acc1');
  return listen();
}

function listen(): Seen {
  const seen: Seen = { out: [], caught: [] };
  helper.getNode('out').on('input', (m: any) => seen.out.push(m));
  helper.getNode('caught').on('input', (m: any) => seen.caught.push(m));
  return seen;
}

const userId = () => tokens.current('acc1')?.user?.id as string;

let serial = 0;
function event(extra: Record<string, unknown> = {}) {
  serial++;
  return {
    event_type: 'create', data_type: 'daily_sleep', object_id: `obj-${serial}`, event_time: new Date().toISOString(), user_id: userId(), ...extra,
  };
}

/** Posts a body exactly as given, signed (or not) as asked. */
function post(url: string, body: string, headers: Record<string, string>) {
  return request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
}

function signed(body: string, timestamp = String(Math.floor(Date.now() / 1000)), secret = CLIENT_SECRET) {
  return { 'x-oura-timestamp': timestamp, 'x-oura-signature': sign(secret, timestamp, body) };
}

function logText(): string {
  return helper.log().args.map((a: any[]) => JSON.stringify(a[0])).join('\n');
}

function statuses(): Array<{ fill?: string; shape?: string; text?: string }> {
  const seen: Array<{ fill?: string; shape?: string; text?: string }> = [];
  helper.getNode('hook').on('call:status', (call: { args: any[] }) => seen.push(call.args[0]));
  return seen;
}

async function simWebhooks(env: Env): Promise<Array<Record<string, string>>> {
  const r = await request(`${env.sim.url}/_sim/webhooks`);
  return JSON.parse(r.body);
}

describe('oura webhook', function () {
  let env: Env | undefined;
  afterEach(async function () {
    root = '/';
    parseFirst = false;
    setTransport();
    await tearDown(env);
    env = undefined;
  });

  describe('helpers', function () {
    it('reads x-oura-timestamp as seconds, milliseconds or ISO 8601', function () {
      assert.equal(parseTimestamp('1700000000'), 1700000000_000);
      assert.equal(parseTimestamp('1700000000.5'), 1700000000_500);
      assert.equal(parseTimestamp('1700000000123'), 1700000000_123);
      assert.equal(parseTimestamp('2023-11-14T22:13:20Z'), 1700000000_000);
      assert.equal(parseTimestamp('2023-11-14T23:13:20+01:00'), 1700000000_000);
      assert.equal(parseTimestamp('2023-11-14T22:13:20'), 1700000000_000, 'no zone: UTC');
      for (const bad of ['', 'soon', '-5', '2023-13-45T99:99', undefined]) assert.equal(parseTimestamp(bad), undefined, String(bad));
    });

    it('re-serializes like Python\'s json.dumps, and checks signatures over every candidate body', function () {
      const body = { event_type: 'update', data_type: 'vo2_max', n: 1, ok: true, none: null, list: [1, 'é'], text: 'Zoë 😀' };
      assert.equal(pythonJson(body),
        '{"event_type": "update", "data_type": "vo2_max", "n": 1, "ok": true, "none": null, "list": [1, "\\u00e9"], "text": "Zo\\u00eb \\ud83d\\ude00"}');
      const ts = '1700000000';
      const sig = signature('s3cret', ts, pythonJson(body));
      assert.match(sig, /^[0-9A-F]{64}$/);
      assert.equal(sig, sign('s3cret', ts, pythonJson(body)), 'same as the simulator (and Oura)');
      assert.ok(verifySignature('s3cret', ts, sig, [JSON.stringify(body), pythonJson(body)]));
      assert.ok(verifySignature('s3cret', ts, sig.toLowerCase(), [pythonJson(body)]), 'hex case does not matter');
      assert.ok(!verifySignature('s3cret', '1700000001', sig, [pythonJson(body)]), 'the timestamp is signed');
      assert.ok(!verifySignature('other', ts, sig, [pythonJson(body)]));
      assert.ok(!verifySignature('s3cret', ts, 'ABC', [pythonJson(body)]));
      assert.ok(!verifySignature('s3cret', ts, sig, []));
    });

    it('builds the callback URL from the public base URL, httpNodeRoot and the path', function () {
      assert.equal(normalizePath('oura//hook/'), '/oura/hook');
      assert.equal(callbackUrl('https://nr.example.org/', '/', 'oura/hook'), 'https://nr.example.org/oura/hook');
      assert.equal(callbackUrl('https://nr.example.org', '/endpoint/', '/oura/hook'), 'https://nr.example.org/endpoint/oura/hook');
      assert.equal(callbackUrl('https://example.org/nodered', undefined, '/h'), 'https://example.org/nodered/h');
      assert.equal(callbackUrl('', '/', '/h'), undefined);
      assert.equal(callbackUrl('ftp://x', '/', '/h'), undefined);
    });

    it('answers 503 while a node is redeployed, 410 once it is deleted, and nothing for other paths', function () {
      const routes = new WebhookRoutes();
      const answer = (p: string) => {
        let status = 0;
        let passed = false;
        const res: any = { headersSent: false, writeHead: (s: number) => { status = s; }, end: () => undefined };
        routes.dispatch({ path: p, url: p, headers: {} } as any, res, () => { passed = true; });
        return passed ? 'next' : status;
      };
      const a = () => undefined;
      const b = () => undefined;
      assert.ok(routes.claim('/h', a));
      assert.ok(!routes.claim('/h', b), 'one node per path');
      assert.equal(answer('/other'), 'next');
      routes.release('/h', a, false);
      assert.equal(answer('/h'), 503);
      assert.ok(routes.claim('/h', b));
      routes.release('/h', a, true);
      assert.ok(routes.claim('/h2', a));
      routes.release('/h', b, true);
      assert.equal(answer('/h'), 410);
      assert.ok(routes.claim('/h', a), 'a new node may take a retired path');
    });

    it('remembers events for a window, then forgets them', function () {
      const r = new RecentEvents(1000, 3);
      assert.equal(r.check('a', 0), false);
      assert.equal(r.check('a', 999), true);
      assert.equal(r.check('a', 2000), false, 'outside the window');
      for (const k of ['b', 'c', 'd', 'e']) r.check(k, 2000);
      assert.ok(r.size <= 3, 'bounded');
    });

    it('keeps one replay memory per path across node instances, for a bounded number of paths', function () {
      const first = recentEventsFor('/memory-test/0', 1000);
      assert.equal(first.check('a', 0), false);
      const again = recentEventsFor('/memory-test/0', 5000);
      assert.equal(again, first, 'a redeployed node gets the memory of its path');
      assert.equal(again.windowMs, 5000, 'with the window it uses now');
      assert.equal(again.check('a', 4000), true);
      for (let i = 1; i <= MAX_PATHS; i++) recentEventsFor(`/memory-test/${i}`, 1000);
      const fresh = recentEventsFor('/memory-test/0', 5000);
      assert.notEqual(fresh, first, 'the path used longest ago is forgotten first');
      assert.equal(fresh.check('a', 4000), false);
    });

    it('wakes up months ahead in steps a timer can take, renewing 7 days before expiry', function () {
      const fake = FakeTimers.createClock(0);
      const c: WebhookClock = { now: () => fake.now, setTimeout: (fn, ms) => fake.setTimeout(fn, ms), clearTimeout: (h) => fake.clearTimeout(h as never) };
      let woke = 0;
      const w = new Wakeup(() => woke++, c);
      w.at(90 * DAY);
      fake.tick(90 * DAY - 1);
      assert.equal(woke, 0);
      assert.equal(fake.countTimers(), 1);
      fake.tick(1);
      assert.equal(woke, 1);
      assert.equal(fake.countTimers(), 0);
      w.at(5 * DAY);
      w.cancel();
      assert.equal(fake.countTimers(), 0);
      const exp = new Date(90 * DAY).toISOString();
      assert.equal(nextCheck([exp, new Date(100 * DAY).toISOString()], 0), 90 * DAY - RENEW_BEFORE_MS);
      assert.equal(nextCheck([new Date(DAY).toISOString()], 0), 3600_000, 'never sooner than an hour');
      assert.equal(nextCheck([], 0), undefined);
    });
  });

  it("answers Oura's verification call under httpNodeRoot, and 401 for a wrong token", async function () {
    env = await setUp();
    root = '/endpoint';
    helper.settings({ ...helper.settings(), httpNodeRoot: '/endpoint' });
    await start(env);
    const ok = await request(`${hookUrl()}?verification_token=${VERIFY}&challenge=c-123`);
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { challenge: 'c-123' });
    const wrong = await request(`${hookUrl()}?verification_token=nope&challenge=c-123`);
    assert.equal(wrong.status, 401);
    assert.ok(!wrong.body.includes(VERIFY));
    const none = await request(`${hookUrl()}?challenge=c-123`);
    assert.equal(none.status, 401);
    const outsideRoot = await request(`${base()}${HOOK_PATH}?verification_token=${VERIFY}&challenge=c`);
    assert.equal(outsideRoot.status, 404, 'served under httpNodeRoot only');
    const info = await helper.request().get('/oura/webhook/info?node=hook');
    assert.equal(info.status, 200);
    assert.equal(info.body.httpNodeRoot, '/endpoint');
    assert.equal(info.body.httpNodeAuth, false);
    assert.equal(info.body.deployed.callbackUrl, `${base()}/endpoint${HOOK_PATH}`);
    assert.ok(info.body.dataTypes.includes('vo2_max'));
    assert.ok(!JSON.stringify(info.body).includes(VERIFY));
  });

  it('tells the dialog when httpNodeAuth is set (Oura cannot send credentials), never what it is', async function () {
    env = await setUp();
    helper.settings({ ...helper.settings(), httpNodeAuth: { user: 'someone', pass: 'pass-hash-0123456789' } });
    await start(env);
    const info = await helper.request().get('/oura/webhook/info?node=hook');
    assert.equal(info.body.httpNodeAuth, true);
    assert.ok(!JSON.stringify(info.body).includes('pass-hash'));
  });

  it('emits a correctly signed event; a bad or missing signature is 401 and emits nothing', async function () {
    env = await setUp();
    const seen = await start(env);
    const st = statuses();
    const bad = await env.sim.sendEvent(hookUrl(), event(), { secret: 'not-the-secret' });
    assert.equal(bad.status, 401);
    const missing = await post(hookUrl(), JSON.stringify(event()), {});
    assert.equal(missing.status, 401);
    const noTimestamp = await post(hookUrl(), JSON.stringify(event()), { 'x-oura-signature': 'AB' });
    assert.equal(noTimestamp.status, 401);
    const e = event({ data_type: 'vo2_max' });
    const t0 = Date.now();
    const good = await env.sim.sendEvent(hookUrl(), e);
    assert.equal(good.status, 200);
    assert.ok(Date.now() - t0 < 2000, 'answered at once');
    await until('the event', () => seen.out.length === 1);
    const m = seen.out[0];
    assert.deepEqual(m.payload, e);
    assert.deepEqual(m.event, e);
    assert.equal(m.topic, 'vo2_max');
    assert.equal(m.collection, 'vO2_max', 'an oura data node wired after it fetches the document');
    assert.equal(m.document_id, e.object_id);
    assert.deepEqual(m.oura, { collection: 'vO2_max', document_id: e.object_id, event_type: 'create', user_id: userId(), account: 'acc1' });
    await until('the status', () => st.some((s) => s.fill === 'green' && /^1 event at \d\d:\d\d$/.test(s.text ?? '')));
    assert.ok(st.some((s) => s.fill === 'red' && s.text === 'rejected: bad signature'));
    const text = logText() + JSON.stringify(st) + JSON.stringify(seen.out);
    assertNoSecrets(env.sim, text, 'logs, statuses or messages');
    assert.ok(!text.includes(VERIFY), 'the verification token stays secret');
  });

  it('refuses stale (replayed) and future timestamps; accepts seconds, milliseconds and ISO 8601', async function () {
    env = await setUp();
    const seen = await start(env, { maxAge: '3600' });
    const now = Date.now();
    const send = (ts: string) => env!.sim.sendEvent(hookUrl(), event(), { timestamp: ts });
    assert.equal((await send(String(Math.floor((now - 2 * 3600_000) / 1000)))).status, 401, 'two hours old');
    assert.equal((await send(new Date(now + 3600_000).toISOString())).status, 401, 'an hour ahead');
    assert.equal((await send('yesterday')).status, 401);
    assert.equal((await send(String(Math.floor((now - 50 * 60_000) / 1000)))).status, 200, '50 minutes old: inside the window');
    assert.equal((await send(String(now))).status, 200, 'milliseconds');
    assert.equal((await send(new Date(now).toISOString())).status, 200, 'ISO 8601');
    await until('three events', () => seen.out.length === 3);
  });

  it('the default replay window outlasts Oura\'s hour of retries', async function () {
    env = await setUp();
    const seen = await start(env);
    const ts = (ms: number) => String(Math.floor((Date.now() - ms) / 1000));
    assert.equal((await env.sim.sendEvent(hookUrl(), event(), { timestamp: ts(2 * 3600_000) })).status, 200, 'a retry two hours after the first try');
    assert.equal((await env.sim.sendEvent(hookUrl(), event(), { timestamp: ts(4 * 3600_000) })).status, 401);
    await until('one event', () => seen.out.length === 1);
  });

  it('drops repeated deliveries of the same event (200), and events of users no account knows (200, debug log)', async function () {
    env = await setUp();
    const seen = await start(env);
    const e = event();
    const first = await env.sim.sendEvent(hookUrl(), e);
    const again = await env.sim.sendEvent(hookUrl(), e, { timestamp: String(Math.floor(Date.now() / 1000) + 30) });
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    assert.equal(JSON.parse(again.body).status, 'duplicate');
    const stranger = await env.sim.sendEvent(hookUrl(), event({ user_id: 'someone-else' }));
    assert.equal(stranger.status, 200);
    const last = event({ data_type: 'daily_readiness' });
    await env.sim.sendEvent(hookUrl(), last);
    await until('two events', () => seen.out.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen.out.map((m) => m.payload.object_id), [e.object_id, last.object_id]);
    assert.match(logText(), /Dropped a create daily_sleep event for Oura user someone-else/);
  });

  it('still knows a delivered event after a redeploy: the very same signed request is a duplicate', async function () {
    env = await setUp();
    const before = await start(env);
    const body = JSON.stringify(event());
    const headers = signed(body);
    assert.equal((await post(hookUrl(), body, headers)).status, 200);
    await until('the event', () => before.out.length === 1);
    await helper.setFlows(placed(flow({ name: 'edited', path: 'oura//hook/' })), 'full', credentials());
    const after = listen();
    const replayed = await post(hookUrl(), body, headers);
    assert.equal(replayed.status, 200);
    assert.equal(JSON.parse(replayed.body).status, 'duplicate');
    const next = event();
    assert.equal((await env.sim.sendEvent(hookUrl(), next)).status, 200);
    await until('the next event', () => after.out.length === 1);
    assert.deepEqual(after.out.map((m) => m.payload.object_id), [next.object_id], 'the replay sent nothing');
    assert.equal(before.out.length, 1);
  });

  it('a delivery whose document could not be fetched is not remembered: Oura\'s retry of it gets through', async function () {
    env = await setUp();
    const seen = await start(env, { fetch: true });
    const handle = helper.getNode('acc1').handle;
    const doc = (await getJson(handle, '/v2/usercollection/daily_sleep', { start_date: day(-2), end_date: TODAY }) as any).data[0];
    const e = event({ object_id: doc.id });
    env.sim.setFaults([{ kind: '500', count: 4 }]);
    assert.equal((await env.sim.sendEvent(hookUrl(), e)).status, 200);
    await until('the failed fetch in a Catch', () => seen.caught.length === 1);
    const retry = await env.sim.sendEvent(hookUrl(), e);
    assert.equal(JSON.parse(retry.body).status, 'accepted', 'not a duplicate');
    await until('the document', () => seen.out.length === 1);
    assert.equal(seen.out[0].payload.id, doc.id);
  });

  it('learns which Oura user an account is when the authorization did not record it', async function () {
    env = await setUp();
    const seen = await start(env);
    const id = userId();
    const rec = tokens.current('acc1')!;
    tokens.setUser('acc1', { email: rec.user?.email }, rec.authorizedAt);
    assert.equal(userId(), undefined);
    assert.equal((await env.sim.sendEvent(hookUrl(), event({ user_id: id }))).status, 200);
    await until('the event', () => seen.out.length === 1);
    assert.equal(userId(), id);
  });

  it('checks the signature over the re-serialized body when a parser consumed the raw bytes (Python style too)', async function () {
    env = await setUp();
    parseFirst = true;
    const seen = await start(env);
    assert.equal((await env.sim.sendEvent(hookUrl(), event())).status, 200, 'compact JSON');
    const py = pythonJson(event({ data_type: 'sleep' }));
    assert.equal((await post(hookUrl(), py, signed(py))).status, 200, 'json.dumps style, as in Oura\'s sample');
    const forged = pythonJson(event({ data_type: 'workout' }));
    assert.equal((await post(hookUrl(), forged, signed(forged, undefined, 'wrong'))).status, 401);
    await until('two events', () => seen.out.length === 2);
    assert.equal(seen.out[1].payload.data_type, 'sleep');
  });

  it('signs over the raw bytes when nothing parsed them (odd spacing and key order kept)', async function () {
    env = await setUp();
    const seen = await start(env);
    const e = event();
    const raw = `{ "user_id":"${e.user_id}",\n "event_type" : "create", "data_type":"daily_sleep", "object_id":"${e.object_id}" }`;
    assert.equal((await post(hookUrl(), raw, signed(raw))).status, 200);
    await until('the event', () => seen.out.length === 1);
    assert.equal((await post(hookUrl(), 'not json', signed('not json'))).status, 400);
  });

  it('fetches the named document with the account\'s tokens (vo2_max -> vO2_max), in the shape of oura data', async function () {
    env = await setUp();
    const seen = await start(env, { fetch: true });
    const handle = helper.getNode('acc1').handle;
    const readiness = (await getJson(handle, '/v2/usercollection/daily_readiness', { start_date: day(-2), end_date: TODAY }) as any).data[0];
    const vo2 = (await getJson(handle, '/v2/usercollection/vO2_max', { start_date: VO2_MAX_DAY, end_date: VO2_MAX_DAY }) as any).data[0];
    assert.ok(readiness && vo2, `the simulator has daily_readiness up to ${TODAY} and a vO2_max document on ${VO2_MAX_DAY}`);
    env.sim.resetStats();
    const e1 = event({ data_type: 'daily_readiness', object_id: readiness.id, event_type: 'update' });
    await env.sim.sendEvent(hookUrl(), e1);
    await until('the document', () => seen.out.length === 1);
    assert.deepEqual(seen.out[0].payload, readiness);
    assert.deepEqual(seen.out[0].oura, { collection: 'daily_readiness', document_id: readiness.id, event_type: 'update', user_id: userId(), account: 'acc1', count: 1 });
    assert.deepEqual(seen.out[0].event, e1);
    await env.sim.sendEvent(hookUrl(), event({ data_type: 'vo2_max', object_id: vo2.id }));
    await until('the vO2 max document', () => seen.out.length === 2);
    // The document's fetch is held until Oura has had its answer: a node that fetched first would never answer.
    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let fetches = 0;
    setTransport(async (req) => {
      if (req.url.includes(`/v2/usercollection/daily_readiness/${readiness.id}`)) {
        fetches++;
        await held;
      }
      return axiosTransport(req);
    });
    let answer: { status: number } | undefined;
    void env.sim.sendEvent(hookUrl(), event({ data_type: 'daily_readiness', object_id: readiness.id, event_type: 'update' })).then((a) => {
      answer = a;
    });
    await until('Oura\'s answer while the document is not fetched yet', () => answer !== undefined);
    assert.equal(answer!.status, 200);
    await until('the fetch of the document', () => fetches === 1);
    assert.equal(seen.out.length, 2, 'the document comes after the answer');
    release();
    await until('the held document', () => seen.out.length === 3);
    setTransport();
    seen.out.pop();
    assert.deepEqual(seen.out[1].payload, vo2);
    assert.equal(env.sim.stats().byPath[`/v2/usercollection/vO2_max/${vo2.id}`], 1);
    const gone = event({ event_type: 'delete', data_type: 'daily_readiness', object_id: readiness.id });
    await env.sim.sendEvent(hookUrl(), gone);
    await until('the delete event', () => seen.out.length === 3);
    assert.deepEqual(seen.out[2].payload, gone, 'a deleted document cannot be fetched: the event itself');
    await env.sim.sendEvent(hookUrl(), event({ data_type: 'daily_readiness', object_id: 'no-such-document' }));
    await until('the error', () => seen.caught.length === 1);
    assert.match(seen.caught[0].error.message, /document not found/);
    assert.equal(seen.caught[0].event.object_id, 'no-such-document', 'the Catch node gets the event');
  });

  it('subscriptions from the dialog: create (Oura verifies the deployed node), list, renew, delete', async function () {
    env = await setUp();
    await start(env);
    const early = await helper.request().post('/oura/webhook/subscriptions').send({ node: 'not-deployed', eventTypes: ['create'], dataTypes: ['daily_sleep'] });
    assert.equal(early.status, 400);
    assert.match(early.body.error, /Deploy this node first/);
    const created = await helper.request().post('/oura/webhook/subscriptions')
      .send({ node: 'hook', eventTypes: ['create', 'update'], dataTypes: ['daily_sleep', 'vo2_max'] });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.created.length, 4);
    assert.deepEqual(created.body.failed, []);
    const listed = await helper.request().get('/oura/webhook/subscriptions?account=acc1');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.subscriptions.length, 4);
    assert.ok(listed.body.subscriptions.every((s: any) => s.callback_url === hookUrl()));
    const id = listed.body.subscriptions[0].id;
    const renewed = await helper.request().post(`/oura/webhook/subscriptions/${id}/renew`).send({ account: 'acc1' });
    assert.equal(renewed.status, 200);
    assert.equal(renewed.body.subscription.id, id);
    const deleted = await helper.request().delete(`/oura/webhook/subscriptions/${id}?account=acc1`).send({});
    assert.equal(deleted.status, 200);
    assert.equal((await simWebhooks(env)).length, 3);
    const again = await helper.request().delete(`/oura/webhook/subscriptions/${id}?account=acc1`).send({});
    assert.equal(again.status, 502);
    assert.match(again.body.error, /403/);
    const noAccount = await helper.request().get('/oura/webhook/subscriptions?account=nope');
    assert.equal(noAccount.status, 400);
    assert.match(noAccount.body.error, /Deploy the Oura account first/);
    const text = JSON.stringify([created.body, listed.body, renewed.body, again.body]);
    assertNoSecrets(env.sim, text, 'admin answers');
    assert.ok(!text.includes(VERIFY));
  });

  it('a wrong verification token makes Oura\'s verification (and the creation) fail', async function () {
    env = await setUp();
    await helper.load([accountNode, webhookNode, catchNode], placed(flow()), { acc1: creds(), hook: { verificationToken: VERIFY } });
    await authorize(env, 'acc1');
    helper.getNode('hook').credentials.verificationToken = '';
    const r = await helper.request().post('/oura/webhook/subscriptions').send({ node: 'hook', eventTypes: ['create'], dataTypes: ['sleep'] });
    assert.equal(r.status, 200);
    assert.equal(r.body.created.length, 0);
    assert.match(r.body.failed[0].error, /no verification token/);
  });

  it('on deploy ensures its subscriptions; a redeploy keeps them; deleting the node deletes them and its path answers 410', async function () {
    env = await setUp();
    await start(env, { subscribe: true, eventTypes: ['create', 'update'], dataTypes: ['daily_sleep'] });
    const ready = async () => (await simWebhooks(env!)).length === 2;
    for (let i = 0; i < 200 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 10));
    const subs = await simWebhooks(env);
    assert.deepEqual(subs.map((s) => `${s.event_type} ${s.data_type} ${s.callback_url}`).sort(), [`create daily_sleep ${hookUrl()}`, `update daily_sleep ${hookUrl()}`]);

    const deployed = placed(flow({ subscribe: true, eventTypes: ['create', 'update'], dataTypes: ['daily_sleep'] }));
    await helper.setFlows(deployed, 'full', credentials());
    const after = listen();
    assert.equal((await env.sim.sendEvent(hookUrl(), event())).status, 200, 'the new instance serves the path');
    await until('the event', () => after.out.length === 1);
    assert.equal((await simWebhooks(env)).length, 2, 'a redeploy keeps the subscriptions');

    await helper.setFlows(deployed.filter((n: any) => n.id !== 'hook'), 'nodes', credentials());
    assert.equal((await simWebhooks(env)).length, 0, 'deleted with the node');
    const late = await env.sim.sendEvent(hookUrl(), event());
    assert.equal(late.status, 410, 'Oura cancels what could not be deleted');
  });

  it('a second node on the same path is refused', async function () {
    env = await setUp();
    await helper.load([accountNode, webhookNode, catchNode], placed(flow({}, [
      { id: 'hook2', z: 'tab', type: 'oura webhook', account: 'acc1', path: HOOK_PATH, baseUrl: base(), wires: [[]] },
    ])), { ...credentials(), hook2: { verificationToken: 'other' } });
    assert.equal(helper.getNode('hook').webhook.path, HOOK_PATH);
    assert.equal(helper.getNode('hook2').webhook, undefined);
    assert.match(logText(), /already serves \/oura\/hook/);
  });

  describe('against anyone who finds the public URL', function () {
    const saved = { ...clock };
    afterEach(function () {
      Object.assign(clock, saved);
    });

    /** 64 KiB of nested arrays: too deep for a recursive serializer. */
    const deep = '['.repeat(32 * 1024) + ']'.repeat(32 * 1024);

    function hookLog(): { errors: string[]; warnings: string[]; debug: string[] } {
      const entries = helper.log().args.map((a: any[]) => a[0]).filter((e: any) => e.id === 'hook');
      const at = (level: number) => entries.filter((e: any) => e.level === level).map((e: any) => String(e.msg));
      return { errors: at(helper.log().ERROR), warnings: at(helper.log().WARN), debug: at(helper.log().DEBUG) };
    }

    async function refusesDeepBodies(seen: Seen): Promise<void> {
      const st = statuses();
      // Rejections are counted per minute: hold the clock still so the count cannot depend on the machine's speed.
      const t0 = Date.now();
      clock.now = () => t0;
      const answers: number[] = [];
      for (let i = 0; i < 15; i++) {
        answers.push((await post(hookUrl(), deep, {})).status);
        answers.push((await post(hookUrl(), deep, signed(deep, String(Math.floor(t0 / 1000)), 'not-the-secret'))).status);
      }
      assert.deepEqual([...new Set(answers)], [401], 'every one refused as unsigned or wrongly signed, none a 500');
      let log = hookLog();
      assert.deepEqual(log.errors, []);
      assert.deepEqual(log.warnings, []);
      assert.ok(log.debug.length >= 1 && log.debug.length <= 10, `a few debug lines for 30 rejections, not ${log.debug.length}`);
      assert.ok(st.some((s) => s.fill === 'red' && s.text === 'rejected: bad signature'), 'the user still sees why');
      clock.now = () => t0 + 61_000;
      assert.equal((await post(hookUrl(), deep, {})).status, 401);
      log = hookLog();
      assert.match(log.debug[log.debug.length - 1], /Rejected a request to \/oura\/hook \(401\): missing signature \(\d+ more rejected requests? not logged\)/);
      assert.deepEqual(seen.out, []);
      assert.deepEqual(seen.caught, []);
    }

    it('refuses a 64 KiB body of nested arrays with 401, unsigned or wrongly signed, at the cost of a few debug lines', async function () {
      env = await setUp();
      const seen = await start(env);
      await refusesDeepBodies(seen);
    });

    it('the same when a body parser ahead of the route consumed the bytes', async function () {
      env = await setUp();
      parseFirst = true;
      const seen = await start(env);
      await refusesDeepBodies(seen);
      const ts = String(Math.floor(Date.now() / 1000));
      clock.now = saved.now;
      assert.equal((await post(hookUrl(), deep, signed(deep, ts))).status, 401, 'no Oura event nests like this: not re-serialized, so not verified');
      assert.deepEqual(hookLog().errors, []);
    });
    it('a sender that hangs up half-way through the body costs no error either', async function () {
      env = await setUp();
      const seen = await start(env);
      const st = statuses();
      const u = new URL(hookUrl());
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': '1000' } });
      req.on('error', () => undefined);
      req.write('{"event_type": "cre', () => req.destroy());
      await until('the rejection', () => st.some((s) => s.text === 'rejected: request body could not be read'));
      assert.deepEqual(hookLog().errors, []);
      assert.deepEqual(seen.caught, []);
    });
  });

  describe('with a fake clock', function () {
    const saved = { ...clock };
    afterEach(function () {
      Object.assign(clock, saved);
    });

    it('renews each subscription 7 days before it expires, and leaves no timer behind', async function () {
      const fake = FakeTimers.createClock(Date.now());
      env = await setUp({ now: () => fake.now });
      Object.assign(clock, { now: () => fake.now, setTimeout: (fn: () => void, ms: number) => fake.setTimeout(fn, ms), clearTimeout: (h: unknown) => fake.clearTimeout(h as never) });
      const calls: HttpRequest[] = [];
      setTransport((req) => {
        calls.push(req);
        return axiosTransport(req);
      });
      const renewals = () => calls.filter((c) => c.method === 'PUT' && c.url.includes('/v2/webhook/subscription/renew/')).length;
      await start(env, { subscribe: true, eventTypes: ['create'], dataTypes: ['daily_sleep', 'daily_activity'] });
      await until('the renewal timer', () => fake.countTimers() === 1);
      assert.equal(calls.filter((c) => c.method === 'POST' && c.url.endsWith('/v2/webhook/subscription')).length, 2);
      assert.ok(calls.filter((c) => c.url.includes('/v2/webhook/')).every((c) => c.headers?.['x-client-id'] === CLIENT_ID && c.headers['x-client-secret'] === CLIENT_SECRET && !c.headers.Authorization));
      const created = await simWebhooks(env);

      fake.tick(82 * DAY);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(renewals(), 0, 'nothing to do 8 days before expiry');
      fake.tick(DAY + 1000);
      await until('two renewals', () => renewals() === 2);
      await until('the next renewal timer', () => fake.countTimers() === 1);
      const renewed = await simWebhooks(env);
      for (const s of renewed) {
        const before = created.find((c) => c.id === s.id)!;
        assert.ok(Date.parse(s.expiration_time) - Date.parse(before.expiration_time) >= 83 * DAY - 60_000, 'expiry moved by the elapsed time');
      }
      fake.tick(7 * DAY);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(renewals(), 2, 'not renewed again right away');

      await helper.unload();
      assert.equal(fake.countTimers(), 0, 'closing the node cancels its timer');
    });

    it('retries after a failure instead of giving up', async function () {
      const fake = FakeTimers.createClock(Date.now());
      env = await setUp({ now: () => fake.now });
      Object.assign(clock, { now: () => fake.now, setTimeout: (fn: () => void, ms: number) => fake.setTimeout(fn, ms), clearTimeout: (h: unknown) => fake.clearTimeout(h as never) });
      let fail = true;
      let lists = 0;
      setTransport(async (req) => {
        if (req.url.endsWith('/v2/webhook/subscription') && req.method === 'GET') {
          lists++;
          if (fail) return { status: 401, headers: {}, body: '{"detail":"Invalid client"}' };
        }
        return axiosTransport(req);
      });
      await start(env, { subscribe: true, eventTypes: ['create'], dataTypes: ['sleep'] });
      await until('the retry timer', () => fake.countTimers() === 1);
      assert.equal(lists, 1);
      assert.match(logText(), /Client ID or Client Secret/);
      fail = false;
      fake.tick(15 * 60_000);
      await until('the subscription', () => lists === 2);
      for (let i = 0; i < 200 && (await simWebhooks(env)).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal((await simWebhooks(env)).length, 1);
    });
  });

  it('example flow 06 - Webhook push: a synced document reaches the debug sidebar', async function () {
    env = await setUp();
    const file = path.resolve(__dirname, '../../examples/06 - Webhook push.json');
    const example = JSON.parse(fs.readFileSync(file, 'utf8')) as any[];
    assert.ok(example.some((n) => n.type === 'comment'));
    assert.ok(!JSON.stringify(example).includes('credentials'));
    assert.ok(!example.some((n) => n.type === 'oura-account'), 'the example uses the account the user has');
    // Imported into a Node-RED with one Oura account: the webhook node's empty Account means that one.
    const accountId = 'users-account';
    const flowNodes: any[] = [{ id: 'tab', type: 'tab', label: 'example' }, accountConfig(accountId)];
    let hookId = '';
    let debugId = '';
    for (const n of example) {
      const node = { ...n };
      if (node.type !== 'oura-account') node.z = 'tab';
      if (node.type === 'oura webhook') {
        hookId = node.id;
        node.baseUrl = base();
      }
      if (node.type === 'debug') {
        debugId = node.id;
        for (const k of Object.keys(node)) if (!['id', 'z', 'x', 'y', 'name'].includes(k)) delete node[k];
        node.type = 'helper';
        node.wires = [];
      }
      flowNodes.push(node);
    }
    await helper.load([accountNode, webhookNode, catchNode, require('@node-red/nodes/core/function/10-function.js'), require('@node-red/nodes/core/function/10-switch.js'),
      require('@node-red/nodes/core/common/90-comment.js')],
      placed(flowNodes), { [accountId]: creds(), [hookId]: { verificationToken: VERIFY } });
    await authorize(env, accountId);
    const got: any[] = [];
    helper.getNode(debugId).on('input', (m: any) => got.push(m));
    const examplePath = example.find((n) => n.type === 'oura webhook').path;
    const doc = (await getJson(helper.getNode(accountId).handle, '/v2/usercollection/daily_sleep', { start_date: day(-1), end_date: TODAY }) as any).data[0];
    const r = await env.sim.sendEvent(`${base()}${examplePath}`, {
      event_type: 'create', data_type: 'daily_sleep', object_id: doc.id, event_time: new Date().toISOString(), user_id: tokens.current(accountId)!.user!.id,
    });
    assert.equal(r.status, 200);
    await until('the document', () => got.length === 1);
    assert.match(String(got[0].payload), /^Sleep score \d+ for \d{4}-\d{2}-\d{2}$/);
  });
});
