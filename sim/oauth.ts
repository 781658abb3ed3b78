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

/** The scopes of spec 1.37 and the newer ones Oura added after it. */
export const SPEC_SCOPES = ['email', 'personal', 'daily', 'heartrate', 'workout', 'tag', 'session', 'spo2Daily'];
export const NEWER_SCOPES = ['spo2', 'heart_health', 'stress', 'ring_configuration'];
export const ALL_SCOPES = [...SPEC_SCOPES, ...NEWER_SCOPES];

export const CODE_LIFETIME_MS = 10 * 60_000;

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

export function emptyOAuthStats(): OAuthStats {
  return { tokenRequests: 0, codeExchanges: 0, refreshes: 0, refreshReuse: 0, revocations: 0 };
}

/** An error the token endpoint answers with: status and JSON body. */
export class OAuthError extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(String(body.error_description ?? body.detail ?? body.error));
  }
}

/** An authorize request that cannot even be redirected (unknown client, unregistered redirect URI). */
export class AuthorizePageError extends Error {}

/** A valid authorize request, or an error to send back to its (verified) redirect URI. */
export type AuthorizeCheck =
  | { ok: true; client: SimClient; redirectUri: string; scopes: string[]; state: string | null }
  | { ok: false; redirectUri: string; error: string; description: string; state: string | null };

const random = (bytes: number) => crypto.randomBytes(bytes).toString('base64url');

function withParams(uri: string, params: Array<[string, string | null]>): string {
  const url = new URL(uri);
  for (const [k, v] of params) if (v !== null) url.searchParams.set(k, v);
  return url.toString();
}

export class AuthServer {
  readonly clients = new Map<string, SimClient>();
  private readonly codes = new Map<string, Code>();
  private readonly access = new Map<string, AccessToken>();
  private readonly refresh = new Map<string, RefreshToken>();
  readonly secrets: string[] = [];
  stats: OAuthStats = emptyOAuthStats();

  constructor(clients: SimClient[], public accessTokenTtl: number, private readonly now: () => number, private readonly scopePrefix: boolean) {
    for (const c of clients) this.addClient(c);
  }

  addClient(c: SimClient): void {
    if (!c || typeof c.clientId !== 'string' || !c.clientId || typeof c.clientSecret !== 'string' || !c.clientSecret
      || !Array.isArray(c.redirectUris) || !c.redirectUris.every((u) => typeof u === 'string')) {
      throw new Error('a client needs clientId, clientSecret (non-empty strings) and redirectUris (array of strings)');
    }
    this.clients.set(c.clientId, { clientId: c.clientId, clientSecret: c.clientSecret, redirectUris: [...c.redirectUris] });
    this.secrets.push(c.clientSecret);
  }

  checkAuthorize(p: URLSearchParams): AuthorizeCheck {
    const clientId = p.get('client_id') ?? '';
    const client = this.clients.get(clientId);
    if (!client) throw new AuthorizePageError(`Unknown client_id "${clientId}": no such application.`);
    const redirectUri = p.get('redirect_uri') ?? '';
    // Exact string comparison, as Oura does: a trailing slash or another host name is another URI.
    if (!client.redirectUris.includes(redirectUri)) {
      throw new AuthorizePageError(`Invalid redirect_uri "${redirectUri}": it is not registered for this application (registered: ${client.redirectUris.join(', ')}).`);
    }
    const state = p.get('state');
    if (p.get('response_type') !== 'code') {
      return { ok: false, redirectUri, state, error: 'unsupported_response_type', description: 'response_type must be "code".' };
    }
    const scope = (p.get('scope') ?? '').trim();
    // No scope (or an empty one) means every scope the app may ask for.
    const scopes = scope === '' ? [...ALL_SCOPES] : [...new Set(scope.split(/\s+/))];
    const unknown = scopes.filter((s) => !ALL_SCOPES.includes(s));
    if (unknown.length) return { ok: false, redirectUri, state, error: 'invalid_scope', description: `Unknown scope: ${unknown.join(' ')}` };
    return { ok: true, client, redirectUri, scopes, state };
  }

  errorRedirect(c: Extract<AuthorizeCheck, { ok: false }>): string {
    return withParams(c.redirectUri, [['error', c.error], ['error_description', c.description], ['state', c.state]]);
  }

