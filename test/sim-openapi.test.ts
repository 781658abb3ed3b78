/**
 * The simulator speaks Oura's shapes: every response validates against the typed schemas of Oura's own
 * OpenAPI 1.37 document (JSON Schema 2020-12), and its OAuth server is as strict as Oura's.
 */
import { strict as assert } from 'assert';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import { startSimulator, Simulator } from '../sim/server';
import { sign } from '../sim/webhooks';

const spec = require(path.resolve(__dirname, '../../shared/oura/openapi-1.37.json'));
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ ...spec, $id: 'oura' }, 'oura');

/** The typed branch of a route's 200 response (Oura's spec wraps each in anyOf [typed, Dict]). */
function validatorFor(route: string) {
  const schema = spec.paths[route].get.responses['200'].content['application/json'].schema;
  const typed = schema.anyOf ? schema.anyOf[0] : schema;
  return ajv.compile({ $ref: `oura${typed.$ref}` });
}

const CLIENT = { clientId: 'c1', clientSecret: 'secret-1234567890', redirectUris: ['http://127.0.0.1:1880/oura/auth/callback'] };
const REDIRECT = CLIENT.redirectUris[0];
const COLLECTIONS = ['daily_activity', 'daily_cardiovascular_age', 'daily_readiness', 'daily_resilience', 'daily_sleep', 'daily_spo2', 'daily_stress',
  'enhanced_tag', 'heartrate', 'personal_info', 'rest_mode_period', 'ring_battery_level', 'ring_configuration', 'session', 'sleep', 'sleep_time',
  'tag', 'vO2_max', 'workout'];

function authorizeUrl(sim: Simulator, scope?: string, state = 'st'): string {
  const u = new URL(sim.authorizeUrl);
  u.search = new URLSearchParams({ response_type: 'code', client_id: CLIENT.clientId, redirect_uri: REDIRECT, state, ...(scope !== undefined ? { scope } : {}) }).toString();
  return u.toString();
}

