/**
 * Connecting to Oura as it is today (issue 10), against the simulator with only its two hosts configured: discovery,
 * PKCE, `iss`, token roles, apps of both portals, the credentials check and revocation.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import {
  ask, askError, authorize, callback, CLIENT_ID, CLIENT_SECRET, creds, Env, helper, LEGACY_APP, load, setUp, sleepFlow, startAuth, tearDown,
} from '../support';
import * as tokens from '../../src/lib/store/tokens';

const DAY = '2026-06-29';
const SIM_DATES = { today: '2026-06-30', now: () => Date.parse('2026-07-01T09:00:00Z') };
const legacyCreds = { clientId: LEGACY_APP.clientId, clientSecret: LEGACY_APP.clientSecret };

const log = (env: Env) => env.sim.stats().tokenLog.map((e) => `${e.server} ${e.grant} ${e.status}`);

/** What the previous version saved: the URL that answered instead of a role. */
function savedByPreviousVersion(rec: tokens.TokenRecord, tokenUrl: string): string {
  const { tokenRole: _drop, ...rest } = rec;
  return JSON.stringify({ ...rest, tokenUrl });
}

/** Restarts Node-RED with `tokensJson` in flows_cred.json and no durable copy, as after an upgrade. */
async function restartWith(env: Env, credentials: Record<string, unknown>): Promise<void> {
  await helper.unload();
  tokens.resetMemory();
  fs.rmSync(path.join(env.userDir, '.oura-tokens'), { recursive: true, force: true });
  await load(sleepFlow(), { acc1: credentials });
}

describe('connecting to Oura as it is today', function () {
  let env: Env;
  afterEach(async function () {
    await tearDown(env);
  });

  it('an app of the developer portal: discovered consent page, PKCE S256, iss checked, the code to the current server only', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow());
    const url = new URL(await startAuth());
    assert.equal(`${url.origin}${url.pathname}`, env.sim.authorizeUrl, 'the discovery document\'s authorization endpoint');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.match(url.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(url.searchParams.has('scope'), false, 'no selection: no scope parameter');
    const location = await env.sim.consent(url.toString());
    assert.equal(new URL(location).searchParams.get('iss'), env.sim.issuer);
    assert.equal((await callback(location)).status, 200);
    const verifier = env.sim.stats().lastTokenRequestBody?.code_verifier ?? '';
    assert.match(verifier, /^[A-Za-z0-9_-]{43}$/, 'the verifier went with the code');
    assert.ok(!url.toString().includes(verifier), 'and never through the browser');
    assert.deepEqual(log(env), ['current authorization_code 200']);
    assert.equal(tokens.current('acc1')?.tokenRole, 'current');
    assert.ok((await ask({ start_date: DAY })).payload.length >= 1);
    env.sim.expireAccessTokens();
    assert.ok((await ask({ start_date: DAY })).payload.length >= 1);
    assert.deepEqual(log(env), ['current authorization_code 200', 'current refresh_token 200']);
    assert.equal(env.sim.stats().refreshReuse, 0);
    assert.equal(env.sim.stats().byPath['/oauth/token'], undefined, 'nothing went to the legacy URL');
  });

  it('an app of the old portal connects and refreshes with no setting changed (legacy token URL, remembered as a role)', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow(), { acc1: legacyCreds });
    await authorize(env, 'acc1', { body: legacyCreds });
    assert.deepEqual(log(env), ['current authorization_code 401', 'legacy authorization_code 200']);
    const rec = tokens.current('acc1')!;
    assert.equal(rec.tokenRole, 'legacy');
    assert.ok(!('tokenUrl' in rec), 'a role, never a URL');
    assert.ok((await ask({ start_date: DAY })).payload.length >= 1);
    env.sim.expireAccessTokens();
    assert.ok((await ask({ start_date: DAY })).payload.length >= 1);
    assert.deepEqual(log(env).slice(2), ['legacy refresh_token 200'], 'the refresh goes straight to the server that issued the tokens');
    assert.equal(env.sim.stats().refreshReuse, 0);
  });

  it('never sends a code to the legacy URL first, even where that would use it up (one report)', async function () {
    env = await setUp({ ...SIM_DATES, legacyBurnsCode: true });
    await load(sleepFlow());
    await authorize(env);
    assert.deepEqual(log(env), ['current authorization_code 200']);
    assert.ok((await ask({ start_date: DAY })).payload.length >= 1);
  });

  it('a refresh refused as "wrong server" tries the other server once and remembers it', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow());
    await authorize(env);
    // A new-portal authorization saved by the previous version after it had (wrongly) kept the legacy URL.
    await restartWith(env, creds({ tokens: savedByPreviousVersion(tokens.current('acc1')!, env.sim.legacyTokenUrl) }));
    assert.equal(tokens.current('acc1')?.tokenRole, 'legacy');
    env.sim.resetStats();
    env.sim.expireAccessTokens();
    assert.ok((await ask({ start_date: DAY })).payload.length >= 1);
    assert.deepEqual(log(env), ['legacy refresh_token 400', 'current refresh_token 200']);
    assert.equal(tokens.current('acc1')?.tokenRole, 'current');
    env.sim.expireAccessTokens();
    assert.ok((await ask({ start_date: DAY })).payload.length >= 1);
    assert.deepEqual(log(env).slice(2), ['current refresh_token 200']);
    assert.equal(env.sim.stats().refreshReuse, 0);
  });

  it('authorizations saved by the previous version: Oura\'s legacy URL becomes the legacy role; any other URL is ignored', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow(), { acc1: legacyCreds });
    await authorize(env, 'acc1', { body: legacyCreds });
    await restartWith(env, { ...legacyCreds, tokens: savedByPreviousVersion(tokens.current('acc1')!, env.sim.legacyTokenUrl) });
    env.sim.resetStats();
    env.sim.expireAccessTokens();
    assert.ok((await ask({ start_date: DAY })).payload.length >= 1);
    assert.deepEqual(log(env), ['legacy refresh_token 200']);

    // A URL that is not Oura's is never used: the refresh goes to the current server, then the legacy one.
    await restartWith(env, { ...legacyCreds, tokens: savedByPreviousVersion(tokens.current('acc1')!, 'http://127.0.0.1:9/stolen') });
    assert.equal(tokens.current('acc1')?.tokenRole, undefined);
    env.sim.resetStats();
    env.sim.expireAccessTokens();
    assert.ok((await ask({ start_date: DAY })).payload.length >= 1);
    assert.deepEqual(log(env), ['current refresh_token 401', 'legacy refresh_token 200']);
    assert.equal(tokens.current('acc1')?.tokenRole, 'legacy');
  });

  it('refuses a redirect that names another issuer (RFC 9207), exchanging nothing', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow());
    const location = new URL(await env.sim.consent(await startAuth()));
    location.searchParams.set('iss', 'https://evil.example/oauth');
    const res = await callback(location.toString());
    assert.equal(res.status, 400);
    assert.match(res.text, /issuer/);
    assert.equal(tokens.current('acc1'), undefined);
    assert.equal(env.sim.stats().tokenRequests, 0);
  });

  it('asks for scopes by the extapi: names the server lists, leaves out and reports the others; works where bare names are ignored', async function () {
    env = await setUp({ ...SIM_DATES, bareScopes: 'ignore' });
    await load(sleepFlow());
    const res = await helper.request().post('/oura/auth/start').send({
      id: 'acc1', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: 'http://localhost:1880/oura/auth/callback', scopes: 'daily ring_configuration spo2Daily',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.scopesLeftOut, ['ring_configuration']);
    const url = new URL(res.body.authorizeUrl);
    assert.equal(url.searchParams.get('scope'), 'extapi:daily extapi:spo2');
    assert.equal((await callback(await env.sim.consent(url.toString()))).status, 200);
    const st = await helper.request().get('/oura/auth/status/acc1');
    assert.deepEqual(st.body.scopes, ['daily', 'spo2'], 'granted scopes are shown without the prefix');
    assert.ok((await ask({ start_date: DAY })).payload.length >= 1);
  });

  it('uses the known paths when the discovery document cannot be read', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow());
    env.sim.setFaults([{ kind: 'drop', target: 'discovery', count: 1 }]);
    await authorize(env);
    assert.equal(env.sim.stats().byPath['/oauth/v2/ext/oauth-anonymous/.well-known/openid-configuration'], 1);
    assert.deepEqual(log(env), ['current authorization_code 200']);
    assert.ok((await ask({ start_date: DAY })).payload.length >= 1);
  });
});

