/**
 * Oura's authorization servers as they are today (shared/oura/API-NOTES.md, "Oura's authorization server today"):
 * the current server on moi.ouraring.com (consent, token, RFC 7009 revocation, PKCE, `iss` on the redirect) and the
 * legacy token and revoke URLs on api.ouraring.com. Both are as strict as the real ones: exact redirect URIs,
 * single-use codes valid ten minutes, client credentials in the form body, single-use rotating refresh tokens.
 */
import * as crypto from 'crypto';
import { bare, CURRENT_SCOPES, DEFAULT_GRANT, upgradeBare } from './scopes';

export interface SimClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /**
   * Where the app was registered. `new` (developer.ouraring.com, the default): only the current token URL accepts
   * it. `old` (cloud.ouraring.com "API Applications"): only the legacy token URL accepts it. Both consent on the
   * current server.
   */
  portal?: 'new' | 'old';
}

export type TokenServer = 'current' | 'legacy';

export interface AuthOptions {
  accessTokenTtl: number;
  now: () => number;
  issuer: string;
  /** Bare scope names on the current server: `upgrade` (granted as extapi:*, default) or `ignore` (silently not granted). */
  bareScopes?: 'upgrade' | 'ignore';
  /** Refuse redirect URIs on 127.0.0.1 / [::1] with 400 invalid_request (one report). */
  refuseLoopbackIp?: boolean;
  /** The legacy token URL uses up a code it refuses for the client (one report). */
  legacyBurnsCode?: boolean;
}

export const CODE_LIFETIME_MS = 10 * 60_000;

interface Code {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  createdAt: number;
  used: boolean;
  challenge?: { value: string; method: 'S256' | 'plain' };
}

export interface AccessToken {
  clientId: string;
  /** Bare names (`daily`, `spo2`, ...), as the data routes check them. */
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

export interface TokenLogEntry {
  server: TokenServer;
  grant: string;
  clientId: string;
  status: number;
  error?: string;
}

export interface OAuthStats {
  tokenRequests: number;
  codeExchanges: number;
  refreshes: number;
  refreshReuse: number;
  revocations: number;
  /** Every token request in order: which server, which grant, the answer. */
  tokenLog: TokenLogEntry[];
  /** Every revocation request: which server and which form. */
  revocationLog: Array<{ server: TokenServer; form: 'rfc7009' | 'legacy'; hint?: string; status: number }>;
  lastTokenRequestBody?: Record<string, string>;
  lastTokenRequestQuery?: string;
}

export function emptyOAuthStats(): OAuthStats {
  return { tokenRequests: 0, codeExchanges: 0, refreshes: 0, refreshReuse: 0, revocations: 0, tokenLog: [], revocationLog: [] };
}

/** An error the token endpoint answers with: status and JSON body. */
export class OAuthError extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(String(body.error_description ?? body.detail ?? body.error));
  }
}

/** An authorize request that cannot even be redirected (unknown client, unregistered redirect URI). */
export class AuthorizePageError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

/** A valid authorize request, or an error to send back to its (verified) redirect URI. */
export type AuthorizeCheck =
  | { ok: true; client: SimClient; redirectUri: string; scopes: string[]; state: string | null; challenge?: Code['challenge'] }
  | { ok: false; redirectUri: string; error: string; description: string; state: string | null };

const random = (bytes: number) => crypto.randomBytes(bytes).toString('base64url');

function withParams(uri: string, params: Array<[string, string | null]>): string {
  const url = new URL(uri);
  for (const [k, v] of params) if (v !== null) url.searchParams.set(k, v);
  return url.toString();
}

const isLoopbackIp = (uri: string) => {
  try {
    const h = new URL(uri).hostname;
    return h === '127.0.0.1' || h === '[::1]';
  } catch {
    return false;
  }
};

/** The legacy URLs answer with FastAPI-style bodies, without RFC 6749 error codes (as reported). */
const legacyInvalidClient = () => new OAuthError(401, { detail: 'Invalid client' });
const legacyInvalidRequest = () => new OAuthError(400, { detail: 'Invalid request' });

export class AuthServer {
  readonly clients = new Map<string, SimClient>();
  private readonly codes = new Map<string, Code>();
  private readonly access = new Map<string, AccessToken>();
  private readonly refresh = new Map<string, RefreshToken>();
  readonly secrets: string[] = [];
  stats: OAuthStats = emptyOAuthStats();
  accessTokenTtl: number;

  constructor(clients: SimClient[], private readonly o: AuthOptions) {
    this.accessTokenTtl = o.accessTokenTtl;
    for (const c of clients) this.addClient(c);
  }

