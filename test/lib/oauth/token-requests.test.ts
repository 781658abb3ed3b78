import { strict as assert } from 'assert';
import { HttpRequest, HttpResponse, setTransport, errorDetail } from '../../../src/lib/http';
import { resetDiscovery } from '../../../src/lib/oauth/discovery';
import { OURA_DEFAULTS } from '../../../src/lib/oauth/endpoints';
import { requestToken, normalizeScopes, refusalKind, Grant } from '../../../src/lib/oauth/token-requests';
import { scopesToRequest } from '../../../src/lib/oauth/scopes';
import { NetworkError, TokenError } from '../../../src/lib/errors';
import { timing } from '../../../src/lib/retry';
import { fromStored, TokenRecord } from '../../../src/lib/store/tokens';

const client = { clientId: 'id', clientSecret: 'secret-value' };
const CURRENT = `${OURA_DEFAULTS.moiUrl}/oauth/v2/ext/oauth-token`;
const LEGACY = `${OURA_DEFAULTS.apiUrl}/oauth/token`;
const code: Grant = { grant_type: 'authorization_code', code: 'c', redirect_uri: 'http://localhost:1880/oura/auth/callback', code_verifier: 'v'.repeat(43) };
const refresh: Grant = { grant_type: 'refresh_token', refresh_token: 'r' };

const ok = (url: string): HttpResponse => ({
  status: 200, headers: {}, body: JSON.stringify({ token_type: 'bearer', access_token: `A@${url}`, refresh_token: 'R', expires_in: 3600, scope: 'extapi:daily extapi:personal' }),
});
const answer = (status: number, body: unknown): HttpResponse => ({ status, headers: {}, body: JSON.stringify(body) });

/** The answers Oura gives, by kind (API-NOTES). */
const REFUSALS = {
  invalidClient: answer(401, { error: 'invalid_client', error_description: 'Client authentication failed.' }),
  legacyInvalidClient: answer(401, { detail: 'Invalid client' }),
  invalidClient400: answer(400, { error: 'invalid_client' }),
  invalidRequest: answer(400, { error: 'invalid_request', error_description: 'Invalid request' }),
  legacyInvalidRequest: answer(400, { detail: 'Invalid request' }),
  invalidGrant: answer(400, { error: 'invalid_grant', error_description: 'Invalid refresh token.' }),
  reused: answer(400, { detail: 'Refresh token already used.' }),
  serverError: answer(503, { detail: 'Service Unavailable' }),
  rateLimited: answer(429, { detail: 'Too Many Requests' }),
};

