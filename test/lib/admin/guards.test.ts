import { strict as assert } from 'assert';
import { crossSiteReason, mayWrite, sameSiteJson } from '../../../src/lib/admin/http';
import type { Req, Res } from '../../../src/lib/red';
import * as tokens from '../../../src/lib/store/tokens';

function run(headers: Record<string, string>): { status?: number; body?: any; next: boolean } {
  const out: { status?: number; body?: any; next: boolean } = { next: false };
  const res = {
    status(c: number) {
      out.status = c;
      return res;
    },
    json(b: unknown) {
      out.body = b;
      return res;
    },
  } as unknown as Res;
  sameSiteJson({ headers } as unknown as Req, res, () => {
    out.next = true;
  });
  return out;
}

describe('admin routes: refusing requests another web site could make', () => {
  it('refuses only on a positive cross-site signal: Sec-Fetch-Site cross-site / same-site, or a foreign Origin', () => {
    const host = 'nodered.lan:1880';
    assert.equal(crossSiteReason({}), undefined, 'no header at all (plain http on a LAN address): allowed');
    assert.equal(crossSiteReason({ host }), undefined);
    assert.equal(crossSiteReason({ 'sec-fetch-site': 'same-origin', host }), undefined);
    assert.equal(crossSiteReason({ 'sec-fetch-site': 'none', host }), undefined, 'typed into the address bar');
    assert.match(crossSiteReason({ 'sec-fetch-site': 'cross-site', host })!, /another site/);
    assert.match(crossSiteReason({ 'sec-fetch-site': 'same-site', host })!, /another site/, 'another port on the same host is same-site');
    assert.equal(crossSiteReason({ origin: 'http://nodered.lan:1880', host }), undefined, 'Origin only, matching Host');
    assert.match(crossSiteReason({ origin: 'http://evil.example', host })!, /evil\.example/);
    assert.match(crossSiteReason({ origin: 'http://nodered.lan:1881', host })!, /nodered\.lan:1881/, 'another port');
    assert.match(crossSiteReason({ origin: 'null', host })!, /opaque/);
    // Behind a reverse proxy that rewrites Host, the browser's Origin matches the forwarded host.
    assert.equal(crossSiteReason({ origin: 'https://home.example.org', host: '127.0.0.1:1880', 'x-forwarded-host': 'home.example.org' }), undefined);
    assert.equal(crossSiteReason({ origin: 'https://home.example.org', host: '127.0.0.1:1880', 'x-forwarded-host': 'a.example, home.example.org' }), undefined);
    assert.ok(crossSiteReason({ origin: 'https://evil.example', host: '127.0.0.1:1880', 'x-forwarded-host': 'home.example.org' }));
  });

  it('takes only JSON bodies, which a plain HTML form cannot send', () => {
    assert.equal(run({ 'content-type': 'application/x-www-form-urlencoded' }).status, 415);
    assert.equal(run({ 'content-type': 'multipart/form-data; boundary=x' }).status, 415);
    assert.equal(run({ 'content-type': 'text/plain' }).status, 415);
    assert.equal(run({}).status, 415, 'no body type at all');
    assert.deepEqual(run({ 'content-type': 'application/json; charset=utf-8' }), { next: true });
    const crossSiteJson = run({ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSiteJson.status, 403);
    assert.match(crossSiteJson.body.error, /^Refused: the request came from another site/);
  });

  it('decides write permission from req.user.permissions as Node-RED does; with adminAuth off everybody may write', () => {
    const req = (permissions?: unknown) => (permissions === undefined ? {} : { user: { permissions } }) as unknown as Req;
    assert.equal(mayWrite(req()), true);
    for (const p of ['*', 'write', '*.write', 'oura-account.write', ['flows.read', 'oura-account.write']]) assert.equal(mayWrite(req(p)), true, JSON.stringify(p));
    for (const p of ['read', '*.read', 'oura-account.read', ['flows.write'], [], 'flows.write']) assert.equal(mayWrite(req(p)), false, JSON.stringify(p));
  });
});

describe('the status route and read-only editor users', () => {
  afterEach(() => tokens.resetMemory());

  it('shows whether the account is authorized and its scopes, but the e-mail address only to users who may write', async () => {
    const routes: Record<string, (req: unknown, res: unknown) => void> = {};
    const fakeRED = {
      settings: {}, log: { warn() {}, info() {}, debug() {}, error() {} }, _: (k: string) => k,
      events: { on() {} },
      auth: { needsPermission: () => (_q: unknown, _s: unknown, next: () => void) => next() },
      nodes: { registerType() {}, getNode: () => null, getCredentials() {}, addCredentials() {}, eachNode() {}, createNode() {} },
      httpAdmin: {
        get: (p: string, ...h: Array<(req: unknown, res: unknown) => void>) => (routes[`GET ${p}`] = h[h.length - 1]),
        post: (p: string, ...h: Array<(req: unknown, res: unknown) => void>) => (routes[`POST ${p}`] = h[h.length - 1]),
        delete() {},
      },
    };
    require('../../../src/oura-account')(fakeRED);
    tokens.saveAuthorization('acc1', { accessToken: 'a', refreshToken: 'r', expiresAt: 1, scopes: ['daily'], role: 'current' }, 'c', true);
    tokens.setUser('acc1', { id: 'u-1', email: 'sleeper@example.com' }, tokens.current('acc1')!.authorizedAt);
    const ask = (user?: unknown) => new Promise<any>((resolve) => {
      const res = { set() {}, status: () => res, json: (b: unknown) => resolve(b) };
      routes['GET /oura/auth/status/:id']({ params: { id: 'acc1' }, user, headers: {} }, res);
    });
    const reader = await ask({ permissions: 'read' });
    assert.deepEqual([reader.authorized, reader.scopes, reader.user], [true, ['daily'], { id: 'u-1' }]);
    assert.equal((await ask({ permissions: '*' })).user.email, 'sleeper@example.com');
    assert.equal((await ask()).user.email, 'sleeper@example.com', 'adminAuth off');
  });
});