describe('Check credentials (before any consent)', function () {
  let env: Env;
  beforeEach(async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow());
  });
  afterEach(async function () {
    await tearDown(env);
  });
  const check = (body: Record<string, unknown>) => helper.request().post('/oura/auth/check').send({ id: 'acc1', tokenUrl: '', ...body });

  it('says which server knows the app: the current one, the legacy one (old portal), or neither', async function () {
    const current = await check({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    assert.equal(current.status, 200);
    assert.equal(current.body.outcome, 'accepted-current');
    assert.equal(current.body.text, 'Accepted by Oura\'s current server.');
    const legacy = await check(legacyCreds);
    assert.equal(legacy.body.outcome, 'accepted-legacy');
    assert.match(legacy.body.text, /^Accepted by the legacy server: an app of the old portal/);
    const wrong = await check({ clientId: CLIENT_ID, clientSecret: 'not-the-secret' });
    assert.equal(wrong.body.outcome, 'refused');
    assert.match(wrong.body.text, /^Refused by both.*check the Client ID and Secret/);
    assert.deepEqual(log(env), [
      'current refresh_token 400', 'current refresh_token 401', 'legacy refresh_token 400', 'current refresh_token 401', 'legacy refresh_token 401',
    ]);
    assert.equal(env.sim.stats().refreshReuse, 0);
    assert.equal(tokens.current('acc1'), undefined, 'nothing was authorized');
  });

  it('"could not tell", with Oura\'s answer quoted, when a server answers anything else', async function () {
    env.sim.setFaults([{ kind: '503', target: 'token', count: 2 }]);
    const r = await check({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    assert.equal(r.body.outcome, 'unknown');
    assert.match(r.body.text, /^Could not tell: the current server said "Oura's token endpoint \(127\.0\.0\.1:\d+\) answered 503: Service Unavailable"/);
  });

  it('uses the stored secret only with the deployed Token URL, and refuses any other before sending anything', async function () {
    const stored = await check({ clientId: CLIENT_ID, useStoredSecret: true });
    assert.equal(stored.body.outcome, 'accepted-current');
    env.sim.resetStats();
    const elsewhere = await check({ clientId: CLIENT_ID, useStoredSecret: true, tokenUrl: 'http://127.0.0.1:9/token' });
    assert.equal(elsewhere.status, 400);
    assert.match(elsewhere.body.error, /Token URL differs from the deployed one: deploy the new Token URL first/);
    const notDeployed = await check({ id: 'acc-new', clientId: CLIENT_ID, useStoredSecret: true });
    assert.equal(notDeployed.status, 400);
    assert.match(notDeployed.body.error, /No Client Secret is stored/);
    assert.equal(env.sim.stats().tokenRequests, 0);
  });
});

describe('Disconnect revokes at the server that issued the tokens', function () {
  let env: Env;
  afterEach(async function () {
    await tearDown(env);
  });

  it('RFC 7009 at the current server: refresh token first, then the access token, with the client in the body', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow());
    await authorize(env);
    const rec = tokens.current('acc1')!;
    const res = await helper.request().post('/oura/auth/disconnect/acc1').send({});
    assert.equal(res.body.revocation, 'revoked');
    assert.match(res.body.message, /revoked at Oura/);
    assert.deepEqual(env.sim.stats().revocationLog.map((e) => `${e.server} ${e.form} ${e.hint} ${e.status}`), [
      'current rfc7009 refresh_token 200', 'current rfc7009 access_token 200',
    ]);
    const reuse = await fetch(env.sim.tokenUrl, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rec.refreshToken, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }).toString(),
    });
    assert.equal(reuse.status, 400, 'the refresh token is dead at Oura');
  });

  it('the legacy form for an authorization the legacy URL issued', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow(), { acc1: legacyCreds });
    await authorize(env, 'acc1', { body: legacyCreds });
    const res = await helper.request().post('/oura/auth/disconnect/acc1').send({});
    assert.equal(res.body.revocation, 'revoked');
    assert.deepEqual(env.sim.stats().revocationLog.map((e) => `${e.server} ${e.form}`), ['legacy legacy', 'legacy legacy']);
  });

  it('an authorization never deployed is forgotten here; revocation is skipped and the dialog says so', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow());
    await authorize(env, 'acc-new');
    const res = await helper.request().post('/oura/auth/disconnect/acc-new').send({});
    assert.equal(res.body.authorized, false);
    assert.equal(res.body.revocation, 'skipped');
    assert.match(res.body.message, /Revocation at Oura was skipped/);
    assert.deepEqual(env.sim.stats().revocationLog, []);
  });
});