async function token(sim: Simulator, form: Record<string, string>, query = ''): Promise<{ status: number; body: any }> {
  const r = await fetch(`${sim.tokenUrl}${query}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: r.status, body: await r.json() };
}

async function authorize(sim: Simulator, scopes?: string[]): Promise<any> {
  const loc = new URL(await sim.consent(authorizeUrl(sim), { accept: true, scopes }));
  const t = await token(sim, { grant_type: 'authorization_code', code: loc.searchParams.get('code')!, redirect_uri: REDIRECT, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  return t.body;
}

async function get(sim: Simulator, access: string, p: string): Promise<{ status: number; body: any }> {
  const r = await fetch(`${sim.url}${p}`, { headers: { authorization: `Bearer ${access}` } });
  return { status: r.status, body: await r.json() };
}

describe('simulator: data in Oura\'s shapes', function () {
  let sim: Simulator;
  let access: string;
  before(async function () {
    sim = await startSimulator({ clients: [CLIENT], pageSize: 4, heartratePageSize: 500 });
    access = (await authorize(sim)).access_token;
  });
  after(async function () {
    await sim.close();
  });

  for (const c of COLLECTIONS) {
    it(`${c}: every page and a single document validate against the spec`, async function () {
      const validate = validatorFor(`/v2/usercollection/${c}`);
      const end = new Date().toISOString().slice(0, 10);
      const start = new Date(Date.now() - 70 * 86400_000).toISOString().slice(0, 10);
      const range = c === 'heartrate' || c === 'ring_battery_level'
        ? `start_datetime=${encodeURIComponent(new Date(Date.now() - 86400_000).toISOString())}`
        : c === 'personal_info' || c === 'ring_configuration' ? '' : `start_date=${start}&end_date=${end}`;
      let next: string | null = null;
      let pages = 0;
      let first: any;
      do {
        const q: string = [range, next ? `next_token=${encodeURIComponent(next)}` : ''].filter(Boolean).join('&');
        const r = await get(sim, access, `/v2/usercollection/${c}${q ? `?${q}` : ''}`);
        const body: any = r.body;
        assert.equal(r.status, 200, JSON.stringify(body));
        const valid: boolean = validate(body);
        assert.ok(valid, `${c} page ${pages}: ${ajv.errorsText(validate.errors)}`);
        if (c === 'personal_info') return;
        first = first ?? body.data[0];
        next = body.next_token;
        pages++;
      } while (next && pages < 40);
      assert.ok(first, `${c} has data in 70 days`);
      const single = `/v2/usercollection/${c}/{document_id}`;
      if (spec.paths[single]) {
        const one = await get(sim, access, `/v2/usercollection/${c}/${first.id}`);
        assert.equal(one.status, 200);
        assert.ok(validatorFor(single)(one.body), c);
        assert.deepEqual(one.body, first);
      }
    });
  }

  it('several sleep periods on some days (naps), and scores that move with the sleep', async function () {
    const end = new Date().toISOString().slice(0, 10);
    const start = new Date(Date.now() - 40 * 86400_000).toISOString().slice(0, 10);
    const docs: any[] = [];
    let next: string | null = null;
    do {
      const r = await get(sim, access, `/v2/usercollection/sleep?start_date=${start}&end_date=${end}${next ? `&next_token=${encodeURIComponent(next)}` : ''}`);
      docs.push(...r.body.data);
      next = r.body.next_token;
    } while (next);
    const perDay = new Map<string, number>();
    for (const d of docs) perDay.set(d.day, (perDay.get(d.day) ?? 0) + 1);
    assert.ok([...perDay.values()].some((n) => n > 1), 'some day has several periods');
    assert.ok(docs.some((d) => d.type === 'late_nap'));
    const scores = new Set<number>();
    next = null;
    do {
      const r = await get(sim, access, `/v2/usercollection/daily_sleep?start_date=${start}&end_date=${end}${next ? `&next_token=${encodeURIComponent(next)}` : ''}`);
      r.body.data.forEach((d: any) => scores.add(d.score));
      next = r.body.next_token;
    } while (next);
    assert.ok(scores.size > 10, 'scores vary');
  });

  it('end_date excluded for sleep, included for daily_sleep; 422 for start after end; + must be escaped', async function () {
    const d = '2026-11-10';
    const sleep = await get(sim, access, `/v2/usercollection/sleep?start_date=${d}&end_date=2026-11-11`);
    assert.ok(sleep.body.data.every((x: any) => x.day === d));
    const daily = await get(sim, access, `/v2/usercollection/daily_sleep?start_date=${d}&end_date=2026-11-11`);
    assert.deepEqual(daily.body.data.map((x: any) => x.day), [d, '2026-11-11']);
    const bad = await get(sim, access, '/v2/usercollection/sleep?start_date=2026-11-12&end_date=2026-11-11');
    assert.equal(bad.status, 422);
    assert.equal(bad.body.detail[0].loc[1], 'start_date');
    const plus = await get(sim, access, '/v2/usercollection/heartrate?start_datetime=2026-11-10T00:00:00+01:00');
    assert.equal(plus.status, 422, 'an unescaped + arrives as a space');
    const escaped = await get(sim, access, '/v2/usercollection/heartrate?start_datetime=2026-11-10T00:00:00%2B01:00&end_datetime=2026-11-10T01:00:00%2B01:00');
    assert.equal(escaped.status, 200);
    assert.equal(escaped.body.data.length, 51, 'both ends included, one sample every 72 s');
  });
});

describe('simulator: OAuth as strict as Oura', function () {
  let sim: Simulator;
  let clock = Date.now();
  beforeEach(async function () {
    clock = Date.now();
    sim = await startSimulator({ clients: [CLIENT], now: () => clock });
  });
  afterEach(async function () {
    await sim.close();
  });

  it('the consent page has scope checkboxes and real Accept / Deny buttons; unknown redirect URIs are refused', async function () {
    const page = await (await fetch(authorizeUrl(sim, 'daily personal'))).text();
    assert.match(page, /<button[^>]*value="accept"[^>]*>Accept<\/button>/);
    assert.match(page, /<button[^>]*value="deny"[^>]*>Deny<\/button>/);
    assert.match(page, /type="checkbox" name="grant" value="daily" checked/);
    const wrong = authorizeUrl(sim).replace(encodeURIComponent(REDIRECT), encodeURIComponent(`${REDIRECT}/`));
    const r = await fetch(wrong);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /Invalid redirect_uri/);
  });

  it('Accept and Deny redirect like Oura, unticked scopes are not granted', async function () {
    const form = new URLSearchParams({ response_type: 'code', client_id: CLIENT.clientId, redirect_uri: REDIRECT, state: 's<1>', scope: 'daily personal', decision: 'accept' });
    form.append('grant', 'daily');
    const r = await fetch(`${sim.url}/oauth/authorize/decision`, { method: 'POST', body: form, redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 302);
    const loc = new URL(r.headers.get('location')!);
    assert.equal(loc.searchParams.get('state'), 's<1>');
    assert.equal(loc.searchParams.get('scope'), 'daily');
    form.set('decision', 'deny');
    const d = await fetch(`${sim.url}/oauth/authorize/decision`, { method: 'POST', body: form, redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(new URL(d.headers.get('location')!).searchParams.get('error'), 'access_denied');
  });

  it('codes are single use, bound to the redirect URI and expire after 10 minutes', async function () {
    const code = () => sim.consent(authorizeUrl(sim), { accept: true }).then((l) => new URL(l).searchParams.get('code')!);
    const base = { grant_type: 'authorization_code', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret };
    const c1 = await code();
    assert.equal((await token(sim, { ...base, code: c1, redirect_uri: `${REDIRECT}x` })).status, 400);
    const c2 = await code();
    assert.equal((await token(sim, { ...base, code: c2, redirect_uri: REDIRECT })).status, 200);
    assert.equal((await token(sim, { ...base, code: c2, redirect_uri: REDIRECT })).status, 400);
    const c3 = await code();
    clock += 10 * 60_000 + 1;
    assert.match((await token(sim, { ...base, code: c3, redirect_uri: REDIRECT })).body.error_description, /expired/);
  });

  it('client credentials in the body only; refresh tokens rotate and are single use', async function () {
    const t = await authorize(sim);
    const viaQuery = await token(sim, { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: CLIENT.clientId }, `?client_secret=${CLIENT.clientSecret}`);
    assert.equal(viaQuery.status, 401);
    const refresh = (rt: string) => token(sim, { grant_type: 'refresh_token', refresh_token: rt, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
    const r1 = await refresh(t.refresh_token);
    assert.equal(r1.status, 200);
    assert.notEqual(r1.body.refresh_token, t.refresh_token);
    assert.equal((await get(sim, t.access_token, '/v2/usercollection/daily_sleep')).status, 401, 'the old access token died with the rotation');
    const again = await refresh(t.refresh_token);
    assert.equal(again.status, 400);
    assert.equal(again.body.detail, 'Refresh token already used.');
    assert.equal(sim.stats().refreshReuse, 1);
  });

  it('token-endpoint faults happen before anything rotates', async function () {
    const t = await authorize(sim);
    sim.setFaults([{ kind: '503', target: 'token' }]);
    const form = { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret };
    assert.equal((await token(sim, form)).status, 503);
    assert.equal((await token(sim, form)).status, 200, 'the refresh token is still good');
  });

  it('scopes are enforced per collection, with a configurable token lifetime', async function () {
    sim.setAccessTokenTtl(120);
    const t = await authorize(sim, ['personal']);
    assert.equal(t.expires_in, 120);
    assert.equal((await get(sim, t.access_token, '/v2/usercollection/daily_sleep')).status, 401);
    assert.equal((await get(sim, t.access_token, '/v2/usercollection/vO2_max')).status, 403);
    assert.equal((await get(sim, t.access_token, '/v2/usercollection/personal_info')).status, 200);
    clock += 121_000;
    assert.equal((await get(sim, t.access_token, '/v2/usercollection/personal_info')).status, 401);
  });

  it('the new-portal token URL', async function () {
    await sim.close();
    sim = await startSimulator({ clients: [CLIENT], newPortalOnly: true });
    const code = new URL(await sim.consent(authorizeUrl(sim), { accept: true })).searchParams.get('code')!;
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
    const old = await fetch(`${sim.url}/oauth/token`, { method: 'POST', body: form });
    assert.equal(old.status, 400);
    assert.equal(((await old.json()) as { error?: string }).error, 'invalid_request');
    assert.equal((await fetch(sim.tokenUrl, { method: 'POST', body: form })).status, 200);
  });
});

describe('simulator: webhooks', function () {
  it('signs events like Oura: upper-case hex HMAC-SHA256 of timestamp + body', function () {
    const s = sign('secret', '1700000000', '{"a":1}');
    assert.match(s, /^[0-9A-F]{64}$/);
    assert.equal(s, require('crypto').createHmac('sha256', 'secret').update('1700000000{"a":1}').digest('hex').toUpperCase());
  });
});
