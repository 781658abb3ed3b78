/**
 * Oura's authorization server, as strict as the real one: exact redirect URIs, single-use codes valid
 * ten minutes, client credentials in the form body, single-use rotating refresh tokens.
 */
import * as crypto from 'crypto';

export interface SimClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export const ALL_SCOPES = ['email', 'personal', 'daily', 'heartrate', 'workout', 'tag', 'session', 'spo2Daily', 'spo2', 'heart_health', 'stress', 'ring_configuration'];

interface Code {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  createdAt: number;
  used: boolean;
}

export interface AccessToken {
  clientId: string;
  scopes: Set<string>;
  expiresAt: number;
  revoked: boolean;
}

interface RefreshToken {
  clientId: string;
  scopes: string[];
  used: boolean;
  revoked: boolean;
  access: string;
}

export interface OAuthStats {
  tokenRequests: number;
  codeExchanges: number;
  refreshes: number;
  refreshReuse: number;
  revocations: number;
  lastTokenRequestBody?: Record<string, string>;
  lastTokenRequestQuery?: string;
}

export class OAuthError extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(String(body.error_description ?? body.detail ?? body.error));
  }
}

const random = (bytes = 24) => crypto.randomBytes(bytes).toString('base64url');

export class AuthServer {
  readonly clients = new Map<string, SimClient>();
  private readonly codes = new Map<string, Code>();
  readonly access = new Map<string, AccessToken>();
  private readonly refresh = new Map<string, RefreshToken>();
  readonly secrets: string[] = [];
  stats: OAuthStats = { tokenRequests: 0, codeExchanges: 0, refreshes: 0, refreshReuse: 0, revocations: 0 };

  constructor(clients: SimClient[], public accessTokenTtl: number, private readonly now: () => number, private readonly scopePrefix: boolean) {
    for (const c of clients) this.addClient(c);
  }

  addClient(c: SimClient): void {
    this.clients.set(c.clientId, { ...c, redirectUris: [...c.redirectUris] });
    this.secrets.push(c.clientSecret);
  }

  /** Checks an authorize request; throws a message for the error page. */
  checkAuthorize(p: URLSearchParams): { client: SimClient; redirectUri: string; scopes: string[]; state: string } {
    const client = this.clients.get(p.get('client_id') ?? '');
    if (!client) throw new Error('Unknown client_id: this application does not exist.');
    const redirectUri = p.get('redirect_uri') ?? '';
    if (!client.redirectUris.includes(redirectUri)) {
      throw new Error(`Invalid redirect_uri: "${redirectUri}" is not registered for this application (registered: ${client.redirectUris.join(', ')}).`);
    }
    if (p.get('response_type') !== 'code') throw new Error('response_type must be "code".');
    const scope = p.get('scope');
    const scopes = scope === null ? [...ALL_SCOPES] : scope.split(/[\s+]+/).filter(Boolean);
    for (const s of scopes) if (!ALL_SCOPES.includes(s)) throw new Error(`Unknown scope "${s}".`);
    return { client, redirectUri, scopes, state: p.get('state') ?? '' };
  }

  /** The redirect after the user's decision. */
  decide(p: URLSearchParams, accept: boolean, granted?: string[]): string {
    const { client, redirectUri, scopes, state } = this.checkAuthorize(p);
    const url = new URL(redirectUri);
    if (!accept) {
      url.searchParams.set('error', 'access_denied');
      url.searchParams.set('error_description', 'The user denied access.');
      if (state) url.searchParams.set('state', state);
      return url.toString();
    }
    const keep = granted ? scopes.filter((s) => granted.includes(s)) : scopes;
    const code = random(18);
    this.secrets.push(code);
    this.codes.set(code, { clientId: client.clientId, redirectUri, scopes: keep, createdAt: this.now(), used: false });
    url.searchParams.set('code', code);
    url.searchParams.set('scope', keep.join(' '));
    if (state) url.searchParams.set('state', state);
    return url.toString();
  }