  get issuer(): string {
    return this.o.issuer;
  }

  addClient(c: SimClient): void {
    if (!c || typeof c.clientId !== 'string' || !c.clientId || typeof c.clientSecret !== 'string' || !c.clientSecret
      || !Array.isArray(c.redirectUris) || !c.redirectUris.every((u) => typeof u === 'string')
      || (c.portal !== undefined && c.portal !== 'new' && c.portal !== 'old')) {
      throw new Error('a client needs clientId, clientSecret (non-empty strings), redirectUris (array of strings) and portal new|old (optional)');
    }
    this.clients.set(c.clientId, { clientId: c.clientId, clientSecret: c.clientSecret, redirectUris: [...c.redirectUris], portal: c.portal ?? 'new' });
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
    if (this.o.refuseLoopbackIp && isLoopbackIp(redirectUri)) {
      throw new AuthorizePageError(`invalid_request: redirect_uri "${redirectUri}" is not allowed.`);
    }
    const state = p.get('state');
    const fail = (error: string, description: string): AuthorizeCheck => ({ ok: false, redirectUri, state, error, description });
    if (p.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be "code".');
    const asked = (p.get('scope') ?? '').trim();
    const scopes: string[] = [];
    const unknown: string[] = [];
    // No scope (or an empty one) means every scope the app may ask for.
    for (const s of asked === '' ? DEFAULT_GRANT : asked.split(/\s+/)) {
      if (CURRENT_SCOPES.includes(s) || DEFAULT_GRANT.includes(s)) scopes.push(s);
      else if (upgradeBare(s)) {
        if (this.o.bareScopes !== 'ignore') scopes.push(upgradeBare(s) as string);
      } else unknown.push(s);
    }
    if (unknown.length) return fail('invalid_scope', `Unknown scope: ${unknown.join(' ')}`);
    let challenge: Code['challenge'];
    const value = p.get('code_challenge');
    if (value !== null) {
      const method = p.get('code_challenge_method') ?? 'plain';
      if (method !== 'S256' && method !== 'plain') return fail('invalid_request', `code_challenge_method "${method}" is not supported.`);
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(value)) return fail('invalid_request', 'code_challenge is malformed.');
      challenge = { value, method };
    }
    return { ok: true, client, redirectUri, scopes: [...new Set(scopes)], state, challenge };
  }

  errorRedirect(c: Extract<AuthorizeCheck, { ok: false }>): string {
    return withParams(c.redirectUri, [['error', c.error], ['error_description', c.description], ['state', c.state], ['iss', this.issuer]]);
  }

  /** The redirect after the user's decision on the consent page; `granted` are the ticked boxes. */
  decide(p: URLSearchParams, accept: boolean, granted: string[]): string {
    const c = this.checkAuthorize(p);
    if (!c.ok) return this.errorRedirect(c);
    if (!accept) {
      return withParams(c.redirectUri, [['error', 'access_denied'], ['error_description', 'The user denied access to the application.'], ['state', c.state], ['iss', this.issuer]]);
    }
    // Only what was asked for can be granted, whatever a tampered form claims.
    const keep = c.scopes.filter((s) => granted.includes(s));
    const code = random(24);
    this.secrets.push(code);
    this.codes.set(code, { clientId: c.client.clientId, redirectUri: c.redirectUri, scopes: keep, createdAt: this.o.now(), used: false, challenge: c.challenge });
    return withParams(c.redirectUri, [['code', code], ['scope', keep.join(' ')], ['state', c.state], ['iss', this.issuer]]);
  }

  private issue(clientId: string, scopes: string[]): Record<string, unknown> {
    const accessToken = random(32);
    const refreshToken = random(32);
    this.secrets.push(accessToken, refreshToken);
    this.access.set(accessToken, { clientId, scopes: new Set(scopes.map(bare)), expiresAt: this.o.now() + this.accessTokenTtl * 1000, revoked: false });
    this.refresh.set(refreshToken, { clientId, scopes, used: false, revoked: false, access: accessToken });
    return { token_type: 'bearer', access_token: accessToken, expires_in: this.accessTokenTtl, refresh_token: refreshToken, scope: scopes.join(' ') };
  }

  /** A token request at one of the two servers; logs it and its outcome. */
  token(server: TokenServer, form: URLSearchParams, query: URLSearchParams, contentType: string, authorization: string | undefined): Record<string, unknown> {
    const entry: TokenLogEntry = { server, grant: form.get('grant_type') ?? '', clientId: form.get('client_id') ?? '', status: 200 };
    this.stats.tokenLog.push(entry);
    try {
      return this.tokenAt(server, form, query, contentType, authorization);
    } catch (err) {
      if (err instanceof OAuthError) {
        entry.status = err.status;
        entry.error = String(err.body.error ?? err.body.detail ?? '');
      }
      throw err;
    }
  }

