import { strict as assert } from 'assert';
import { HttpRequest, HttpResponse, setTransport } from '../../../src/lib/http';
import { DISCOVERY_TIMEOUT_MS, KNOWN_SCOPES, resetDiscovery, RETRY_AFTER_FAILURE_MS, serverMetadata } from '../../../src/lib/oauth/discovery';
import { NetworkError } from '../../../src/lib/errors';
import { timing } from '../../../src/lib/retry';

const MOI = 'https://moi.example';
const ISSUER = `${MOI}/oauth/v2/ext/oauth-anonymous`;
const DOC_URL = `${ISSUER}/.well-known/openid-configuration`;

function doc(extra: Record<string, unknown> = {}): HttpResponse {
  return {
    status: 200,
    headers: {},
    body: JSON.stringify({
      issuer: ISSUER,
      authorization_endpoint: `${MOI}/authz-v3`,
      token_endpoint: `${MOI}/token-v3`,
      revocation_endpoint: `${MOI}/revoke-v3`,
      scopes_supported: ['extapi:daily', 'email', 'extapi:new_thing'],
      ...extra,
    }),
  };
}

describe('discovery of the current authorization server', () => {
  const saved = { ...timing };
  let asked: HttpRequest[];
  let now: number;
  let answer: () => Promise<HttpResponse>;

  beforeEach(() => {
    process.env.OURA_MOI_URL = MOI;
    resetDiscovery();
    asked = [];
    now = Date.parse('2027-01-10T12:00:00Z');
    timing.now = () => now;
    answer = async () => doc();
    setTransport(async (req) => {
      asked.push(req);
      return answer();
    });
  });
  afterEach(() => {
    delete process.env.OURA_MOI_URL;
    setTransport();
    resetDiscovery();
    Object.assign(timing, saved);
  });

  it('reads <issuer>/.well-known/openid-configuration with a 5 s timeout, and caches it', async () => {
    const m = await serverMetadata();
    assert.equal(asked[0].url, DOC_URL);
    assert.equal(asked[0].timeoutMs, DISCOVERY_TIMEOUT_MS);
    assert.equal(DISCOVERY_TIMEOUT_MS, 5000);
    assert.deepEqual(
      [m.discovered, m.authorizationEndpoint, m.tokenEndpoint, m.revocationEndpoint, m.scopesSupported],
      [true, `${MOI}/authz-v3`, `${MOI}/token-v3`, `${MOI}/revoke-v3`, ['extapi:daily', 'email', 'extapi:new_thing']],
    );
    await Promise.all([serverMetadata(), serverMetadata()]);
    now += 60 * 60_000;
    await serverMetadata();
    assert.equal(asked.length, 1, 'read once');
  });

  it('refuses a document of another issuer, and endpoints on another origin', async () => {
    answer = async () => doc({ issuer: 'https://evil.example/oauth' });
    const wrongIssuer = await serverMetadata();
    assert.equal(wrongIssuer.discovered, false);
    assert.equal(wrongIssuer.tokenEndpoint, `${MOI}/oauth/v2/ext/oauth-token`);
    resetDiscovery();
    answer = async () => doc({ token_endpoint: 'https://evil.example/token', revocation_endpoint: 'http://moi.example.evil.example/revoke' });
    const m = await serverMetadata();
    assert.equal(m.discovered, true);
    assert.equal(m.authorizationEndpoint, `${MOI}/authz-v3`, 'an endpoint on the right origin is taken');
    assert.equal(m.tokenEndpoint, `${MOI}/oauth/v2/ext/oauth-token`, 'a foreign token endpoint falls back to the known path');
    assert.equal(m.revocationEndpoint, `${MOI}/oauth/v2/ext/oauth-revoke`);
  });

  it('uses the known paths when the document cannot be read, and asks again at most every 5 minutes', async () => {
    answer = async () => {
      throw new NetworkError('timed out', 'ETIMEDOUT');
    };
    const m = await serverMetadata();
    assert.deepEqual(
      [m.discovered, m.authorizationEndpoint, m.tokenEndpoint, m.revocationEndpoint, m.scopesSupported],
      [false, `${MOI}/oauth/v2/ext/oauth-authorize`, `${MOI}/oauth/v2/ext/oauth-token`, `${MOI}/oauth/v2/ext/oauth-revoke`, KNOWN_SCOPES],
    );
    now += RETRY_AFTER_FAILURE_MS - 1;
    await serverMetadata();
    assert.equal(asked.length, 1, 'not again within 5 minutes');
    answer = async () => doc();
    now += 2;
    assert.equal((await serverMetadata()).discovered, true);
    assert.equal(asked.length, 2);
  });

  it('keeps the last good document when a later read fails; garbage counts as a failure', async () => {
    await serverMetadata();
    now += 25 * 3600_000;
    answer = async () => ({ status: 200, headers: {}, body: '<html>maintenance</html>' });
    const m = await serverMetadata();
    assert.equal(m.tokenEndpoint, `${MOI}/token-v3`);
    assert.equal(asked.length, 2);
  });
});
