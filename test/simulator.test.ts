/**
 * The Oura simulator (sim/) behaves like Oura: every answer validates against the typed schemas of
 * Oura's OpenAPI 1.37 (JSON Schema 2020-12), its OAuth server is as strict as Oura's, and its data
 * routes follow Oura's range, paging and scope rules (shared/oura/API-NOTES.md).
 * The simulator's clock is injected: nothing here waits for real time to pass.
 */
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';
import { startSimulator, Simulator, SimOptions, SimClient } from '../sim/server';
import { parseArgs } from '../sim/cli';

// ---------------------------------------------------------------------------------------------
// Oura's OpenAPI document, with its components reachable by $ref
// ---------------------------------------------------------------------------------------------

const spec = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/openapi-1.37.json'), 'utf8'));
const SPEC_ID = 'https://oura.example/openapi-1.37.json';
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ ...spec, $id: SPEC_ID });
const compiled = new Map<string, ValidateFunction>();

function validatorFor(ref: string): ValidateFunction {
  let v = compiled.get(ref);
  if (!v) {
    v = ajv.compile({ $ref: `${SPEC_ID}${ref}` });
    compiled.set(ref, v);
  }
  return v;
}

/** The typed branch of a route's 200 response: Oura's spec wraps list answers in anyOf [typed, *Dict]. */
function typedRef(route: string): string {
  const schema = spec.paths[route].get.responses['200'].content['application/json'].schema;
  const ref: string = schema.anyOf ? schema.anyOf[0].$ref : schema.$ref;
  assert.ok(ref && !ref.endsWith('Dict'), `${route}: expected the typed branch, got ${ref}`);
  return ref;
}

/** A plain boolean, so that a passing check does not narrow the checked value's type. */
function conforms(validate: ValidateFunction, value: unknown): boolean {
  return validate(value) as boolean;
}

function schemaOf(ref: string): any {
  return spec.components.schemas[ref.replace('#/components/schemas/', '')];
}

/** Validates an answer and checks that documents carry no field the spec does not know (a typo would pass the schema). */
function assertValid(route: string, body: unknown, what: string): void {
  const ref = typedRef(route);
  const validate = validatorFor(ref);
  assert.ok(validate(body), `${what}: ${ajv.errorsText(validate.errors)}`);
  const envelope = schemaOf(ref);
  const docRef: string | undefined = envelope.properties?.data?.items?.$ref;
  const docs = docRef ? (body as { data: object[] }).data : [body as object];
  const known = new Set(Object.keys(schemaOf(docRef ?? ref).properties));
  for (const d of docs) for (const k of Object.keys(d)) assert.ok(known.has(k), `${what}: field ${k} is not in the spec`);
}

// ---------------------------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------------------------

const TODAY = '2025-06-30';
const CLOCK0 = Date.parse(`${TODAY}T10:00:00Z`);
const REDIRECT = 'http://localhost:1880/oura/auth/callback';
const CLIENT: SimClient = { clientId: 'sim-test', clientSecret: 'sim-test-secret-0123456789', redirectUris: [REDIRECT, 'http://127.0.0.1:1880/oura/auth/callback'] };
const OTHER: SimClient = { clientId: 'other-app', clientSecret: 'other-secret-0123456789', redirectUris: [REDIRECT] };

const COLLECTIONS = ['daily_activity', 'daily_cardiovascular_age', 'daily_readiness', 'daily_resilience', 'daily_sleep', 'daily_spo2', 'daily_stress',
  'enhanced_tag', 'heartrate', 'personal_info', 'rest_mode_period', 'ring_battery_level', 'ring_configuration', 'session', 'sleep', 'sleep_time',
  'tag', 'vO2_max', 'workout'];
const DATETIME = ['heartrate', 'ring_battery_level'];
const END_EXCLUDED = ['sleep', 'sleep_time', 'daily_activity', 'workout', 'session', 'tag', 'enhanced_tag', 'rest_mode_period'];
const END_INCLUDED = ['daily_cardiovascular_age', 'daily_readiness', 'daily_resilience', 'daily_sleep', 'daily_spo2', 'daily_stress', 'vO2_max'];

function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