  /**
   * The token endpoint's work, called only after faults had their chance, so that a failed request consumes no
   * code and rotates no refresh token.
   */
  private tokenAt(server: TokenServer, form: URLSearchParams, query: URLSearchParams, contentType: string, authorization: string | undefined): Record<string, unknown> {
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
    const authenticated = !!client && body.client_secret !== undefined && client.clientSecret === body.client_secret;
    if (server === 'current') {
      // The current server does not know apps of the old portal.
      if (!authenticated || client!.portal === 'old') throw new OAuthError(401, { error: 'invalid_client', error_description: 'Client authentication failed.' });
    } else if (!authenticated) {
      throw legacyInvalidClient();
    } else if (client!.portal === 'new') {
      // Apps of the new portal at the legacy URL: 401 to a code exchange, 400 invalid_request to a refresh.
      if (body.grant_type === 'authorization_code') {
        const code = this.codes.get(body.code ?? '');
        if (code && this.o.legacyBurnsCode) code.used = true;
        throw legacyInvalidClient();
      }
      throw legacyInvalidRequest();
    }
    if (body.grant_type === 'authorization_code') return this.exchangeCode(server, client!, body);
    if (body.grant_type === 'refresh_token') return this.refreshGrant(client!, body);
    throw new OAuthError(400, { error: 'unsupported_grant_type', error_description: `grant_type "${body.grant_type ?? ''}" is not supported.` });
  }

  private exchangeCode(server: TokenServer, client: SimClient, body: Record<string, string>): Record<string, unknown> {
    this.stats.codeExchanges++;
    const code = this.codes.get(body.code ?? '');
    const invalid = (description: string) => new OAuthError(400, { error: 'invalid_grant', error_description: description });
    if (!code) throw invalid('Invalid authorization code.');
    if (code.used) throw invalid('The authorization code was already used.');
    if (this.o.now() - code.createdAt > CODE_LIFETIME_MS) throw invalid('The authorization code expired.');
    if (code.clientId !== client.clientId) throw invalid('The authorization code was issued to another client.');
    if (code.redirectUri !== body.redirect_uri) throw invalid('redirect_uri does not match the one of the authorization request.');
    // PKCE is checked by the current server only; the legacy token URL ignores code_verifier.
    if (server === 'current' && code.challenge && !pkceMatches(code.challenge, body.code_verifier)) {
      throw invalid('PKCE verification failed: code_verifier is missing or does not match code_challenge.');
    }
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

  /** RFC 7009 at the current server: the client authenticates in the body; unknown tokens are not an error. */
  revokeRfc7009(form: URLSearchParams): void {
    const client = this.clients.get(form.get('client_id') ?? '');
    const hint = form.get('token_type_hint') ?? undefined;
    const log = { server: 'current' as const, form: 'rfc7009' as const, hint, status: 200 };
    this.stats.revocationLog.push(log);
    if (!client || client.portal === 'old' || client.clientSecret !== form.get('client_secret')) {
      log.status = 401;
      throw new OAuthError(401, { error: 'invalid_client', error_description: 'Client authentication failed.' });
    }
    const token = form.get('token');
    if (!token) {
      log.status = 400;
      throw new OAuthError(400, { error: 'invalid_request', error_description: 'token is required.' });
    }
    this.revokeToken(token, client.clientId);
  }

  /** The legacy, unofficial revocation: `?access_token=` (or the same field in a body). */
  revokeLegacy(token: string): void {
    this.stats.revocationLog.push({ server: 'legacy', form: 'legacy', status: 200 });
    this.revokeToken(token);
  }

  private revokeToken(token: string, clientId?: string): void {
    this.stats.revocations++;
    const a = this.access.get(token);
    if (a && (!clientId || a.clientId === clientId)) a.revoked = true;
    const r = this.refresh.get(token);
    if (r && (!clientId || r.clientId === clientId)) {
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
    if (t.expiresAt <= this.o.now()) return 'The access token expired.';
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

function pkceMatches(challenge: NonNullable<Code['challenge']>, verifier: string | undefined): boolean {
  if (!verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  const expected = challenge.method === 'S256' ? crypto.createHash('sha256').update(verifier).digest('base64url') : verifier;
  return expected === challenge.value;
}