describe('the deployed Client Secret stays with the deployed client and Token URL', function () {
  let env: Env;
  afterEach(async function () {
    await tearDown(env);
  });

  it('start refuses, for a deployed account, a Token URL other than its deployed one', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow());
    for (const body of [{ clientSecret: CLIENT_SECRET }, { useStoredSecret: true }]) {
      const res = await helper.request().post('/oura/auth/start').send({
        id: 'acc1', clientId: CLIENT_ID, redirectUri: 'http://localhost:1880/oura/auth/callback', scopes: '', tokenUrl: 'http://127.0.0.1:9/token', ...body,
      });
      assert.equal(res.status, 400);
      assert.match(res.body.error, /deploy the new Token URL first/);
    }
  });

  it('does not repeat the words of a token URL that is not Oura\'s (typed for an account not deployed yet)', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow());
    const evil = http.createServer((_req, res) => {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Your Node-RED is infected: call the hotline now' }));
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    try {
      const tokenUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/token`;
      const location = await env.sim.consent(await startAuth('acc-new', { tokenUrl }));
      const page = await callback(location);
      assert.equal(page.status, 502);
      assert.match(page.text, /answered 400/);
      // (Not a number: the page names the endpoint's random port.)
      assert.doesNotMatch(page.text, /infected|hotline/);
      const check = await helper.request().post('/oura/auth/check').send({ id: 'acc-new', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl });
      assert.doesNotMatch(JSON.stringify(check.body), /infected|hotline/);
    } finally {
      await new Promise<void>((r) => evil.close(() => r()));
    }
  });

  it('an authorization of another Client ID is never refreshed with the deployed secret', async function () {
    env = await setUp(SIM_DATES);
    await load(sleepFlow());
    // Authorized in the dialog with the old-portal app's ID before that change was deployed.
    await authorize(env, 'acc1', { body: legacyCreds });
    env.sim.resetStats();
    env.sim.expireAccessTokens();
    const err = await askError({ start_date: DAY });
    assert.match(err.message, /another Client ID.*Authorize again/);
    assert.equal(env.sim.stats().tokenRequests, 0);
  });
});