  /** The redirect after the user's decision on the consent page; `granted` are the ticked boxes. */
  decide(p: URLSearchParams, accept: boolean, granted: string[]): string {
    const c = this.checkAuthorize(p);
    if (!c.ok) return this.errorRedirect(c);
    if (!accept) {
      return withParams(c.redirectUri, [['error', 'access_denied'], ['error_description', 'The user denied access to the application.'], ['state', c.state]]);
    }
    // Only what was asked for can be granted, whatever a tampered form claims.
    const keep = c.scopes.filter((s) => granted.includes(s));
    const code = random(24);
    this.secrets.push(code);
    this.codes.set(code, { clientId: c.client.clientId, redirectUri: c.redirectUri, scopes: keep, createdAt: this.now(), used: false });
    return withParams(c.redirectUri, [['code', code], ['scope', keep.join(' ')], ['state', c.state]]);
  }

  private issue(clientId: string, scopes: string[]): Record<string, unknown> {
    const accessToken = random(32);
    const refreshToken = random(32);
    this.secrets.push(accessToken, refreshToken);
    this.access.set(accessToken, { clientId, scopes: new Set(scopes), expiresAt: this.now() + this.accessTokenTtl * 1000, revoked: false });
    this.refresh.set(refreshToken, { clientId, scopes, used: false, revoked: false, access: accessToken });
    return {
      token_type: 'bearer',
      access_token: accessToken,
      expires_in: this.accessTokenTtl,
      refresh_token: refreshToken,
      scope: scopes.map((s) => (this.scopePrefix ? `extapi:${s}` : s)).join(' '),
    };
  }

  /**
   * The token endpoint's work, called only after faults had their chance, so that a failed request
   * consumes no code and rotates no refresh token.
   */
  token(form: URLSearchParams, query: URLSearchParams, contentType: string, authorization: string | undefined): Record<string, unknown> {
    if (query.has('client_secret')) {
      throw new OAuthError(401, { error: 'invalid_client', error_description: 'client_secret must be sent in the request body, not in the URL.' });
    }
    if (!/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
      throw new OAuthError(400, { error: 'invalid_request', error_description: 'The request body must be application/x-www-form-urlencoded.' });
    }
    const body = Object.fromEntries(form.entries());
    if (body.client_secret === undefined && /^Basic\s/i.test(authorization ?? '')) {
      throw new OAuthError(401, { error: 'invalid_client', error_description: 'client_id and client_secret must be sent as form fields in the body.' });
    }
    const client = this.clients.get(body.client_id ?? '');
    if (!client || body.client_secret === undefined || client.clientSecret !== body.client_secret) {
      throw new OAuthError(401, { error: 'invalid_client', error_description: 'Client authentication failed.' });
    }
    if (body.grant_type === 'authorization_code') return this.exchangeCode(client, body);
    if (body.grant_type === 'refresh_token') return this.refreshGrant(client, body);
    throw new OAuthError(400, { error: 'unsupported_grant_type', error_description: `grant_type "${body.grant_type ?? ''}" is not supported.` });
  }

  private exchangeCode(client: SimClient, body: Record<string, string>): Record<string, unknown> {
    this.stats.codeExchanges++;
    const code = this.codes.get(body.code ?? '');
    const invalid = (description: string) => new OAuthError(400, { error: 'invalid_grant', error_description: description });
    if (!code) throw invalid('Invalid authorization code.');
    if (code.used) throw invalid('The authorization code was already used.');
    if (this.now() - code.createdAt > CODE_LIFETIME_MS) throw invalid('The authorization code expired.');
    if (code.clientId !== client.clientId) throw invalid('The authorization code was issued to another client.');
    if (code.redirectUri !== body.redirect_uri) throw invalid('redirect_uri does not match the one of the authorization request.');
    code.used = true;
    return this.issue(client.clientId, code.scopes);
  }

  private refreshGrant(client: SimClient, body: Record<string, string>): Record<string, unknown> {
    this.stats.refreshes++;
    const rt = this.refresh.get(body.refresh_token ?? '');
    if (!rt || rt.clientId !== client.clientId) throw new OAuthError(400, { error: 'invalid_grant', error_description: 'Invalid refresh token.' });
    if (rt.used) {
      this.stats.refreshReuse++;
      throw new OAuthError(400, { detail: 'Refresh token already used.' });
    }
    if (rt.revoked) throw new OAuthError(400, { error: 'invalid_grant', error_description: 'The refresh token was revoked.' });
    rt.used = true;
    // Like Oura: the access token issued with the old refresh token dies with it.
    const old = this.access.get(rt.access);
    if (old) old.revoked = true;
    return this.issue(client.clientId, rt.scopes);
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

  /** The grant behind an Authorization header, or why it is refused. */
  check(authorization: string | undefined): AccessToken | string {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return 'Missing or malformed bearer token.';
    const t = this.access.get(m[1]);
    if (!t) return 'Invalid access token.';
    if (t.revoked) return 'The access token was revoked.';
    if (t.expiresAt <= this.now()) return 'The access token expired.';
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
