import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  ask, askError, authorize, callback, CLIENT_ID, CLIENT_SECRET, creds, Env, helper, load, REDIRECT, setUp, sleepFlow,
  startAuth, tearDown, assertNoSecrets,
} from '../support';
import * as tokens from '../../src/lib/store/tokens';
import { timing } from '../../src/lib/retry';
import { STATE_TTL_MS } from '../../src/lib/oauth/pending';
import { day } from '../clock';

describe('oura-account: authorizing from the editor', function () {
  let env: Env;
  beforeEach(async function () {
    env = await setUp();
    await load(sleepFlow());
  });
  afterEach(async function () {
    await tearDown(env);
  });

  it('builds the consent URL with a random state bound to the redirect URI, and no secret in it', async function () {
    const a = new URL(await startAuth('acc1', { scopes: 'daily personal' }));
    const b = new URL(await startAuth('acc1'));
    assert.equal(a.origin + a.pathname, env.sim.authorizeUrl);
    assert.equal(a.searchParams.get('response_type'), 'code');
    assert.equal(a.searchParams.get('client_id'), CLIENT_ID);
    assert.equal(a.searchParams.get('redirect_uri'), REDIRECT);
    assert.equal(a.searchParams.get('scope'), 'extapi:daily extapi:personal', 'each scope under the name the server lists');
    assert.equal(b.searchParams.has('scope'), false, 'empty scopes ask for every scope: no scope parameter');
    const state = a.searchParams.get('state')!;
    assert.ok(Buffer.from(state, 'base64url').length >= 16, 'state has at least 128 bits');
    assert.notEqual(state, b.searchParams.get('state'));
    assert.ok(!a.toString().includes(CLIENT_SECRET));
  });

  it('completes the authorization on the callback: tokens stored, user and granted scopes shown, never a token', async function () {
    const res = await authorize(env, 'acc1', { scopes: ['daily', 'personal'] });
    assert.match(res.text, /Authorization succeeded/);
    assert.match(res.text, /This window closes by itself; if it does not, close it\./);
    // The page may run exactly its closing script: the CSP names its hash, and nothing else.
    const script = /<script>([^<]*)<\/script>/.exec(res.text)![1];
    const hash = require('crypto').createHash('sha256').update(script).digest('base64');
    assert.equal(res.headers['content-security-policy'], `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'`);
    assert.match(script, /window\.close\(\)/);
    const st = await helper.request().get('/oura/auth/status/acc1');
    assert.equal(st.status, 200);
    assert.equal(st.body.authorized, true);
    assert.deepEqual(st.body.scopes.sort(), ['daily', 'personal']);
    assert.ok(st.body.user && st.body.user.id, 'the Oura user is known');
    assert.ok(st.body.expiresAt > Date.now());
    assertNoSecrets(env.sim, JSON.stringify(st.body), 'the status route');
    const stats = env.sim.stats();
    assert.equal(stats.codeExchanges, 1);
    assert.equal(stats.lastTokenRequestQuery ?? '', '', 'nothing in the token URL query');
    assert.equal(stats.lastTokenRequestBody?.client_id, CLIENT_ID);
    assert.equal(stats.lastTokenRequestBody?.client_secret, '***', 'the secret travels in the form body');
    assert.equal(stats.lastTokenRequestBody?.redirect_uri, REDIRECT);
  });

  it('uses the Oura data right after authorizing', async function () {
    await authorize(env);
    const msg = await ask({ start_date: addDaysIso(-3), end_date: addDaysIso(0) });
    assert.ok(Array.isArray(msg.payload) && msg.payload.length >= 4);
  });

  it('refuses a callback with a missing, unknown or reused state and changes no token', async function () {
    const url = await startAuth();
    const location = await env.sim.consent(url, { accept: true });
    const noState = new URL(location);
    noState.searchParams.delete('state');
    const r1 = await callback(noState.toString());
    assert.equal(r1.status, 400);
    const unknown = new URL(location);
    unknown.searchParams.set('state', 'made-up');
    assert.equal((await callback(unknown.toString())).status, 400);
    assert.equal(tokens.current('acc1'), undefined);
    assert.equal(env.sim.stats().codeExchanges, 0);
    assert.equal((await callback(location)).status, 200);
    const before = tokens.current('acc1');
    const again = await callback(location);
    assert.equal(again.status, 400);
    assert.match(again.text, /already used|expired or unknown/);
    assert.deepEqual(tokens.current('acc1'), before);
    assert.equal(env.sim.stats().codeExchanges, 1);
  });

  it('refuses an expired state (older than 10 minutes)', async function () {
    const realNow = timing.now;
    const url = await startAuth();
    const location = await env.sim.consent(url, { accept: true });
    timing.now = () => realNow() + STATE_TTL_MS + 1000;
    const res = await callback(location);
    timing.now = realNow;
    assert.equal(res.status, 400);
    assert.equal(tokens.current('acc1'), undefined);
    assert.equal(env.sim.stats().codeExchanges, 0);
  });

  it('shows Oura\'s denial with everything reflected escaped, and changes nothing', async function () {
    const url = new URL(await startAuth());
    const state = url.searchParams.get('state')!;
    const res = await helper.request().get('/oura/auth/callback').query({
      error: 'access_denied', error_description: '<script>alert(1)</script>', state,
    });
    assert.equal(res.status, 400);
    assert.match(res.text, /not granted/);
    assert.ok(!res.text.includes('<script>alert'), 'reflected text is escaped');
    assert.match(res.text, /&lt;script&gt;/);
    assert.equal(tokens.current('acc1'), undefined);
    // The denial used up the state: it cannot be replayed with a code.
    const replay = await helper.request().get('/oura/auth/callback').query({ code: 'x', state });
    assert.equal(replay.status, 400);
  });

  it('denied at Oura\'s consent page: the callback says so', async function () {
    const location = await env.sim.consent(await startAuth(), { accept: false });
    const res = await callback(location);
    assert.equal(res.status, 400);
    assert.match(res.text, /not granted/);
    assert.equal(tokens.current('acc1'), undefined);
  });

  it('sends the exact redirect URI bound at start in the code exchange (a different one is refused by Oura)', async function () {
    env.sim.addClient({ clientId: 'other', clientSecret: 'other-secret-xyz', redirectUris: ['http://nr.local:1880/oura/auth/callback'] });
    const url = await startAuth('acc1', { clientId: 'other', clientSecret: 'other-secret-xyz', redirectUri: 'http://nr.local:1880/oura/auth/callback' });
    const res = await callback(await env.sim.consent(url, { accept: true }));
    assert.equal(res.status, 200, res.text);
    assert.equal(env.sim.stats().lastTokenRequestBody?.redirect_uri, 'http://nr.local:1880/oura/auth/callback');
  });

  it('validates the dialog input before any request, naming the field', async function () {
    const r = (body: Record<string, unknown>) => helper.request().post('/oura/auth/start').send({ id: 'acc1', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT, ...body });
    assert.match((await r({ clientId: '' })).body.error, /Client ID/);
    assert.match((await r({ clientSecret: '' })).body.error, /Client Secret/);
    assert.match((await r({ redirectUri: 'localhost:1880/cb' })).body.error, /Redirect URI/);
    assert.match((await r({ redirectUri: 'http://x/cb#frag' })).body.error, /Redirect URI/);
    assert.match((await r({ tokenUrl: 'not a url' })).body.error, /Token URL/);
    assert.equal((await r({ clientId: '' })).status, 400);
  });

  it('uses the stored secret when the dialog shows Node-RED\'s placeholder', async function () {
    const res = await helper.request().post('/oura/auth/start').send({ id: 'acc1', clientId: CLIENT_ID, useStoredSecret: true, redirectUri: REDIRECT });
    assert.equal(res.status, 200);
    const cb = await callback(await env.sim.consent(res.body.authorizeUrl, { accept: true }));
    assert.equal(cb.status, 200, cb.text);
    const none = await helper.request().post('/oura/auth/start').send({ id: 'nope', clientId: CLIENT_ID, useStoredSecret: true, redirectUri: REDIRECT });
    assert.equal(none.status, 400);
    assert.match(none.body.error, /No Client Secret is stored/);
  });

  it('finishes an authorization from a pasted address (Home Assistant ingress, remote Node-RED)', async function () {
    const location = await env.sim.consent(await startAuth(), { accept: true, scopes: ['daily'] });
    const res = await helper.request().post('/oura/auth/complete').send({ id: 'acc1', url: location });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status.authorized, true);
    assert.deepEqual(res.body.status.scopes, ['daily']);
    const bad = await helper.request().post('/oura/auth/complete').send({ id: 'acc1', url: 'just text' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /whole address/);
  });

  it('an authorization for another account cannot be finished in this one', async function () {
    const location = await env.sim.consent(await startAuth('acc2'), { accept: true });
    const res = await helper.request().post('/oura/auth/complete').send({ id: 'acc1', url: location });
    assert.equal(res.status, 400);
    assert.equal(tokens.current('acc1'), undefined);
    assert.equal((await callback(location)).status, 200, 'the real authorization still completes');
  });

  it('Disconnect forgets the tokens everywhere and revokes them at Oura, also across a restart', async function () {
    await authorize(env);
    // What flows_cred.json still holds: Node-RED writes credentials only at the next deploy.
    const onDisk = { acc1: creds({ tokens: JSON.stringify(tokens.current('acc1')) }) };
    const res = await helper.request().post('/oura/auth/disconnect/acc1').send({});
    assert.equal(res.status, 200);
    assert.equal(res.body.authorized, false);
    assert.ok(env.sim.stats().revocations >= 1);
    const err = await askError({ start_date: addDaysIso(0) });
    assert.match(err.message, /not authorized yet.*Authorize/);
    const copy = fs.readFileSync(path.join(env.userDir, '.oura-tokens', 'acct-acc1.json'), 'utf8');
    assertNoSecrets(env.sim, copy, 'the tombstone');
    await helper.unload();
    tokens.resetMemory();
    await load(sleepFlow(), onDisk);
    assert.match((await askError({ start_date: addDaysIso(0) })).message, /not authorized yet/);
    assert.equal((await helper.request().get('/oura/auth/status/acc1')).body.authorized, false);
  });

  it('a refresh that finishes after Disconnect does not bring the tokens back', async function () {
    await authorize(env);
    env.sim.expireAccessTokens();
    env.sim.setFaults([{ kind: 'slow', target: 'token', delayMs: 300, count: 1 }]);
    const pendingAsk = askError({ start_date: addDaysIso(0) });
    while (env.sim.stats().tokenRequests === 0) await new Promise((r) => setImmediate(r));
    await helper.request().post('/oura/auth/disconnect/acc1').send({});
    assert.match((await pendingAsk).message, /Authorize/);
    assert.equal(tokens.current('acc1'), undefined);
    assert.equal((await helper.request().get('/oura/auth/status/acc1')).body.authorized, false);
  });

  it('a form post or a cross-site request cannot disconnect the account (CSRF with adminAuth off)', async function () {
    await authorize(env);
    const form = await helper.request().post('/oura/auth/disconnect/acc1').type('form').send('x=1');
    assert.equal(form.status, 415);
    const crossSite = await helper.request().post('/oura/auth/disconnect/acc1').set('Sec-Fetch-Site', 'cross-site').send({});
    assert.equal(crossSite.status, 403);
    const foreign = await helper.request().post('/oura/auth/start').set('Origin', 'http://evil.example').send({ id: 'acc1', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT });
    assert.equal(foreign.status, 403);
    assert.equal((await helper.request().get('/oura/auth/status/acc1')).body.authorized, true, 'still authorized');
    assert.equal(env.sim.stats().revocations, 0);
    const own = await helper.request().post('/oura/auth/disconnect/acc1').set('Sec-Fetch-Site', 'same-origin').send({});
    assert.equal(own.status, 200, 'the editor itself still can');
  });

  it('labels an authorization only with the Oura user looked up for it, not one that replaced it meanwhile', async function () {
    // A: asks for the e-mail address; its personal_info answer comes late. B: no e-mail scope, finishes first.
    const a = await env.sim.consent(await startAuth('acc1', { scopes: 'email daily' }));
    const b = await env.sim.consent(await startAuth('acc1', { scopes: 'daily' }));
    env.sim.setFaults([{ kind: 'slow', target: 'data', delayMs: 400, count: 1 }]);
    const first = callback(a);
    while (env.sim.stats().dataRequests === 0) await new Promise((r) => setImmediate(r));
    assert.equal((await callback(b)).status, 200);
    assert.equal((await first).status, 200);
    const st = (await helper.request().get('/oura/auth/status/acc1')).body;
    assert.deepEqual(st.scopes, ['daily'], 'B is the current authorization');
    assert.ok(st.user?.id, 'B knows its user');
    assert.equal(st.user.email, undefined, 'A\'s late answer did not label B');
  });

  it('strips the extapi: prefix from granted scopes', async function () {
    await authorize(env, 'acc1', { scopes: ['daily', 'heartrate'] });
    assert.equal(env.sim.stats().tokenLog.length, 1);
    const st = await helper.request().get('/oura/auth/status/acc1');
    assert.deepEqual(st.body.scopes.sort(), ['daily', 'heartrate']);
  });
});

