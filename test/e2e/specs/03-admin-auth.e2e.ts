// With adminAuth on: the package's admin routes need the editor's token (all but the callback, which is guarded by
// `state`), and a user who logs in through the editor's login form can still authorize.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Editor } from '../harness/editor';
import { stopAfterFirstFailure } from '../harness/steps';
import { repoRoot, variant } from '../harness/env';
import { request } from '../harness/http';
import { NodeRed } from '../harness/nodered';
import { assertNoLeaks, authStatus, authorizeInEditor, fetchSleep, setUp, Setup } from '../harness/scenario';

const ADMIN = { username: 'admin', password: 'e2e-Admin-Passw0rd' };

type Route = { method: string; url: string; body?: object };

/** The package's routes that need the editor's permission, as docs/INTERNALS.md lists them, for an account id. */
function documentedRoutes(nr: NodeRed, id: string): Route[] {
  return [
    { method: 'POST', url: nr.adminUrl('oura/auth/start'), body: { id, clientId: 'x', clientSecret: 'y', redirectUri: nr.adminUrl('oura/auth/callback'), scopes: '', tokenUrl: '' } },
    { method: 'POST', url: nr.adminUrl('oura/auth/complete'), body: { id, url: `${nr.adminUrl('oura/auth/callback')}?code=x&state=y` } },
    { method: 'GET', url: nr.adminUrl(`oura/auth/status/${id}`) },
    { method: 'POST', url: nr.adminUrl(`oura/auth/disconnect/${id}`), body: {} },
  ];
}

/** Every RED.httpAdmin route the installed package registers (read from its files), but the callback. */
function registeredRoutes(nr: NodeRed, id: string): Route[] {
  const pkgName = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).name;
  const installed = path.join(nr.userDir, 'node_modules', pkgName);
  const routes: Route[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules') walk(full);
      else if (entry.name.endsWith('.js')) {
        const source = fs.readFileSync(full, 'utf8');
        for (const m of source.matchAll(/\bhttpAdmin\.(get|post|put|patch|delete)\(\s*['"`]([^'"`]+)['"`]/g)) {
          if (/callback/.test(m[2])) continue;
          const method = m[1].toUpperCase();
          routes.push({ method, url: nr.adminUrl(m[2].replace(/:[A-Za-z]+/g, id)), body: method === 'GET' ? undefined : {} });
        }
      }
    }
  };
  walk(installed);
  return routes;
}

describe(`${variant().name}: adminAuth`, function () {
  stopAfterFirstFailure();
  let s: Setup;
  let editor: Editor | undefined;
  let accountId: string;

  before(async function () {
    s = await setUp('admin-auth', { adminUser: ADMIN });
    await s.nr.start();
  });

  after(async function () {
    await editor?.close();
    await s?.nr.stop();
  });

  it('refuses every admin route of the package but the callback without the editor token (401)', async function () {
    const id = 'e2e0000000000abc';
    const found = registeredRoutes(s.nr, id);
    assert.ok(found.length >= 4, `found only ${found.length} admin routes in the installed package`);
    const problems: string[] = [];
    for (const route of [...documentedRoutes(s.nr, id), ...found]) {
      for (const authorization of [undefined, 'Bearer not-a-valid-token']) {
        const reply = await request(route.url, { method: route.method, body: route.body, headers: authorization ? { authorization } : {} });
        if (reply.status !== 401) problems.push(`${route.method} ${route.url} ${authorization ? 'with a bogus token' : 'without a token'}: expected 401, got ${reply.status} ${reply.text.slice(0, 200)}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('a logged-in user authorizes in the editor (login form, consent window) and deploys', async function () {
    editor = await Editor.open(s.nr);
    accountId = await authorizeInEditor(editor, s.client);
    await fetchSleep(s.nr);
  });

  it('the editor token opens the status route, which shows no token', async function () {
    const status = await authStatus(s.nr, accountId);
    assert.equal(status.authorized, true, JSON.stringify(status));
    assert.doesNotMatch(JSON.stringify(status), /token/i, `the status must not carry tokens: ${JSON.stringify(status)}`);
  });

  it('a callback without a valid state answers 4xx and changes nothing', async function () {
    const before = await authStatus(s.nr, accountId);
    const statsBefore = await s.sim.stats();
    const callback = s.nr.adminUrl('oura/auth/callback');
    const problems: string[] = [];
    for (const query of ['', '?code=e2e-forged-code', '?code=e2e-forged-code&state=e2e-forged-state', '?state=&code=e2e-forged-code', '?error=access_denied&state=e2e-forged-state']) {
      const reply = await request(callback + query);
      if (reply.status < 400 || reply.status > 499) problems.push(`GET ${callback}${query}: expected 4xx, got ${reply.status} ${reply.text.slice(0, 200)}`);
    }
    assert.deepEqual(problems, []);
    const after = await authStatus(s.nr, accountId);
    assert.deepEqual(after, before, 'the account status changed after forged callbacks');
    const statsAfter = await s.sim.stats();
    assert.equal(statsAfter.tokenRequests, statsBefore.tokenRequests, 'a forged callback reached the token endpoint');
    await fetchSleep(s.nr);
  });

  it('keeps the client secret and every token out of the API, the export, the log and the user directory', async function () {
    await assertNoLeaks(s.nr, editor!, accountId, s.client);
  });
});