/** A plain HTTP call on its own connection; the URL goes out exactly as written (an unescaped '+' stays one). */
function call(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', headers: o.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

function authorizeUrl(sim: Simulator, params: Record<string, string | undefined> = {}): string {
  const p = { response_type: 'code', client_id: CLIENT.clientId, redirect_uri: REDIRECT, state: 'state-1', ...params };
  const u = new URL(sim.authorizeUrl);
  for (const [k, v] of Object.entries(p)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

/** A code for `scopes` asked as they are written (bare names are upgraded by the server); `ticked` unticks the rest. */
async function codeFor(sim: Simulator, scopes?: string[], params: Record<string, string | undefined> = {}, ticked?: string[]): Promise<string> {
  const asked = scopes ? { scope: scopes.join(' ') } : {};
  const loc = new URL(await sim.consent(authorizeUrl(sim, { ...asked, ...params }), { accept: true, scopes: ticked }));
  const code = loc.searchParams.get('code');
  assert.ok(code, `no code in ${loc}`);
  return code;
}

function postToken(sim: Simulator, form: Record<string, string>, o: { query?: string; headers?: Record<string, string>; url?: string } = {}): Promise<Answer> {
  return call(`${o.url ?? sim.tokenUrl}${o.query ?? ''}`, { method: 'POST', headers: o.headers ?? FORM, body: new URLSearchParams(form).toString() });
}

function exchange(sim: Simulator, code: string, client: SimClient = CLIENT, redirectUri = REDIRECT, url?: string): Promise<Answer> {
  return postToken(sim, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: client.clientId, client_secret: client.clientSecret }, { url });
}

function refresh(sim: Simulator, refreshToken: string, client: SimClient = CLIENT, url?: string): Promise<Answer> {
  return postToken(sim, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId, client_secret: client.clientSecret }, { url });
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  token_type: string;
}

async function tokens(sim: Simulator, scopes?: string[], params: Record<string, string | undefined> = {}, ticked?: string[]): Promise<Tokens> {
  const r = await exchange(sim, await codeFor(sim, scopes, params, ticked));
  assert.equal(r.status, 200, r.text);
  return r.json;
}

function api(sim: Simulator, access: string | undefined, p: string): Promise<Answer> {
  return call(`${sim.url}${p}`, { headers: access ? { Authorization: `Bearer ${access}` } : {} });
}

/** Follows next_token to the end; every page must be a 200. */
async function pages(sim: Simulator, access: string, route: string, query: string): Promise<{ bodies: any[]; docs: any[] }> {
  const bodies: any[] = [];
  let next: string | null = null;
  do {
    const q: string = [query, next ? `next_token=${encodeURIComponent(next)}` : ''].filter(Boolean).join('&');
    const r = await api(sim, access, `${route}${q ? `?${q}` : ''}`);
    assert.equal(r.status, 200, `${route}?${q}: ${r.text}`);
    bodies.push(r.json);
    next = r.json.next_token;
    assert.ok(bodies.length < 100, 'paging does not end');
  } while (next);
  return { bodies, docs: bodies.flatMap((b) => b.data) };
}

/** The day a document is filed under. */
const dayOf = (d: any): string => d.day ?? d.start_day;

/** Waits for a condition the simulator reaches on its own (a request arriving), turn by turn of the event loop. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Starts a simulator per test and closes it afterwards, whatever happened. */
function useSimulator(options: () => SimOptions): { sim: Simulator; clock: { now: number } } {
  const ctx = { sim: undefined as unknown as Simulator, clock: { now: CLOCK0 } };
  beforeEach(async function () {
    ctx.clock.now = CLOCK0;
    ctx.sim = await startSimulator({ clients: [CLIENT, OTHER], now: () => ctx.clock.now, ...options() });
  });
  afterEach(async function () {
    await ctx.sim.close();
  });
  return ctx;
}

// ---------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------

describe('simulator: every collection in the shapes of Oura\'s OpenAPI 1.37', function () {
  let sim: Simulator;
  let access: string;
  before(async function () {
    sim = await startSimulator({ clients: [CLIENT], now: () => CLOCK0, pageSize: 3, heartratePageSize: 500 });
    access = (await tokens(sim)).access_token;
  });
  after(async function () {
    await sim.close();
  });

  function rangeOf(c: string): string {
    if (DATETIME.includes(c)) {
      return `start_datetime=${encodeURIComponent(`${addDays(TODAY, -2)}T00:00:00+01:00`)}&end_datetime=${encodeURIComponent(`${addDays(TODAY, -1)}T00:00:00+01:00`)}`;
    }
    if (c === 'personal_info' || c === 'ring_configuration') return '';
    return `start_date=${addDays(TODAY, -69)}&end_date=${TODAY}`;
  }

  for (const c of COLLECTIONS) {
    it(`${c}: every page over 70 days (or a day of samples), a single document and the sandbox validate`, async function () {
      const route = `/v2/usercollection/${c}`;
      if (c === 'personal_info') {
        const r = await api(sim, access, route);
        assert.equal(r.status, 200);
        assertValid(route, r.json, c);
        assert.deepEqual(Object.keys(r.json).sort(), ['age', 'biological_sex', 'email', 'height', 'id', 'weight']);
        assert.equal((await api(sim, access, `/v2/sandbox/usercollection/${c}`)).status, 404, 'no sandbox for personal_info');
        return;
      }
      const { bodies, docs } = await pages(sim, access, route, rangeOf(c));
      bodies.forEach((b, i) => assertValid(route, b, `${c} page ${i}`));
      assert.ok(docs.length > 0, `${c} has data`);
      if (docs.length > 3) assert.ok(bodies.length > 1, `${c}: ${docs.length} documents come in several pages`);
      if (c === 'heartrate') assert.equal(docs.length, 1201, 'a day of samples every 72 s, both ends included');
      if (!DATETIME.includes(c)) {
        assert.equal(new Set(docs.map((d) => d.id)).size, docs.length, `${c}: ids are unique`);
      }
      const single = `${route}/{document_id}`;
      if (spec.paths[single]) {
        const doc = docs[docs.length - 1];
        const one = await api(sim, access, `${route}/${doc.id}`);
        assert.equal(one.status, 200, one.text);
        assertValid(single, one.json, `${c} single`);
        assert.deepEqual(one.json, doc);
      } else {
        assert.equal((await api(sim, access, `${route}/anything`)).status, 404, `${c} has no single documents`);
      }
      const sandboxRoute = `/v2/sandbox/usercollection/${c}`;
      const sandbox = await api(sim, access, `${sandboxRoute}?${rangeOf(c)}`);
      assert.equal(sandbox.status, 200, sandbox.text);
      assertValid(sandboxRoute, sandbox.json, `${c} sandbox`);
    });
  }

  it('answer bodies: 422 in the shape of FastAPI\'s validation errors, 401/403/404 with a detail', async function () {
    const bad = await api(sim, access, `/v2/usercollection/sleep?start_date=${TODAY}&end_date=${addDays(TODAY, -1)}`);
    assert.equal(bad.status, 422);
    const validate = validatorFor('#/components/schemas/HTTPValidationError');
    assert.ok(validate(bad.json), ajv.errorsText(validate.errors));
    for (const r of [await api(sim, undefined, '/v2/usercollection/sleep'), await api(sim, access, '/v2/usercollection/sleep/nope')]) {
      assert.equal(typeof r.json.detail, 'string');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Data: ranges, paging, fields, single documents, scopes, plausibility
// ---------------------------------------------------------------------------------------------

describe('simulator: data routes like Oura\'s', function () {
  let sim: Simulator;
  let access: string;
  before(async function () {
    sim = await startSimulator({ clients: [CLIENT], now: () => CLOCK0 });
    access = (await tokens(sim)).access_token;
  });
  after(async function () {
    await sim.close();
  });

  for (const c of [...END_EXCLUDED, ...END_INCLUDED]) {
    const included = END_INCLUDED.includes(c);
    it(`${c}: end_date is ${included ? 'included' : 'excluded'}`, async function () {
      const route = `/v2/usercollection/${c}`;
      const { docs } = await pages(sim, access, route, `start_date=${addDays(TODAY, -120)}&end_date=${TODAY}`);
      const last = docs.map(dayOf).filter((d) => d < TODAY).sort().pop();
      assert.ok(last, `${c} has data in 120 days`);
      const twoDays = await pages(sim, access, route, `start_date=${addDays(last, -1)}&end_date=${last}`);
      const days = new Set(twoDays.docs.map(dayOf));
      assert.equal(days.has(last), included, `${c} start=${addDays(last, -1)} end=${last} -> ${[...days]}`);
      assert.ok([...days].every((d) => d === last || d === addDays(last, -1)));
      const oneDay = await pages(sim, access, route, `start_date=${last}&end_date=${addDays(last, 1)}`);
      assert.ok(oneDay.docs.some((d) => dayOf(d) === last), `${c}: the start day is always included`);
    });
  }

  it('defaults like Oura: end_date = today, start_date = the day before', async function () {
    const daily = await api(sim, access, '/v2/usercollection/daily_sleep');
    assert.deepEqual(daily.json.data.map(dayOf), [addDays(TODAY, -1), TODAY]);
    const sleep = await api(sim, access, '/v2/usercollection/sleep');
    assert.ok(sleep.json.data.length >= 1);
    assert.ok(sleep.json.data.every((d: any) => d.day === addDays(TODAY, -1)), 'sleep: today excluded');
    const onlyEnd = await api(sim, access, `/v2/usercollection/daily_sleep?end_date=${addDays(TODAY, -10)}`);
    assert.deepEqual(onlyEnd.json.data.map(dayOf), [addDays(TODAY, -11), addDays(TODAY, -10)]);
    const future = await api(sim, access, `/v2/usercollection/daily_sleep?start_date=${addDays(TODAY, 1)}&end_date=${addDays(TODAY, 5)}`);
    assert.deepEqual(future.json, { data: [], next_token: null }, 'no data after today');
    const past = await api(sim, access, '/v2/usercollection/daily_sleep?start_date=2020-01-01&end_date=2020-01-10');
    assert.deepEqual(past.json.data, [], 'history is 400 days');
    const dateTime = await api(sim, access, `/v2/usercollection/daily_sleep?start_date=${addDays(TODAY, -2)}T08:00:00&end_date=${addDays(TODAY, -2)}`);
    assert.deepEqual(dateTime.json.data.map(dayOf), [addDays(TODAY, -2)], 'the spec allows a date-time for start_date');
  });

  it('400 for an invalid date, 422 with loc/msg/type when start_date is after end_date', async function () {
    for (const q of ['start_date=2025-13-01', 'end_date=yesterday', 'start_date=2025-02-30']) {
      const r = await api(sim, access, `/v2/usercollection/daily_sleep?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(typeof r.json.detail, 'string');
    }
    const r = await api(sim, access, `/v2/usercollection/sleep?start_date=${TODAY}&end_date=${addDays(TODAY, -3)}`);
    assert.equal(r.status, 422);
    assert.deepEqual(r.json.detail[0].loc, ['query', 'start_date']);
    assert.equal(r.json.detail[0].type, 'value_error');
    assert.equal(typeof r.json.detail[0].msg, 'string');
  });

  it('next_token paging: opaque, bound to its query, usable with or without the original parameters', async function () {
    let clock = CLOCK0;
    const small = await startSimulator({ clients: [CLIENT], now: () => clock, pageSize: 4 });
    try {
      const t = (await tokens(small)).access_token;
      const q = `start_date=${addDays(TODAY, -10)}&end_date=${TODAY}`;
      const { bodies, docs } = await pages(small, t, '/v2/usercollection/daily_sleep', q);
      assert.deepEqual(bodies.map((b) => b.data.length), [4, 4, 3]);
      assert.equal((await api(small, t, '/v2/usercollection/heartrate')).json.data.length, 720, 'pageSize leaves heart rate pages at 720');
      assert.equal(bodies[2].next_token, null);
      const all = await api(sim, access, `/v2/usercollection/daily_sleep?${q}`);
      assert.deepEqual(docs, all.json.data, 'pages add up to the whole range, in order, without repeats');
      const token = bodies[0].next_token as string;
      assert.ok(!token.includes(TODAY) && !token.includes('daily_sleep'), 'the token is opaque');
      const alone = await api(small, t, `/v2/usercollection/daily_sleep?next_token=${encodeURIComponent(token)}`);
      assert.deepEqual(alone.json, bodies[1], 'next_token alone continues the same query');
      const other = await api(small, t, `/v2/usercollection/daily_sleep?start_date=${addDays(TODAY, -3)}&next_token=${encodeURIComponent(token)}`);
      assert.equal(other.status, 400, 'a token belongs to its query');
      const [payload, mac] = token.split('.');
      const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), o: 8 })).toString('base64url');
      for (const bad of ['garbage', `${forged}.${mac}`, `${payload}.x${mac}`]) {
        assert.equal((await api(small, t, `/v2/usercollection/daily_sleep?${q}&next_token=${encodeURIComponent(bad)}`)).status, 400, bad);
      }
      assert.equal((await api(small, t, `/v2/usercollection/daily_readiness?${q}&next_token=${encodeURIComponent(token)}`)).status, 400, 'a token belongs to its collection');

      const first = await api(small, t, '/v2/usercollection/heartrate');
      clock += 10 * 60_000;
      const second = await api(small, t, `/v2/usercollection/heartrate?next_token=${encodeURIComponent(first.json.next_token)}`);
      const hr = [...first.json.data, ...second.json.data];
      assert.equal(hr.length, 1201, 'the default "last 24 hours" stays put while the client pages');
      assert.ok(hr.every((d, i) => i === 0 || d.timestamp_unix - hr[i - 1].timestamp_unix === 72_000));
      assert.ok(hr[hr.length - 1].timestamp_unix <= CLOCK0);
    } finally {
      await small.close();
    }
  });

  it('fields=a,b returns only those fields, on every route that lists', async function () {
    const r = await api(sim, access, `/v2/usercollection/daily_sleep?start_date=${addDays(TODAY, -5)}&end_date=${TODAY}&fields=day,score`);
    assert.equal(r.json.data.length, 6);
    for (const d of r.json.data) assert.deepEqual(Object.keys(d).sort(), ['day', 'score']);
    const hr = await api(sim, access, '/v2/usercollection/heartrate?fields=bpm');
    assert.ok(hr.json.data.every((d: object) => Object.keys(d).join() === 'bpm'));
  });

  it('single documents: bare document, 404 "Document not found.", none for heartrate, ring_battery_level, personal_info', async function () {
    const list = await api(sim, access, `/v2/usercollection/workout?start_date=${addDays(TODAY, -60)}&end_date=${TODAY}`);
    const w = list.json.data[0];
    const one = await api(sim, access, `/v2/usercollection/workout/${w.id}`);
    assert.deepEqual(one.json, w);
    const sandbox = await api(sim, access, `/v2/sandbox/usercollection/workout/${w.id}`);
    assert.deepEqual(sandbox.json, w);
    const missing = await api(sim, access, '/v2/usercollection/workout/00000000-0000-4000-a000-000000000000');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { detail: 'Document not found.' });
    const sleepId = (await api(sim, access, '/v2/usercollection/sleep')).json.data[0].id;
    assert.equal((await api(sim, access, `/v2/usercollection/workout/${sleepId}`)).status, 404, 'an id of another collection');
    for (const c of ['heartrate', 'ring_battery_level', 'personal_info']) {
      assert.equal((await api(sim, access, `/v2/usercollection/${c}/x`)).status, 404, c);
    }
    assert.equal((await api(sim, access, '/v2/usercollection/vo2_max')).status, 404, 'paths are case-sensitive: vO2_max');
    assert.equal((await api(sim, access, '/v2/usercollection/vO2_max')).status, 200);
  });

  it('heart rate: a local day is 1,200 samples in two pages; +01:00 must arrive as %2B; naive times are UTC; latest=true', async function () {
    const day = addDays(TODAY, -3);
    const range = `start_datetime=${day}T00:00:00%2B01:00&end_datetime=${day}T23:59:59%2B01:00`;
    const { bodies, docs } = await pages(sim, access, '/v2/usercollection/heartrate', range);
    assert.equal(docs.length, 1200);
    assert.deepEqual(bodies.map((b) => b.data.length), [720, 480]);
    assert.equal(Date.parse(docs[0].timestamp), Date.parse(`${day}T00:00:00+01:00`));
    assert.ok(docs.every((d, i) => i === 0 || d.timestamp_unix - docs[i - 1].timestamp_unix === 72_000));
    assert.ok(docs.every((d) => d.timestamp_unix === Date.parse(d.timestamp)));

    const plus = await api(sim, access, `/v2/usercollection/heartrate?start_datetime=${day}T00:00:00+01:00`);
    assert.equal(plus.status, 422, 'an unescaped + decodes to a space: Oura cannot read the value');
    assert.deepEqual(plus.json.detail[0].loc, ['query', 'start_datetime']);
    const zulu = await api(sim, access, `/v2/usercollection/heartrate?start_datetime=${day}T00:00:00Z&end_datetime=${day}T00:10:00Z`);
    const naive = await api(sim, access, `/v2/usercollection/heartrate?start_datetime=${day}T00:00:00&end_datetime=${day}T00:10:00`);
    assert.deepEqual(naive.json, zulu.json);
    assert.equal(zulu.json.data[0].timestamp, `${day}T00:00:00+00:00`);
    const reversed = await api(sim, access, `/v2/usercollection/heartrate?start_datetime=${day}T10:00:00Z&end_datetime=${day}T09:00:00Z`);
    assert.equal(reversed.status, 422);

    const latest = await api(sim, access, '/v2/usercollection/heartrate?latest=true');
    assert.equal(latest.json.data.length, 1);
    assert.ok(latest.json.data[0].timestamp_unix <= CLOCK0 && latest.json.data[0].timestamp_unix > CLOCK0 - 72_000);
    const dflt = await api(sim, access, '/v2/usercollection/heartrate');
    const last = dflt.json.data.at(-1) ?? (await pages(sim, access, '/v2/usercollection/heartrate', '')).docs.at(-1);
    assert.ok(dflt.json.data[0].timestamp_unix >= CLOCK0 - 86400_000, 'default: the last 24 hours');
    assert.ok(last.timestamp_unix <= CLOCK0, 'no samples from the future');
  });

  it('ring battery: 5-minute rows, latest=true, at most 30 days per request', async function () {
    const r = await api(sim, access, `/v2/usercollection/ring_battery_level?start_datetime=${TODAY}T00:00:00Z&end_datetime=${TODAY}T01:00:00Z`);
    assert.equal(r.json.data.length, 13);
    assert.ok(r.json.data.every((d: any) => d.level >= 0 && d.level <= 100));
    assert.equal((await api(sim, access, '/v2/usercollection/ring_battery_level?latest=true')).json.data.length, 1);
    const long = await api(sim, access, `/v2/usercollection/ring_battery_level?start_datetime=${addDays(TODAY, -40)}T00:00:00Z&end_datetime=${TODAY}T00:00:00Z`);
    assert.equal(long.status, 400);
  });

  it('heart rate and ring battery: at most 30 days per request (reported by three clients)', async function () {
    for (const c of DATETIME) {
      const at = (days: number, extraMs = 0) => new Date(Date.parse(`${TODAY}T00:00:00Z`) - days * 86400_000 + extraMs).toISOString();
      const thirty = await api(sim, access, `/v2/usercollection/${c}?start_datetime=${at(30)}&end_datetime=${at(0)}`);
      assert.equal(thirty.status, 200, `${c}: exactly 30 days is allowed`);
      const more = await api(sim, access, `/v2/usercollection/${c}?start_datetime=${at(30)}&end_datetime=${at(0, 1000)}`);
      assert.equal(more.status, 400, `${c}: a second more is refused`);
      assert.match(more.json.detail, /30 days/);
    }
  });

  it('datetimeEndExclusive: the end instant is left out (Oura does not document which)', async function () {
    const q = `start_datetime=${TODAY}T00:00:00Z&end_datetime=${TODAY}T01:00:00Z`;
    const inclusive = await api(sim, access, `/v2/usercollection/heartrate?${q}`);
    const other = await startSimulator({ clients: [CLIENT], now: () => CLOCK0, today: TODAY, datetimeEndExclusive: true });
    try {
      const exclusive = await api(other, (await tokens(other)).access_token, `/v2/usercollection/heartrate?${q}`);
      assert.equal(inclusive.json.data.length, 51);
      assert.equal(exclusive.json.data.length, 50);
      assert.equal(inclusive.json.data.at(-1).timestamp, '2025-06-30T01:00:00+00:00');
    } finally {
      await other.close();
    }
  });

  it('one made-up sleeper: a long sleep every night (22:30-00:30, 6-9 h), naps on some days, scores that follow the night', async function () {
    const start = addDays(TODAY, -60);
    const sleep = (await pages(sim, access, '/v2/usercollection/sleep', `start_date=${start}&end_date=${TODAY}`)).docs;
    const byDay = new Map<string, any[]>();
    for (const d of sleep) byDay.set(d.day, [...(byDay.get(d.day) ?? []), d]);
    assert.equal(byDay.size, 60, 'every night is there');
    assert.ok([...byDay.values()].filter((l) => l.length > 1).length >= 10, 'several sleep documents on some days');
    assert.ok(sleep.some((d) => d.type === 'late_nap') && sleep.some((d) => d.type === 'sleep'));
    for (const [day, list] of byDay) {
      const long = list.filter((d) => d.type === 'long_sleep');
      assert.equal(long.length, 1, `${day}: one long_sleep`);
      const l = long[0];
      assert.match(l.bedtime_start, /\+01:00$/);
      const clock = l.bedtime_start.slice(11, 16);
      assert.ok(clock >= '22:30' || clock <= '00:30', `${day}: bedtime ${clock}`);
      const hours = (Date.parse(l.bedtime_end) - Date.parse(l.bedtime_start)) / 3600_000;
      assert.ok(hours >= 6 && hours <= 9.3, `${day}: ${hours} h in bed`);
      assert.equal(l.bedtime_end.slice(0, 10), day, 'the night is filed under the day it ends');
      assert.equal(l.time_in_bed, Math.round(hours * 3600));
      assert.ok(l.total_sleep_duration < l.time_in_bed);
      assert.equal(l.deep_sleep_duration + l.rem_sleep_duration + l.light_sleep_duration, l.total_sleep_duration);
      assert.match(l.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    const scores = (await pages(sim, access, '/v2/usercollection/daily_sleep', `start_date=${start}&end_date=${addDays(TODAY, -1)}`)).docs;
    const pairs = scores.map((s) => [byDay.get(s.day)!.find((d) => d.type === 'long_sleep').total_sleep_duration, s.score]);
    assert.ok(correlation(pairs) > 0.3, `daily_sleep score follows total sleep (r=${correlation(pairs).toFixed(2)})`);
    assert.ok(new Set(scores.map((s) => s.score)).size > 10, 'scores vary');

    const hr = (await pages(sim, access, '/v2/usercollection/heartrate', `start_datetime=${addDays(TODAY, -2)}T00:00:00%2B01:00&end_datetime=${addDays(TODAY, -2)}T23:59:59%2B01:00`)).docs;
    const mean = (src: string) => avg(hr.filter((d) => d.source === src).map((d) => d.bpm));
    assert.ok(mean('sleep') < mean('awake') - 10, `sleeping heart rate is lower (${mean('sleep')} vs ${mean('awake')})`);
    const night = byDay.get(addDays(TODAY, -2))!.find((d) => d.type === 'long_sleep');
    const during = hr.filter((d) => d.timestamp_unix > Date.parse(night.bedtime_start) + 600_000 && d.timestamp_unix < Date.parse(night.bedtime_end) - 600_000);
    assert.ok(during.length > 100 && during.every((d) => d.source === 'sleep'), 'heart rate source follows the sleep document');
  });

  it('deterministic: another simulator for the same day serves the same documents and ids', async function () {
    const again = await startSimulator({ clients: [CLIENT], now: () => CLOCK0 + 3600_000 });
    try {
      const t = (await tokens(again)).access_token;
      for (const c of ['sleep', 'daily_readiness', 'workout']) {
        const q = `/v2/usercollection/${c}?start_date=${addDays(TODAY, -20)}&end_date=${TODAY}`;
        assert.deepEqual((await api(again, t, q)).json, (await api(sim, access, q)).json, c);
      }
    } finally {
      await again.close();
    }
  });

  it('the `today` option ends the data on that day', async function () {
    const old = await startSimulator({ clients: [CLIENT], now: () => CLOCK0, today: '2025-01-15' });
    try {
      const t = (await tokens(old)).access_token;
      const r = await api(old, t, '/v2/usercollection/daily_sleep?start_date=2025-01-10&end_date=2025-01-20');
      assert.equal(r.json.data.at(-1).day, '2025-01-15');
      const latest = await api(old, t, '/v2/usercollection/heartrate?latest=true');
      assert.equal(latest.json.data[0].timestamp.slice(0, 10), '2025-01-15');
    } finally {
      await old.close();
    }
  });
});

function avg(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function correlation(pairs: number[][]): number {
  const mx = avg(pairs.map((p) => p[0]));
  const my = avg(pairs.map((p) => p[1]));
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const [x, y] of pairs) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('simulator: scopes per collection', function () {
  const ctx = useSimulator(() => ({}));

  it('unticked scopes are not granted, and each collection checks its scope (401 for older scopes, 403 for newer)', async function () {
    const t = await tokens(ctx.sim, ['daily', 'personal']);
    assert.deepEqual(t.scope.split(' ').sort(), ['extapi:daily', 'extapi:personal'], 'bare names asked, extapi:* granted (one report)');
    const expect: Record<string, number> = {
      daily_activity: 200, daily_readiness: 200, daily_sleep: 200, sleep: 200, sleep_time: 200, daily_stress: 200, rest_mode_period: 200, personal_info: 200,
      heartrate: 401, workout: 401, session: 401, tag: 401, enhanced_tag: 401,
      daily_spo2: 403, daily_resilience: 403, vO2_max: 403, daily_cardiovascular_age: 403, ring_battery_level: 403, ring_configuration: 403,
    };
    for (const c of COLLECTIONS) {
      const r = await api(ctx.sim, t.access_token, `/v2/usercollection/${c}`);
      assert.equal(r.status, expect[c], `${c}: ${r.text}`);
      if (r.status !== 200) assert.match(r.json.detail, /scope/);
    }
    const ticked = await tokens(ctx.sim, undefined, {}, ['daily']);
    assert.equal(ticked.scope, 'extapi:daily', 'a box unticked on the consent page is not granted');
  });

  it('extapi:spo2 opens daily_spo2 (asked as spo2Daily or spo2); heart_health, stress and the default grant open theirs', async function () {
    const open = async (scope: string | undefined, c: string) => (await api(ctx.sim, (await tokens(ctx.sim, scope ? [scope] : undefined)).access_token, `/v2/usercollection/${c}`)).status;
    assert.equal(await open('spo2Daily', 'daily_spo2'), 200);
    assert.equal(await open('spo2', 'daily_spo2'), 200);
    assert.equal(await open('extapi:spo2', 'daily_spo2'), 200);
    assert.equal(await open('heart_health', 'vO2_max'), 200);
    assert.equal(await open('heart_health', 'daily_cardiovascular_age'), 200);
    assert.equal(await open('stress', 'daily_resilience'), 200);
    assert.equal(await open('workout', 'workout'), 200);
    assert.equal(await open('tag', 'enhanced_tag'), 200);
    // ring_configuration is not in the published list: only the default grant (no scope asked) opens ring data.
    assert.equal(await open(undefined, 'ring_battery_level'), 200);
    assert.equal(await open(undefined, 'ring_configuration'), 200);
  });

  it('personal_info: its id needs no scope, personal data needs `personal`, the email needs `email`', async function () {
    const info = async (scopes: string[]) => (await api(ctx.sim, (await tokens(ctx.sim, scopes)).access_token, '/v2/usercollection/personal_info')).json;
    assert.deepEqual(Object.keys(await info(['daily'])), ['id']);
    assert.deepEqual(Object.keys(await info(['personal'])).sort(), ['age', 'biological_sex', 'height', 'id', 'weight']);
    const withEmail = await info(['email']);
    assert.deepEqual(Object.keys(withEmail).sort(), ['email', 'id']);
    assert.match(withEmail.email, /@/);
  });

  it('401 with a detail for a missing, malformed or unknown token', async function () {
    for (const auth of [undefined, 'not-a-token']) {
      const r = await api(ctx.sim, auth, '/v2/usercollection/daily_sleep');
      assert.equal(r.status, 401);
      assert.equal(typeof r.json.detail, 'string');
    }
    const basic = await call(`${ctx.sim.url}/v2/usercollection/daily_sleep`, { headers: { Authorization: 'Basic abc' } });
    assert.equal(basic.status, 401);
    assert.equal(ctx.sim.stats().unauthorized, 3);
  });
});

describe('simulator: bareScopes "ignore" (the other report)', function () {
  const ctx = useSimulator(() => ({ bareScopes: 'ignore' }));

  it('bare names are silently not granted: the authorization succeeds, the data calls fail', async function () {
    const t = await tokens(ctx.sim, ['daily']);
    assert.equal(t.scope, '');
    assert.equal((await api(ctx.sim, t.access_token, '/v2/usercollection/daily_sleep')).status, 401);
    const named = await tokens(ctx.sim, ['extapi:daily']);
    assert.equal(named.scope, 'extapi:daily');
    assert.equal((await api(ctx.sim, named.access_token, '/v2/usercollection/daily_sleep')).status, 200);
  });
});

// ---------------------------------------------------------------------------------------------
// OAuth
// ---------------------------------------------------------------------------------------------

describe('simulator: two hosts and discovery', function () {
  const ctx = useSimulator(() => ({}));

  it('publishes an OIDC discovery document under the issuer, its endpoints on its own origin', async function () {
    const r = await call(`${ctx.sim.issuer}/.well-known/openid-configuration`);
    assert.equal(r.status, 200);
    assert.equal(ctx.sim.discoveryUrl, `${ctx.sim.issuer}/.well-known/openid-configuration`);
    assert.equal(ctx.sim.issuer, `${ctx.sim.moiUrl}/oauth/v2/ext/oauth-anonymous`);
    assert.equal(r.json.issuer, ctx.sim.issuer);
    assert.equal(r.json.authorization_endpoint, `${ctx.sim.moiUrl}/oauth/v2/ext/oauth-authorize`);
    assert.equal(r.json.token_endpoint, `${ctx.sim.moiUrl}/oauth/v2/ext/oauth-token`);
    assert.equal(r.json.revocation_endpoint, `${ctx.sim.moiUrl}/oauth/v2/ext/oauth-revoke`);
    assert.deepEqual(r.json.code_challenge_methods_supported, ['S256', 'plain']);
    assert.ok(r.json.scopes_supported.includes('extapi:daily') && !r.json.scopes_supported.includes('extapi:ring_configuration'));
    assert.deepEqual([ctx.sim.authorizeUrl, ctx.sim.tokenUrl, ctx.sim.revokeUrl], [r.json.authorization_endpoint, r.json.token_endpoint, r.json.revocation_endpoint]);
    ctx.sim.setFaults([{ kind: '503', target: 'discovery' }]);
    assert.equal((await call(ctx.sim.discoveryUrl)).status, 503, 'a fault can make it unreadable');
  });

  it('each path answers on its own host only: a request to the wrong host is a 404', async function () {
    assert.notEqual(ctx.sim.url, ctx.sim.moiUrl);
    const t = await tokens(ctx.sim, ['daily']);
    assert.equal((await api(ctx.sim, t.access_token, '/v2/usercollection/daily_sleep')).status, 200);
    assert.equal((await call(`${ctx.sim.moiUrl}/v2/usercollection/daily_sleep`, { headers: { Authorization: `Bearer ${t.access_token}` } })).status, 404);
    assert.equal((await call(`${ctx.sim.url}/oauth/v2/ext/oauth-token`, { method: 'POST', headers: FORM, body: 'grant_type=refresh_token' })).status, 404);
    assert.equal((await call(`${ctx.sim.moiUrl}/oauth/token`, { method: 'POST', headers: FORM, body: 'grant_type=refresh_token' })).status, 404);
    assert.equal((await call(`${ctx.sim.url}/oauth/v2/ext/oauth-anonymous/.well-known/openid-configuration`)).status, 404);
    assert.equal((await call(`${ctx.sim.moiUrl}/_sim/stats`)).status, 404);
  });

  it('the old consent URL forwards to the current server and drops the scope parameter', async function () {
    const old = new URL(ctx.sim.legacyAuthorizeUrl);
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: CLIENT.clientId, redirect_uri: REDIRECT, state: 's', scope: 'daily' })) old.searchParams.set(k, v);
    const r = await call(old.toString());
    assert.equal(r.status, 302);
    const to = new URL(String(r.headers.location));
    assert.equal(`${to.origin}${to.pathname}`, ctx.sim.authorizeUrl);
    assert.equal(to.searchParams.get('scope'), null);
    assert.equal(to.searchParams.get('state'), 's');
  });
});

describe('simulator: the consent page', function () {
  const ctx = useSimulator(() => ({}));

  it('lists every scope the app may ask for when none is asked for, ticked, with real Accept / Deny buttons', async function () {
    const r = await call(authorizeUrl(ctx.sim));
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] ?? '', /text\/html/);
    assert.match(r.text, /<title>Oura simulator – authorize sim-test<\/title>/);
    for (const s of ['extapi:daily', 'extapi:personal', 'extapi:heartrate', 'extapi:spo2', 'email', 'extapi:ring_configuration']) {
      assert.match(r.text, new RegExp(`<input type="checkbox" name="grant" value="${s}" checked>`), s);
    }
    assert.match(r.text, /<form method="post" action="\/oauth\/v2\/ext\/oauth-authorize\/decision">/);
    assert.match(r.text, /<button type="submit" name="decision" value="accept">Accept<\/button>/);
    assert.match(r.text, /<button type="submit" name="decision" value="deny">Deny<\/button>/);
    for (const k of ['response_type', 'client_id', 'redirect_uri', 'state']) assert.match(r.text, new RegExp(`<input type="hidden" name="${k}"`), k);

    const two = await call(authorizeUrl(ctx.sim, { scope: 'extapi:daily heartrate' }));
    assert.deepEqual([...two.text.matchAll(/name="grant" value="([^"]+)"/g)].map((m) => m[1]), ['extapi:daily', 'extapi:heartrate']);
  });

  it('escapes everything it reflects', async function () {
    const evil = '"><script>alert(1)</script>';
    const r = await call(authorizeUrl(ctx.sim, { state: evil }));
    assert.equal(r.status, 200);
    assert.ok(!r.text.includes('<script>'), 'state is escaped');
    assert.match(r.text, /&quot;&gt;&lt;script&gt;/);
    const page = await call(authorizeUrl(ctx.sim, { client_id: evil }));
    assert.equal(page.status, 400);
    assert.ok(!page.text.includes('<script>'), 'client_id is escaped on the error page');
    const loc = new URL(await ctx.sim.consent(authorizeUrl(ctx.sim, { state: evil })));
    assert.equal(loc.searchParams.get('state'), evil, 'the state comes back unchanged');
  });

  it('refuses an unknown client or a redirect URI not registered exactly, with a page and no redirect', async function () {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ client_id: 'nobody' }, /Unknown client_id/],
      [{ redirect_uri: `${REDIRECT}/` }, /not registered/],
      [{ redirect_uri: 'http://localhost:1881/oura/auth/callback' }, /not registered/],
      [{ redirect_uri: 'HTTP://localhost:1880/oura/auth/callback' }, /not registered/],
    ];
    for (const [params, message] of cases) {
      const r = await call(authorizeUrl(ctx.sim, params));
      assert.equal(r.status, 400, JSON.stringify(params));
      assert.equal(r.headers.location, undefined);
      assert.match(r.text, message);
      await assert.rejects(ctx.sim.consent(authorizeUrl(ctx.sim, params)), message);
    }
    assert.equal((await call(authorizeUrl(ctx.sim, { redirect_uri: 'http://127.0.0.1:1880/oura/auth/callback' }))).status, 200, 'each registered URI works');
  });

  it('errors after the redirect URI is known go back to it, with iss: unsupported_response_type, invalid_scope, a bad PKCE method', async function () {
    const token = new URL(await ctx.sim.consent(authorizeUrl(ctx.sim, { response_type: 'token' })));
    assert.equal(token.searchParams.get('error'), 'unsupported_response_type');
    assert.equal(token.searchParams.get('state'), 'state-1');
    assert.equal(token.searchParams.get('iss'), ctx.sim.issuer);
    const scope = new URL(await ctx.sim.consent(authorizeUrl(ctx.sim, { scope: 'daily steps' })));
    assert.equal(scope.searchParams.get('error'), 'invalid_scope');
    const pkce = new URL(await ctx.sim.consent(authorizeUrl(ctx.sim, { code_challenge: 'x'.repeat(43), code_challenge_method: 'S512' })));
    assert.equal(pkce.searchParams.get('error'), 'invalid_request');
  });

  it('Accept redirects with code, granted scope, state and iss (RFC 9207); Deny with access_denied', async function () {
    const yes = new URL(await ctx.sim.consent(authorizeUrl(ctx.sim, { scope: 'daily heartrate personal', state: 'a b&c' }), { scopes: ['daily', 'personal'] }));
    assert.equal(`${yes.origin}${yes.pathname}`, REDIRECT);
    assert.ok(yes.searchParams.get('code'));
    assert.equal(yes.searchParams.get('scope'), 'extapi:daily extapi:personal');
    assert.equal(yes.searchParams.get('state'), 'a b&c');
    assert.equal(yes.searchParams.get('iss'), ctx.sim.issuer);
    const no = new URL(await ctx.sim.consent(authorizeUrl(ctx.sim), { accept: false }));
    assert.equal(no.searchParams.get('error'), 'access_denied');
    assert.ok(no.searchParams.get('error_description'));
    assert.equal(no.searchParams.get('state'), 'state-1');
    assert.equal(no.searchParams.get('iss'), ctx.sim.issuer);
    assert.equal(no.searchParams.get('code'), null);
  });

  it('the form itself: a tampered form cannot grant more than was asked for', async function () {
    const form = new URLSearchParams({ response_type: 'code', client_id: CLIENT.clientId, redirect_uri: REDIRECT, state: 's', scope: 'extapi:daily', decision: 'accept' });
    form.append('grant', 'extapi:daily');
    form.append('grant', 'email');
    const r = await call(`${ctx.sim.moiUrl}/oauth/v2/ext/oauth-authorize/decision`, { method: 'POST', headers: FORM, body: form.toString() });
    assert.equal(r.status, 302);
    const loc = new URL(String(r.headers.location));
    assert.equal(loc.searchParams.get('scope'), 'extapi:daily');
    const t = await exchange(ctx.sim, loc.searchParams.get('code')!);
    assert.equal(t.json.scope, 'extapi:daily');
  });
});

describe('simulator: refuseLoopbackIp (one report)', function () {
  const ctx = useSimulator(() => ({ refuseLoopbackIp: true }));

  it('refuses a redirect URI on 127.0.0.1 with 400 invalid_request, while localhost works', async function () {
    const r = await call(authorizeUrl(ctx.sim, { redirect_uri: 'http://127.0.0.1:1880/oura/auth/callback' }));
    assert.equal(r.status, 400);
    assert.match(r.text, /invalid_request/);
    assert.equal((await call(authorizeUrl(ctx.sim))).status, 200);
  });
});

describe('simulator: the token endpoints', function () {
  const ctx = useSimulator(() => ({}));

  it('answers like Oura and records where the secret travelled', async function () {
    const code = await codeFor(ctx.sim, ['daily', 'heartrate']);
    const r = await exchange(ctx.sim, code);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    assert.equal(r.json.token_type, 'bearer');
    assert.equal(r.json.expires_in, 86400);
    assert.equal(r.json.scope, 'extapi:daily extapi:heartrate');
    const s = ctx.sim.stats();
    assert.equal(s.lastTokenRequestBody?.client_secret, '***');
    assert.equal(s.lastTokenRequestBody?.code, code);
    assert.equal(s.lastTokenRequestQuery, '');
    assert.equal(s.tokenRequests, 1);
    assert.equal(s.codeExchanges, 1);
    assert.deepEqual(s.tokenLog, [{ server: 'current', grant: 'authorization_code', clientId: CLIENT.clientId, status: 200 }]);
    const secrets = ctx.sim.issuedSecrets();
    for (const x of [code, r.json.access_token, r.json.refresh_token, CLIENT.clientSecret, OTHER.clientSecret]) assert.ok(secrets.includes(x));
  });

  it('codes: single use, 10 minutes, bound to the exact redirect URI and the client', async function () {
    const c1 = await codeFor(ctx.sim);
    assert.equal((await exchange(ctx.sim, c1)).status, 200);
    const again = await exchange(ctx.sim, c1);
    assert.equal(again.status, 400);
    assert.equal(again.json.error, 'invalid_grant');
    assert.ok(again.json.error_description);

    const c2 = await codeFor(ctx.sim);
    const slash = await exchange(ctx.sim, c2, CLIENT, `${REDIRECT}/`);
    assert.deepEqual([slash.status, slash.json.error], [400, 'invalid_grant']);
    const otherUri = await exchange(ctx.sim, await codeFor(ctx.sim), CLIENT, 'http://127.0.0.1:1880/oura/auth/callback');
    assert.deepEqual([otherUri.status, otherUri.json.error], [400, 'invalid_grant'], 'another registered URI is still another URI');
    const otherClient = await exchange(ctx.sim, await codeFor(ctx.sim), OTHER);
    assert.deepEqual([otherClient.status, otherClient.json.error], [400, 'invalid_grant']);
    assert.equal((await exchange(ctx.sim, 'made-up-code')).json.error, 'invalid_grant');

    const late = await codeFor(ctx.sim);
    const inTime = await codeFor(ctx.sim);
    ctx.clock.now += 10 * 60_000 - 1000;
    assert.equal((await exchange(ctx.sim, inTime)).status, 200, 'still valid just before 10 minutes');
    ctx.clock.now += 2000;
    const expired = await exchange(ctx.sim, late);
    assert.equal(expired.status, 400);
    assert.match(expired.json.error_description, /expired/);
  });

  it('client credentials: in the form body only', async function () {
    const code = await codeFor(ctx.sim);
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret };
    const inQuery = await postToken(ctx.sim, form, { query: `?client_secret=${CLIENT.clientSecret}` });
    assert.deepEqual([inQuery.status, inQuery.json.error], [401, 'invalid_client'], 'a secret in the URL is refused even with one in the body');
    assert.equal(ctx.sim.stats().lastTokenRequestQuery, `client_secret=${CLIENT.clientSecret}`);
    const { client_secret: _omit, ...noSecret } = form;
    assert.deepEqual((await postToken(ctx.sim, noSecret)).json.error, 'invalid_client');
    const basic = await postToken(ctx.sim, noSecret, { headers: { ...FORM, Authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}` } });
    assert.deepEqual([basic.status, basic.json.error], [401, 'invalid_client'], 'HTTP Basic is not how Oura takes credentials');
    assert.equal((await postToken(ctx.sim, { ...form, client_secret: 'wrong' })).status, 401);
    const asJson = await call(ctx.sim.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(form) });
    assert.deepEqual([asJson.status, asJson.json.error], [400, 'invalid_request']);
    assert.equal((await postToken(ctx.sim, { ...form, grant_type: 'password' })).json.error, 'unsupported_grant_type');
    assert.equal((await postToken(ctx.sim, form)).status, 200, 'none of that consumed the code');
    assert.equal(ctx.sim.stats().tokenRequests, 7);
    assert.equal((await call(ctx.sim.tokenUrl)).status, 405);
  });

  it('PKCE: with a challenge, the current server needs the matching code_verifier (S256 or plain)', async function () {
    const verifier = crypto.randomBytes(32).toString('base64url');
    const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    const code = await codeFor(ctx.sim, undefined, { code_challenge: challenge, code_challenge_method: 'S256' });
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret };
    const missing = await postToken(ctx.sim, form);
    assert.deepEqual([missing.status, missing.json.error], [400, 'invalid_grant']);
    assert.match(missing.json.error_description, /PKCE/);
    assert.equal((await postToken(ctx.sim, { ...form, code_verifier: crypto.randomBytes(32).toString('base64url') })).json.error, 'invalid_grant');
    assert.equal((await postToken(ctx.sim, { ...form, code_verifier: verifier })).status, 200, 'the failed attempts did not use the code up');
    const plain = await codeFor(ctx.sim, undefined, { code_challenge: verifier });
    assert.equal((await postToken(ctx.sim, { ...form, code: plain, code_verifier: verifier })).status, 200, 'no method = plain');
    assert.equal((await exchange(ctx.sim, await codeFor(ctx.sim))).status, 200, 'no challenge, no verifier needed');
  });

  it('an app of the new portal: the legacy URL answers 401 "Invalid client" to a code and 400 "Invalid request" to a refresh, using nothing up', async function () {
    const code = await codeFor(ctx.sim);
    const atLegacy = await exchange(ctx.sim, code, CLIENT, REDIRECT, ctx.sim.legacyTokenUrl);
    assert.deepEqual([atLegacy.status, atLegacy.json], [401, { detail: 'Invalid client' }]);
    const t = await exchange(ctx.sim, code);
    assert.equal(t.status, 200, 'the code survived');
    const refreshAtLegacy = await refresh(ctx.sim, t.json.refresh_token, CLIENT, ctx.sim.legacyTokenUrl);
    assert.deepEqual([refreshAtLegacy.status, refreshAtLegacy.json], [400, { detail: 'Invalid request' }]);
    assert.equal((await refresh(ctx.sim, t.json.refresh_token)).status, 200, 'the refresh token survived');
    assert.equal((await refresh(ctx.sim, 'made-up', CLIENT, ctx.sim.legacyTokenUrl)).status, 400);
    assert.deepEqual(ctx.sim.stats().tokenLog.map((e) => `${e.server} ${e.grant} ${e.status}`), [
      'legacy authorization_code 401', 'current authorization_code 200', 'legacy refresh_token 400', 'current refresh_token 200', 'legacy refresh_token 400',
    ]);
  });

  it('an app of the old portal consents at the current server, but only the legacy URL takes its codes and refreshes (and ignores code_verifier)', async function () {
    const old: SimClient = { clientId: 'old-app', clientSecret: 'old-secret-0123456789', redirectUris: [REDIRECT], portal: 'old' };
    ctx.sim.addClient(old);
    const verifier = crypto.randomBytes(32).toString('base64url');
    const code = await codeFor(ctx.sim, undefined, { client_id: old.clientId, code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' });
    const atCurrent = await exchange(ctx.sim, code, old);
    assert.deepEqual([atCurrent.status, atCurrent.json.error], [401, 'invalid_client']);
    const t = await exchange(ctx.sim, code, old, REDIRECT, ctx.sim.legacyTokenUrl);
    assert.equal(t.status, 200, `no verifier sent: ${t.text}`);
    assert.equal((await refresh(ctx.sim, t.json.refresh_token, old)).json.error, 'invalid_client');
    const r = await refresh(ctx.sim, t.json.refresh_token, old, ctx.sim.legacyTokenUrl);
    assert.equal(r.status, 200);
    assert.equal((await api(ctx.sim, r.json.access_token, '/v2/usercollection/daily_sleep')).status, 200);
    // What "Check credentials" reads: a made-up refresh token.
    assert.equal((await refresh(ctx.sim, 'made-up', old, ctx.sim.legacyTokenUrl)).json.error, 'invalid_grant');
    assert.equal((await refresh(ctx.sim, 'made-up', CLIENT)).json.error, 'invalid_grant');
    assert.equal((await refresh(ctx.sim, 'made-up', { ...CLIENT, clientSecret: 'wrong' })).json.error, 'invalid_client');
  });

  it('refresh tokens rotate, are single use, and take the old access token with them', async function () {
    const t = await tokens(ctx.sim, ['daily']);
    const r1 = await refresh(ctx.sim, t.refresh_token);
    assert.equal(r1.status, 200);
    assert.notEqual(r1.json.refresh_token, t.refresh_token);
    assert.notEqual(r1.json.access_token, t.access_token);
    assert.equal(r1.json.scope, 'extapi:daily', 'the grant keeps its scopes');
    assert.equal((await api(ctx.sim, t.access_token, '/v2/usercollection/daily_sleep')).status, 401, 'old access token gone');
    assert.equal((await api(ctx.sim, r1.json.access_token, '/v2/usercollection/daily_sleep')).status, 200);
    const reuse = await refresh(ctx.sim, t.refresh_token);
    assert.equal(reuse.status, 400);
    assert.deepEqual(reuse.json, { detail: 'Refresh token already used.' });
    assert.equal(ctx.sim.stats().refreshReuse, 1);
    assert.equal((await refresh(ctx.sim, r1.json.refresh_token, OTHER)).json.error, 'invalid_grant', 'another client cannot use it');
    assert.equal((await refresh(ctx.sim, 'unknown')).json.error, 'invalid_grant');
    const r2 = await refresh(ctx.sim, r1.json.refresh_token);
    assert.equal(r2.status, 200);
    assert.equal(ctx.sim.stats().refreshes, 5);
    assert.equal(ctx.sim.stats().refreshReuse, 1);
  });

  it('expireAccessTokens, revokeAll and the access token lifetime', async function () {
    const t = await tokens(ctx.sim);
    ctx.sim.expireAccessTokens();
    assert.equal((await api(ctx.sim, t.access_token, '/v2/usercollection/daily_sleep')).status, 401);
    const r = await refresh(ctx.sim, t.refresh_token);
    assert.equal((await api(ctx.sim, r.json.access_token, '/v2/usercollection/daily_sleep')).status, 200, 'a refresh after expiry works');
    ctx.clock.now += 86400_000 + 1000;
    assert.equal((await api(ctx.sim, r.json.access_token, '/v2/usercollection/daily_sleep')).status, 401, 'expired after expires_in');
    ctx.sim.revokeAll();
    assert.equal((await refresh(ctx.sim, r.json.refresh_token)).json.error, 'invalid_grant', 'revoking the app kills refresh tokens');
  });

  it('revocation: RFC 7009 at the current server (client credentials in the body), ?access_token= at the legacy URL', async function () {
    const a = await tokens(ctx.sim);
    const revoke = (form: Record<string, string>) => call(ctx.sim.revokeUrl, { method: 'POST', headers: FORM, body: new URLSearchParams(form).toString() });
    const unauthenticated = await revoke({ token: a.refresh_token, token_type_hint: 'refresh_token' });
    assert.deepEqual([unauthenticated.status, unauthenticated.json.error], [401, 'invalid_client']);
    assert.equal((await refresh(ctx.sim, a.refresh_token)).status, 200, 'a refused revocation changes nothing');
    const b = await tokens(ctx.sim);
    const ok = await revoke({ token: b.refresh_token, token_type_hint: 'refresh_token', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
    assert.equal(ok.status, 200);
    assert.equal((await refresh(ctx.sim, b.refresh_token)).json.error, 'invalid_grant', 'the refresh token is dead');
    assert.equal((await api(ctx.sim, b.access_token, '/v2/usercollection/daily_sleep')).status, 401, 'and its access token with it');
    assert.equal((await revoke({ token: 'unknown', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret })).status, 200, 'an unknown token is no error');
    const c = await tokens(ctx.sim);
    assert.equal((await revoke({ token: c.access_token, client_id: OTHER.clientId, client_secret: OTHER.clientSecret })).status, 200);
    assert.equal((await api(ctx.sim, c.access_token, '/v2/usercollection/daily_sleep')).status, 200, 'another client cannot revoke it');
    assert.equal((await call(`${ctx.sim.legacyRevokeUrl}?access_token=${c.access_token}`, { method: 'POST' })).status, 200);
    assert.equal((await api(ctx.sim, c.access_token, '/v2/usercollection/daily_sleep')).status, 401);
    assert.deepEqual(ctx.sim.stats().revocationLog.map((e) => `${e.server} ${e.form} ${e.hint ?? '-'} ${e.status}`), [
      'current rfc7009 refresh_token 401', 'current rfc7009 refresh_token 200', 'current rfc7009 - 200', 'current rfc7009 - 200', 'legacy legacy - 200',
    ]);
  });

  it('accessTokenTtl sets expires_in; setAccessTokenTtl changes it for new tokens', async function () {
    const short = await startSimulator({ clients: [CLIENT], accessTokenTtl: 120, now: () => ctx.clock.now });
    try {
      const t = await tokens(short);
      assert.equal(t.expires_in, 120);
      ctx.clock.now += 119_000;
      assert.equal((await api(short, t.access_token, '/v2/usercollection/daily_sleep')).status, 200);
      ctx.clock.now += 2000;
      assert.equal((await api(short, t.access_token, '/v2/usercollection/daily_sleep')).status, 401);
      short.setAccessTokenTtl(30);
      assert.equal((await tokens(short)).expires_in, 30);
    } finally {
      await short.close();
    }
  });

  it('faults on the token endpoints fire before any code or refresh token is consumed', async function () {
    for (const kind of ['429', '500', '503', 'drop', 'garbage'] as const) {
      const code = await codeFor(ctx.sim);
      ctx.sim.setFaults([{ kind, target: 'token' }]);
      const failed = await exchange(ctx.sim, code).then((r) => r, (e: Error) => e);
      if (kind === 'drop') assert.ok(failed instanceof Error, 'dropped');
      else if (kind === 'garbage') assert.equal((failed as Answer).json, undefined);
      else assert.equal((failed as Answer).status, Number(kind));
      const ok = await exchange(ctx.sim, code);
      assert.equal(ok.status, 200, `${kind}: the code survived`);
      ctx.sim.setFaults([{ kind, target: 'token' }]);
      const failedRefresh = await refresh(ctx.sim, ok.json.refresh_token).then((r) => (r.status === 200 && r.json ? 'tokens' : 'failed'), () => 'failed');
      assert.equal(failedRefresh, 'failed', kind);
      assert.equal((await refresh(ctx.sim, ok.json.refresh_token)).status, 200, `${kind}: the refresh token was not rotated`);
    }
    assert.equal(ctx.sim.stats().refreshReuse, 0);
    const t = await tokens(ctx.sim);
    ctx.sim.setFaults([{ kind: '503', target: 'data' }]);
    assert.equal((await refresh(ctx.sim, t.refresh_token)).status, 200, 'data faults leave the token endpoint alone');
  });
});

describe('simulator: legacyBurnsCode (one report)', function () {
  const ctx = useSimulator(() => ({ legacyBurnsCode: true }));

  it('a code sent to the legacy URL first is used up for the current server', async function () {
    const code = await codeFor(ctx.sim);
    assert.equal((await exchange(ctx.sim, code, CLIENT, REDIRECT, ctx.sim.legacyTokenUrl)).status, 401);
    const after = await exchange(ctx.sim, code);
    assert.deepEqual([after.status, after.json.error], [400, 'invalid_grant']);
  });
});

// ---------------------------------------------------------------------------------------------
// Faults on data routes
// ---------------------------------------------------------------------------------------------

describe('simulator: faults', function () {
  const ctx = useSimulator(() => ({}));
  let access: string;
  beforeEach(async function () {
    access = (await tokens(ctx.sim)).access_token;
  });
  const get = () => api(ctx.sim, access, '/v2/usercollection/daily_sleep');

  it('429 with Retry-After and rate-limit headers, for the next `count` requests', async function () {
    ctx.sim.setFaults([{ kind: '429', count: 2, retryAfter: '7' }]);
    const r = await get();
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '7');
    assert.equal(r.headers['x-ratelimit-limit'], '5000');
    assert.ok(r.headers['x-ratelimit-window'] && r.headers['x-ratelimit-reset']);
    assert.equal((await get()).status, 429);
    assert.equal((await get()).status, 200);
    ctx.sim.setFaults([{ kind: '429' }]);
    assert.equal((await get()).headers['retry-after'], '1', 'Retry-After defaults to 1');
  });

  it('500, 503, garbage and a dropped connection', async function () {
    ctx.sim.setFaults([{ kind: '500' }, { kind: '503' }, { kind: 'garbage' }, { kind: 'drop' }]);
    assert.equal((await get()).status, 500);
    assert.equal((await get()).status, 503);
    const garbage = await get();
    assert.equal(garbage.status, 200);
    assert.throws(() => JSON.parse(garbage.text));
    await assert.rejects(get(), /socket hang up|ECONNRESET/);
    assert.equal((await get()).status, 200);
    assert.equal(ctx.sim.stats().dataRequests, 5);
  });

  it('slow answers after delayMs; close() does not wait for a slow answer', async function () {
    ctx.sim.setFaults([{ kind: 'slow', delayMs: 40 }]);
    const t0 = Date.now();
    assert.equal((await get()).status, 200);
    assert.ok(Date.now() - t0 >= 35);
    ctx.sim.setFaults([{ kind: 'slow', delayMs: 60_000 }]);
    const pending = get().then(() => 'answered', () => 'dropped');
    await until(() => ctx.sim.stats().dataRequests === 2, 'the slow request arrived');
    const c0 = Date.now();
    await ctx.sim.close();
    assert.ok(Date.now() - c0 < 1000, 'close() returned at once');
    assert.equal(await pending, 'dropped');
  });

  it('rate: a seeded, repeatable share of requests; [] clears', async function () {
    const run = async () => {
      ctx.sim.setFaults([{ kind: '503', rate: 0.5, seed: 42 }]);
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await get()).status);
      return out;
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a, b, 'same seed, same requests fail');
    const failed = a.filter((s) => s === 503).length;
    assert.ok(failed >= 4 && failed <= 16, `${failed} of 20 failed`);
    ctx.sim.setFaults([]);
    assert.equal((await get()).status, 200);
  });

  it('target: data faults skip the token endpoint, any hits both', async function () {
    const t = await tokens(ctx.sim);
    ctx.sim.setFaults([{ kind: '500', target: 'any', count: 2 }]);
    assert.equal((await refresh(ctx.sim, t.refresh_token)).status, 500);
    assert.equal((await get()).status, 500);
    assert.equal((await get()).status, 200);
    assert.throws(() => ctx.sim.setFaults([{ kind: 'boom' as never }]), /kind/);
  });
});

// ---------------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------------

interface Received {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: answers Oura's verification GET and records event POSTs. */
async function receiver(mode: { challenge: 'echo' | 'wrong' | 'error'; status?: number }): Promise<{ url: string; got: Received[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      got.push({ method: req.method ?? '', url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.method === 'GET') {
        if (mode.challenge === 'error') return void res.writeHead(500).end();
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.end(JSON.stringify({ challenge: mode.challenge === 'echo' ? url.searchParams.get('challenge') : 'nope' }));
      }
      res.writeHead(mode.status ?? 200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oura/webhook`,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('simulator: webhooks', function () {
  const ctx = useSimulator(() => ({}));
  const hooks = (client: SimClient = CLIENT) => ({ 'x-client-id': client.clientId, 'x-client-secret': client.clientSecret, 'Content-Type': 'application/json' });
  const sub = (method: string, p = '', body?: object, client?: SimClient) =>
    call(`${ctx.sim.url}/v2/webhook/subscription${p}`, { method, headers: hooks(client), body: body && JSON.stringify(body) });
  const model = validatorFor('#/components/schemas/WebhookSubscriptionModel');

  it('subscriptions need x-client-id and x-client-secret', async function () {
    assert.equal((await call(`${ctx.sim.url}/v2/webhook/subscription`)).status, 401);
    const wrong = await call(`${ctx.sim.url}/v2/webhook/subscription`, { headers: { 'x-client-id': CLIENT.clientId, 'x-client-secret': 'nope' } });
    assert.equal(wrong.status, 401);
    assert.deepEqual((await sub('GET')).json, []);
  });

  it('creating verifies the callback (challenge echoed), then list, get, update, renew, delete', async function () {
    const rx = await receiver({ challenge: 'echo' });
    try {
      const created = await sub('POST', '', { callback_url: rx.url, verification_token: 'vt-1', event_type: 'create', data_type: 'daily_sleep' });
      assert.equal(created.status, 201, created.text);
      assert.ok(conforms(model, created.json), ajv.errorsText(model.errors));
      assert.equal(Date.parse(created.json.expiration_time), CLOCK0 + 90 * 86400_000);
      assert.equal(rx.got.length, 1);
      assert.equal(rx.got[0].method, 'GET');
      assert.equal(rx.got[0].url.searchParams.get('verification_token'), 'vt-1');
      assert.ok(rx.got[0].url.searchParams.get('challenge'));
      const id = created.json.id;

      assert.deepEqual((await sub('GET')).json, [created.json]);
      assert.deepEqual((await sub('GET', '', undefined, OTHER)).json, [], 'subscriptions are per application');
      assert.deepEqual((await sub('GET', `/${id}`)).json, created.json);
      assert.equal((await sub('GET', `/${id}`, undefined, OTHER)).status, 403);

      const dup = await sub('POST', '', { callback_url: rx.url, verification_token: 'vt-1', event_type: 'create', data_type: 'daily_sleep' });
      assert.equal(dup.status, 409, 'one subscription per event_type x data_type');

      assert.equal((await sub('PUT', `/${id}`, { event_type: 'update' })).status, 422, 'verification_token is required');
      const updated = await sub('PUT', `/${id}`, { verification_token: 'vt-2', event_type: 'update', data_type: 'vo2_max' });
      assert.equal(updated.status, 200);
      assert.equal(updated.json.event_type, 'update');
      assert.equal(updated.json.data_type, 'vo2_max');
      assert.ok(conforms(model, updated.json), ajv.errorsText(model.errors));

      ctx.clock.now += 10 * 86400_000;
      const renewed = await sub('PUT', `/renew/${id}`);
      assert.equal(renewed.status, 200);
      assert.equal(Date.parse(renewed.json.expiration_time), ctx.clock.now + 90 * 86400_000);

      assert.equal((await sub('DELETE', `/${id}`)).status, 204);
      assert.equal((await sub('GET', `/${id}`)).status, 403, 'Oura: "Webhook with specified id does not exist."');
      assert.equal((await sub('PUT', `/renew/${id}`)).status, 403);
    } finally {
      await rx.close();
    }
  });

  it('refuses a callback that does not echo the challenge, fails, or cannot be reached; validates the body', async function () {
    const body = { callback_url: '', verification_token: 'vt', event_type: 'create', data_type: 'sleep' };
    for (const challenge of ['wrong', 'error'] as const) {
      const rx = await receiver({ challenge });
      try {
        const r = await sub('POST', '', { ...body, callback_url: rx.url });
        assert.equal(r.status, 400, challenge);
        assert.match(r.json.detail, /verification failed/);
      } finally {
        await rx.close();
      }
    }
    const closed = await receiver({ challenge: 'echo' });
    await closed.close();
    assert.equal((await sub('POST', '', { ...body, callback_url: closed.url })).status, 400, 'unreachable');
    assert.equal((await sub('POST', '', { ...body, callback_url: closed.url, event_type: 'upsert' })).status, 422);
    assert.equal((await sub('POST', '', { ...body, callback_url: closed.url, data_type: 'vO2_max' })).status, 422, 'webhook data types are lower case');
    assert.equal((await sub('POST', '', { event_type: 'create' })).status, 422);
    assert.deepEqual((await sub('GET')).json, []);
  });

  it('sendEvent signs like Oura: x-oura-timestamp (epoch seconds) and upper-case hex HMAC-SHA256(secret, timestamp + body)', async function () {
    const rx = await receiver({ challenge: 'echo', status: 200 });
    try {
      const event = { event_type: 'create', data_type: 'sleep', object_id: 'abc', event_time: '2025-06-30T08:00:00+00:00', user_id: 'u1' };
      const r = await ctx.sim.sendEvent(rx.url, event);
      assert.deepEqual(r, { status: 200, body: 'ok' });
      const got = rx.got[0];
      assert.equal(got.method, 'POST');
      assert.deepEqual(JSON.parse(got.body), event);
      assert.match(String(got.headers['content-type']), /application\/json/);
      const ts = String(got.headers['x-oura-timestamp']);
      assert.equal(ts, String(Math.floor(CLOCK0 / 1000)));
      const expected = crypto.createHmac('sha256', CLIENT.clientSecret).update(ts + got.body).digest('hex').toUpperCase();
      assert.equal(got.headers['x-oura-signature'], expected);

      await ctx.sim.sendEvent(rx.url, event, { secret: 'other', timestamp: '2025-06-30T10:00:00Z' });
      const second = rx.got[1];
      assert.equal(second.headers['x-oura-timestamp'], '2025-06-30T10:00:00Z');
      assert.equal(second.headers['x-oura-signature'], crypto.createHmac('sha256', 'other').update(`2025-06-30T10:00:00Z${second.body}`).digest('hex').toUpperCase());
    } finally {
      await rx.close();
    }
    const gone = await receiver({ challenge: 'echo', status: 410 });
    try {
      assert.equal((await ctx.sim.sendEvent(gone.url, {})).status, 410, 'the receiver\'s answer comes back');
    } finally {
      await gone.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Control routes and the CLI (for tests that run the simulator in another process)
// ---------------------------------------------------------------------------------------------

describe('simulator: control routes', function () {
  const ctx = useSimulator(() => ({}));
  const control = (method: string, p: string, body?: unknown) =>
    call(`${ctx.sim.url}/_sim/${p}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

  it('clients, consent, ttl, faults, expire, revoke-all, stats, reset-stats, secrets', async function () {
    const extra = { clientId: 'added', clientSecret: 'added-secret-0123456789', redirectUris: ['http://127.0.0.1:9999/cb'] };
    assert.equal((await control('POST', 'clients', extra)).status, 200);
    const u = authorizeUrl(ctx.sim, { client_id: extra.clientId, redirect_uri: extra.redirectUris[0], scope: 'daily heartrate' });
    const consent = await control('POST', 'consent', { authorizeUrl: u, accept: true, scopes: ['daily'] });
    assert.equal(consent.status, 200);
    const loc = new URL(consent.json.location);
    assert.equal(loc.searchParams.get('scope'), 'extapi:daily');
    assert.equal((await control('POST', 'ttl', { seconds: 60 })).status, 200);
    const t = await exchange(ctx.sim, loc.searchParams.get('code')!, extra, extra.redirectUris[0]);
    assert.equal(t.json.expires_in, 60);

    assert.equal((await control('POST', 'faults', [{ kind: '503', count: 1 }])).status, 200);
    assert.equal((await api(ctx.sim, t.json.access_token, '/v2/usercollection/daily_sleep')).status, 503);
    assert.equal((await api(ctx.sim, t.json.access_token, '/v2/usercollection/daily_sleep')).status, 200);

    const stats = await control('GET', 'stats');
    assert.equal(stats.json.dataRequests, 2);
    assert.equal(stats.json.codeExchanges, 1);
    assert.equal(stats.json.byPath['/v2/usercollection/daily_sleep'], 2);
    const secrets = (await control('GET', 'secrets')).json;
    assert.ok(secrets.includes(t.json.access_token) && secrets.includes(t.json.refresh_token) && secrets.includes(extra.clientSecret));

    assert.equal((await control('POST', 'expire', {})).status, 200);
    assert.equal((await api(ctx.sim, t.json.access_token, '/v2/usercollection/daily_sleep')).status, 401);
    assert.equal((await control('POST', 'revoke-all')).status, 200);
    assert.equal((await refresh(ctx.sim, t.json.refresh_token, extra)).json.error, 'invalid_grant');

    assert.equal((await control('POST', 'reset-stats')).status, 200);
    const zero = (await control('GET', 'stats')).json;
    assert.deepEqual([zero.tokenRequests, zero.codeExchanges, zero.refreshes, zero.refreshReuse, zero.dataRequests, zero.revocations], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(zero.byPath, {});
  });

  it('refuses bad input with 400 and unknown routes with 404', async function () {
    const bad = await call(`${ctx.sim.url}/_sim/faults`, { method: 'POST', body: '{not json' });
    assert.equal(bad.status, 400);
    assert.equal((await control('POST', 'faults', { kind: '503' })).status, 400, 'an array is expected');
    assert.equal((await control('POST', 'faults', [{ kind: 'explode' }])).status, 400);
    assert.equal((await control('POST', 'clients', { clientId: 'x' })).status, 400);
    assert.equal((await control('POST', 'ttl', { seconds: -1 })).status, 400);
    assert.equal((await control('POST', 'consent', { authorizeUrl: authorizeUrl(ctx.sim, { client_id: 'nobody' }) })).status, 400);
    assert.equal((await control('GET', 'nothing')).status, 404);
  });
});

describe('simulator: command line', function () {
  it('parses its arguments; a redirect URI keeps its colons', function () {
    const o = parseArgs(['--port', '0', '--host', '127.0.0.1', '--token-ttl', '60', '--page-size', '5', '--today', TODAY,
      '--client', 'a:s1:http://127.0.0.1:1880/cb,http://localhost:1880/cb', '--legacy-client', 'b:s2:https://x.example/cb',
      '--bare-scopes', 'ignore', '--refuse-loopback-ip', '--legacy-burns-code', '--datetime-end-exclusive']);
    assert.deepEqual(o, {
      port: 0, moiPort: 0, host: '127.0.0.1', accessTokenTtl: 60, pageSize: 5, today: TODAY,
      bareScopes: 'ignore', refuseLoopbackIp: true, legacyBurnsCode: true, datetimeEndExclusive: true,
      clients: [
        { clientId: 'a', clientSecret: 's1', redirectUris: ['http://127.0.0.1:1880/cb', 'http://localhost:1880/cb'], portal: 'new' },
        { clientId: 'b', clientSecret: 's2', redirectUris: ['https://x.example/cb'], portal: 'old' },
      ],
    });
    assert.deepEqual([parseArgs([]).port, parseArgs([]).moiPort], [8787, 8788], 'the authorization server listens next door');
    assert.equal(parseArgs(['--port', '9000', '--moi-port', '9100']).moiPort, 9100);
  });

  it('prints one line when listening, serves, and exits cleanly on SIGTERM', async function () {
    const root = path.join(__dirname, '..');
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'sim/cli.ts', '--port', '0', '--client', `cli:cli-secret:${REDIRECT}`],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' } });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const [url, moi] = await new Promise<string[]>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /^Oura simulator listening on (http:\/\/\S+) \(authorization server (http:\/\/\S+)\)\n/.exec(out);
          if (m) resolve([m[1], m[2]]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(moi, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await call(`${url}/_sim/info`)).json.moiUrl, moi);
      const page = await call(`${moi}/oauth/v2/ext/oauth-authorize?response_type=code&client_id=cli&redirect_uri=${encodeURIComponent(REDIRECT)}`);
      assert.equal(page.status, 200, '--client registered');
      const demo = await call(`${moi}/oauth/v2/ext/oauth-authorize?response_type=code&client_id=demo-client&redirect_uri=${encodeURIComponent(REDIRECT)}`);
      assert.equal(demo.status, 400, '--client replaces the default client');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.equal(out.split('\n').filter(Boolean).length, 1, `exactly one line: ${out}`);
  });
});