describe('oura-account: admin routes are Node-RED permission checked', function () {
  it('registers every route but the callback behind RED.auth.needsPermission', function () {
    const registered: Array<{ method: string; path: string; guarded: boolean }> = [];
    const guard = () => undefined;
    const fakeRED = {
      settings: {}, log: { warn() {}, info() {}, debug() {}, error() {} }, _: (k: string) => k,
      events: { on() {} },
      auth: { needsPermission: () => guard },
      nodes: { registerType() {}, getNode() {}, getCredentials() {}, addCredentials() {}, eachNode() {}, createNode() {} },
      httpAdmin: {
        get: (p: string, ...h: unknown[]) => registered.push({ method: 'GET', path: p, guarded: h[0] === guard }),
        post: (p: string, ...h: unknown[]) => registered.push({ method: 'POST', path: p, guarded: h[0] === guard }),
      },
    };
    require('../../src/oura-account')(fakeRED);
    assert.ok(registered.length >= 5);
    for (const r of registered) {
      assert.equal(r.guarded, r.path !== '/oura/auth/callback', `${r.method} ${r.path}`);
    }
  });
});

/** A day relative to the simulator's TODAY, not to the machine's date (test/clock.ts). */
function addDaysIso(n: number): string {
  return day(n);
}

export { addDaysIso, creds };