describe('oauth token requests: the current server first, the legacy one only after a wrong-server answer', () => {
  const saved = { ...timing };
  let sent: HttpRequest[];
  /** Answers per token URL; discovery is not reachable here, so the known paths are used. */
  function serve(byUrl: Record<string, HttpResponse | (() => HttpResponse)>): void {
    setTransport(async (req) => {
      if (req.url.includes('/.well-known/')) throw new NetworkError('unreachable', 'ENOTFOUND');
      sent.push(req);
      const a = byUrl[req.url];
      if (!a) throw new Error(`unexpected request to ${req.url}`);
      return typeof a === 'function' ? a() : a;
    });
  }
  const urls = () => sent.map((r) => r.url);

  beforeEach(() => {
    sent = [];
    for (const k of ['OURA_TOKEN_URL', 'OURA_MOI_URL', 'OURA_API_URL']) delete process.env[k];
    resetDiscovery();
    timing.sleep = async () => undefined;
  });
  afterEach(() => {
    setTransport();
    resetDiscovery();
    Object.assign(timing, saved);
    delete process.env.OURA_TOKEN_URL;
  });

  it('sends a code to the current server only, when it accepts; the secret travels in the body', async () => {
    serve({ [CURRENT]: ok(CURRENT) });
    const t = await requestToken(code, client);
    assert.deepEqual(urls(), [CURRENT]);
    assert.equal(t.role, 'current');
    assert.deepEqual(t.scopes, ['daily', 'personal']);
    assert.equal(sent[0].form?.client_secret, 'secret-value');
    assert.equal(sent[0].form?.code_verifier, code.code_verifier);
    assert.ok(!sent[0].url.includes('secret'));
  });

  for (const [name, refusal] of [['401 invalid_client', REFUSALS.invalidClient], ['400 invalid_client', REFUSALS.invalidClient400], ['400 invalid_request', REFUSALS.invalidRequest]] as const) {
    it(`tries the legacy URL once after the current server's ${name}, and remembers the legacy role`, async () => {
      serve({ [CURRENT]: refusal, [LEGACY]: ok(LEGACY) });
      const t = await requestToken(code, client);
      assert.deepEqual(urls(), [CURRENT, LEGACY]);
      assert.equal(t.role, 'legacy');
    });
  }

  for (const [name, failure] of [
    ['invalid_grant', REFUSALS.invalidGrant], ['an "already used" answer', REFUSALS.reused], ['a 5xx', REFUSALS.serverError], ['a 429', REFUSALS.rateLimited],
  ] as const) {
    it(`never tries the other server after ${name}`, async () => {
      serve({ [CURRENT]: failure, [LEGACY]: ok(LEGACY) });
      await assert.rejects(requestToken(code, client), TokenError);
      assert.deepEqual(urls(), [CURRENT]);
    });
  }

  it('never tries the other server after a timeout or a dropped connection (the grant may have been used)', async () => {
    for (const codeName of ['ETIMEDOUT', 'ECONNRESET']) {
      sent = [];
      setTransport(async (req) => {
        if (req.url.includes('/.well-known/')) throw new NetworkError('unreachable', 'ENOTFOUND');
        sent.push(req);
        throw new NetworkError('lost', codeName);
      });
      await assert.rejects(requestToken(code, client), /could not be reached/);
      assert.deepEqual(urls(), [CURRENT], codeName);
    }
  });

  it('when both refuse, shows the current server\'s answer first', async () => {
    serve({ [CURRENT]: REFUSALS.invalidClient, [LEGACY]: REFUSALS.legacyInvalidClient });
    const err = await requestToken(code, client).then(() => undefined, (e) => e);
    assert.ok(err instanceof TokenError);
    assert.match(err.message, /^Oura's token endpoint \(moi\.ouraring\.com\) answered 401: Client authentication failed; the legacy one \(api\.ouraring\.com\) answered 401: Invalid client$/);
    assert.equal(err.httpStatus, 401);
  });

  it('refreshes at the remembered role first, and switches role once after a wrong-server answer', async () => {
    serve({ [LEGACY]: ok(LEGACY), [CURRENT]: ok(CURRENT) });
    assert.equal((await requestToken(refresh, client, { role: 'legacy' })).role, 'legacy');
    assert.deepEqual(urls(), [LEGACY]);
    sent = [];
    serve({ [LEGACY]: REFUSALS.legacyInvalidRequest, [CURRENT]: ok(CURRENT) });
    assert.equal((await requestToken(refresh, client, { role: 'legacy' })).role, 'current');
    assert.deepEqual(urls(), [LEGACY, CURRENT]);
    sent = [];
    serve({ [CURRENT]: REFUSALS.invalidClient, [LEGACY]: ok(LEGACY) });
    assert.equal((await requestToken(refresh, client, { role: 'current' })).role, 'legacy');
    assert.deepEqual(urls(), [CURRENT, LEGACY]);
  });

  it('a configured URL (the account\'s Token URL, else OURA_TOKEN_URL) is the only one, without fallback', async () => {
    serve({ 'https://own.example/token': REFUSALS.invalidClient, 'https://env.example/token': REFUSALS.invalidRequest });
    await assert.rejects(requestToken(code, client, { configuredUrl: 'https://own.example/token' }), TokenError);
    process.env.OURA_TOKEN_URL = 'https://env.example/token';
    await assert.rejects(requestToken(refresh, client, { role: 'legacy' }), TokenError);
    assert.deepEqual(urls(), ['https://own.example/token', 'https://env.example/token']);
  });

  it('does not repeat the error text of a host that is not Oura\'s', async () => {
    serve({ 'https://own.example/token': answer(400, { error: 'invalid_grant', error_description: '<b>Call +1 555 0100 to unlock your account</b>' }) });
    const err = await requestToken(code, client, { configuredUrl: 'https://own.example/token' }).then(() => undefined, (e) => e);
    assert.equal(err.message, 'Oura\'s token endpoint (own.example) answered 400');
    assert.equal(refusalKind(err), 'invalid_grant', 'its code is still read');
  });

  it('retries a token request only when the connection was refused', async () => {
    let n = 0;
    setTransport(async (req) => {
      n++;
      if (n <= 2) throw new NetworkError('refused', 'ECONNREFUSED');
      return ok(req.url);
    });
    await requestToken(refresh, client, { configuredUrl: 'https://x/token' });
    assert.equal(n, 3);
    n = 0;
    setTransport(async () => {
      n++;
      throw new NetworkError('timed out', 'ETIMEDOUT');
    });
    await assert.rejects(requestToken(refresh, client, { configuredUrl: 'https://x/token' }), /could not be reached.*timed out/);
    assert.equal(n, 1, 'a refresh that may have reached Oura is never repeated');
  });

  it('reads every refusal Oura sends: RFC 6749 codes and FastAPI detail texts', () => {
    const kind = (status: number, body: Record<string, string>) => {
      const { code: c, text } = errorDetail(body);
      return refusalKind(new TokenError('x', status, c, text));
    };
    assert.equal(kind(401, { error: 'invalid_client' }), 'invalid_client');
    assert.equal(kind(401, { detail: 'Invalid client' }), 'invalid_client');
    assert.equal(kind(400, { detail: 'Invalid client' }), 'invalid_client');
    assert.equal(kind(400, { detail: 'Invalid request' }), 'invalid_request');
    assert.equal(kind(400, { error: 'invalid_request' }), 'invalid_request');
    assert.equal(kind(400, { error: 'invalid_grant' }), 'invalid_grant');
    assert.equal(kind(400, { error: 'unauthorized_client' }), 'unauthorized_client');
    assert.equal(kind(400, { detail: 'Refresh token already used.' }), 'reused');
    assert.equal(kind(400, { detail: 'Token already used or revoked.' }), 'reused');
    assert.equal(kind(500, { detail: 'Invalid request' }), 'other');
    assert.equal(refusalKind(new TokenError('network')), 'other');
  });

  it('reads every error body shape Oura uses', () => {
    assert.deepEqual(errorDetail({ error: 'invalid_grant', error_description: 'bad code' }), { code: 'invalid_grant', text: 'bad code' });
    assert.deepEqual(errorDetail({ detail: 'Refresh token already used.' }), { code: undefined, text: 'Refresh token already used.' });
    assert.deepEqual(errorDetail({ status: 400, title: 'Bad Request', detail: 'x' }), { code: undefined, text: 'x' });
    assert.deepEqual(errorDetail({ detail: [{ loc: ['query', 'start_date'], msg: 'bad date', type: 'value_error' }] }), { code: undefined, text: 'start_date: bad date' });
    assert.deepEqual(errorDetail('nope'), {});
  });
});

describe('scopes', () => {
  it('normalizes granted scopes to bare names', () => {
    assert.deepEqual(normalizeScopes('extapi:daily  personal,daily'), ['daily', 'personal']);
    assert.deepEqual(normalizeScopes(''), []);
  });

  it('asks for each selected scope under the name the server lists, and leaves out what it does not list', () => {
    const listed = ['extapi:personal', 'extapi:daily', 'extapi:heartrate', 'extapi:spo2', 'extapi:heart_health', 'openid', 'email'];
    assert.deepEqual(scopesToRequest(['daily', 'email', 'spo2Daily', 'spo2', 'ring_configuration', 'heart_health'], listed), {
      send: ['extapi:daily', 'email', 'extapi:spo2', 'extapi:heart_health'],
      leftOut: ['ring_configuration'],
    });
    assert.deepEqual(scopesToRequest([], listed), { send: [], leftOut: [] }, 'nothing selected: no scope at all');
    // A server that lists bare names gets bare names.
    assert.deepEqual(scopesToRequest(['daily', 'spo2Daily'], ['daily', 'spo2Daily']).send, ['daily', 'spo2Daily']);
  });
});

describe('authorizations saved before token roles', () => {
  const base: TokenRecord = { accessToken: 'a', refreshToken: 'r', expiresAt: 1, scopes: [], clientId: 'c', authorizedAt: 1, updatedAt: 1 };
  // Exactly what the previous version wrote: the URL that answered.
  const old = (tokenUrl: string) => ({ ...base, tokenUrl }) as TokenRecord;

  it('turns Oura\'s legacy URL into the legacy role and the moi URL into the current role; any other URL is dropped', () => {
    assert.equal(fromStored(old(LEGACY)).tokenRole, 'legacy');
    assert.equal(fromStored(old(CURRENT)).tokenRole, 'current');
    const other = fromStored(old('https://attacker.example/token'));
    assert.equal(other.tokenRole, undefined);
    for (const r of [fromStored(old(LEGACY)), other]) assert.ok(!('tokenUrl' in r), 'no URL is kept');
    assert.deepEqual(fromStored(base), base);
  });

  it('follows OURA_API_URL / OURA_MOI_URL (the simulator in the tests)', () => {
    process.env.OURA_API_URL = 'http://127.0.0.1:9';
    process.env.OURA_MOI_URL = 'http://127.0.0.1:10';
    try {
      assert.equal(fromStored(old('http://127.0.0.1:9/oauth/token')).tokenRole, 'legacy');
      assert.equal(fromStored(old('http://127.0.0.1:10/oauth/v2/ext/oauth-token')).tokenRole, 'current');
      assert.equal(fromStored(old(LEGACY)).tokenRole, 'legacy', 'Oura\'s own default still counts');
    } finally {
      delete process.env.OURA_API_URL;
      delete process.env.OURA_MOI_URL;
    }
  });
});