  private issue(clientId: string, scopes: string[]): Record<string, unknown> {
    const accessToken = random(32);
    const refreshToken = random(32);
    this.secrets.push(accessToken, refreshToken);
    this.access.set(accessToken, { clientId, scopes: new Set(scopes), expiresAt: this.now() + this.accessTokenTtl * 1000, revoked: false });
    this.refresh.set(refreshToken, { clientId, scopes, used: false, revoked: false, access: accessToken });
    return {
      token_type: 'bearer', access_token: accessToken, expires_in: this.accessTokenTtl, refresh_token: refreshToken,
      scope: scopes.map((s) => (this.scopePrefix ? `extapi:${s}` : s)).join(' '),
    };
  }

  /** The token endpoint, after faults had their chance (so a failed request consumes nothing). */
  token(form: URLSearchParams, query: string): Record<string, unknown> {
    const body = Object.fromEntries(form.entries());
    this.stats.lastTokenRequestBody = { ...body, ...(body.client_secret !== undefined ? { client_secret: '***' } : {}) };
    this.stats.lastTokenRequestQuery = query;
    if (/client_secret=/.test(query)) throw new OAuthError(401, { error: 'invalid_client', error_description: 'client_secret must not be sent in the URL' });
    const client = this.clients.get(body.client_id ?? '');
    if (!client || client.clientSecret !== body.client_secret) throw new OAuthError(401, { error: 'invalid_client', error_description: 'Client authentication failed.' });
    if (body.grant_type === 'authorization_code') {
      this.stats.codeExchanges++;
      const code = this.codes.get(body.code ?? '');
      if (!code || code.used) throw new OAuthError(400, { error: 'invalid_grant', error_description: 'Invalid or used authorization code.' });
      if (this.now() - code.createdAt > 10 * 60_000) throw new OAuthError(400, { error: 'invalid_grant', error_description: 'Authorization code expired.' });
      if (code.clientId !== client.clientId) throw new OAuthError(400, { error: 'invalid_grant', error_description: 'Code was issued to another client.' });
      if (code.redirectUri !== body.redirect_uri) throw new OAuthError(400, { error: 'invalid_grant', error_description: 'redirect_uri does not match the authorization request.' });
      code.used = true;
      return this.issue(client.clientId, code.scopes);
    }
    if (body.grant_type === 'refresh_token') {
      this.stats.refreshes++;
      const rt = this.refresh.get(body.refresh_token ?? '');
      if (!rt || rt.clientId !== client.clientId) throw new OAuthError(400, { error: 'invalid_grant', error_description: 'Invalid refresh token.' });
      if (rt.used) {
        this.stats.refreshReuse++;
        throw new OAuthError(400, { detail: 'Refresh token already used.' });
      }
      if (rt.revoked) throw new OAuthError(400, { error: 'invalid_grant', error_description: 'Refresh token revoked.' });
      rt.used = true;
      const old = this.access.get(rt.access);
      if (old) old.revoked = true;
      return this.issue(client.clientId, rt.scopes);
    }
    throw new OAuthError(400, { error: 'unsupported_grant_type' });
  }

  revoke(token: string): void {
    this.stats.revocations++;
    const a = this.access.get(token);
    if (a) a.revoked = true;
    const r = this.refresh.get(token);
    if (r) {
      r.revoked = true;
      const acc = this.access.get(r.access);
      if (acc) acc.revoked = true;
    }
  }

  /** The token's grant, or why it is refused. */
  check(authorization: string | undefined): AccessToken | string {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return 'Missing bearer token.';
    const t = this.access.get(m[1]);
    if (!t) return 'Invalid token.';
    if (t.revoked) return 'Token revoked.';
    if (t.expiresAt <= this.now()) return 'Token expired.';
    return t;
  }

  expireAll(): void {
    for (const t of this.access.values()) t.expiresAt = 0;
  }

  revokeAll(): void {
    for (const t of this.access.values()) t.revoked = true;
    for (const t of this.refresh.values()) t.revoked = true;
  }
}
