import { strict as assert } from 'assert';
import { HttpRequest, HttpResponse, setTransport, errorDetail } from '../../src/lib/http';
import { OURA_DEFAULTS } from '../../src/lib/endpoints';
import { requestToken, normalizeScopes } from '../../src/lib/oauth';
import { TokenError } from '../../src/lib/errors';
import { NetworkError } from '../../src/lib/errors';
import { timing } from '../../src/lib/retry';

const client = { clientId: 'id', clientSecret: 'secret-value' };
const ok = (url: string): HttpResponse => ({
  status: 200, headers: {}, body: JSON.stringify({ token_type: 'bearer', access_token: `A@${url}`, refresh_token: 'R', expires_in: 3600, scope: 'extapi:daily extapi:personal' }),
});

describe('oauth token requests', () => {
  const saved = { ...timing };
  let sent: HttpRequest[];
  beforeEach(() => {
    sent = [];
    delete process.env.OURA_TOKEN_URL;
    timing.sleep = async () => undefined;
  });
  afterEach(() => {
    setTransport();
    Object.assign(timing, saved);
  });

  it('falls back to the new-portal URL after 400 invalid_request when no URL is configured, and says which worked', async () => {
    setTransport(async (req) => {
      sent.push(req);
      if (req.url === OURA_DEFAULTS.tokenUrl) return { status: 400, headers: {}, body: '{"error":"invalid_request"}' };
      return ok(req.url);
    });
    const t = await requestToken({ grant_type: 'refresh_token', refresh_token: 'r' }, client);
    assert.deepEqual(sent.map((r) => r.url), [OURA_DEFAULTS.tokenUrl, OURA_DEFAULTS.newPortalTokenUrl]);
    assert.equal(t.tokenUrl, OURA_DEFAULTS.newPortalTokenUrl);
    assert.deepEqual(t.scopes, ['daily', 'personal']);
    assert.equal(sent[0].form?.client_secret, 'secret-value');
    assert.ok(!sent[0].url.includes('secret'));
  });

  it('never falls back when the account or OURA_TOKEN_URL names a URL', async () => {
    setTransport(async (req) => {
      sent.push(req);
      return { status: 400, headers: {}, body: '{"error":"invalid_request"}' };
    });
    await assert.rejects(requestToken({ grant_type: 'refresh_token', refresh_token: 'r' }, client, 'https://own.example/token'), TokenError);
    process.env.OURA_TOKEN_URL = 'https://env.example/token';
    await assert.rejects(requestToken({ grant_type: 'refresh_token', refresh_token: 'r' }, client), TokenError);
    assert.deepEqual(sent.map((r) => r.url), ['https://own.example/token', 'https://env.example/token']);
  });

  it('retries a token request only when the connection was refused', async () => {
    let n = 0;
    setTransport(async (req) => {
      n++;
      if (n <= 2) throw new NetworkError('refused', 'ECONNREFUSED');
      return ok(req.url);
    });
    await requestToken({ grant_type: 'refresh_token', refresh_token: 'r' }, client, 'https://x/token');
    assert.equal(n, 3);
    n = 0;
    setTransport(async () => {
      n++;
      throw new NetworkError('timed out', 'ETIMEDOUT');
    });
    await assert.rejects(requestToken({ grant_type: 'refresh_token', refresh_token: 'r' }, client, 'https://x/token'), /could not be reached.*timed out/);
    assert.equal(n, 1, 'a refresh that may have reached Oura is never repeated');
  });

  it('reads every error body shape Oura uses', () => {
    assert.deepEqual(errorDetail({ error: 'invalid_grant', error_description: 'bad code' }), { code: 'invalid_grant', text: 'bad code' });
    assert.deepEqual(errorDetail({ detail: 'Refresh token already used.' }), { code: undefined, text: 'Refresh token already used.' });
    assert.deepEqual(errorDetail({ status: 400, title: 'Bad Request', detail: 'x' }), { code: undefined, text: 'x' });
    assert.deepEqual(errorDetail({ detail: [{ loc: ['query', 'start_date'], msg: 'bad date', type: 'value_error' }] }), { code: undefined, text: 'start_date: bad date' });
    assert.deepEqual(errorDetail('nope'), {});
  });

  it('normalizes scopes', () => {
    assert.deepEqual(normalizeScopes('extapi:daily  personal,daily'), ['daily', 'personal']);
    assert.deepEqual(normalizeScopes(''), []);
  });
});
