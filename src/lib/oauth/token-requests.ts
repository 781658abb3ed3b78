/**
 * The OAuth2 client: the consent URL (with PKCE) and token requests. Oura has two token endpoints today: the current
 * server's and the legacy one on the API host, and an app is accepted by only one of them (API-NOTES). Unless a token
 * URL is configured, a code goes to the current server first and a refresh to the server that issued the
 * authorization; the other is tried once, and only after an answer that proves nothing was used up.
 */
import * as crypto from 'crypto';
import { serverMetadata } from './discovery';
import { authorizeOverride, isTrustedOrigin, legacyTokenUrl, TokenRole, tokenOverride } from './endpoints';
import { NetworkError, TokenError } from '../errors';
import { errorDetail, hostOf, parseJson, send } from '../http';
import { backoffDelay, timing } from '../retry';
import { normalizeScopes } from './scopes';
import { t } from '../i18n';

export { normalizeScopes } from './scopes';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** A token response, validated. */
export interface TokenSet {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** Granted scopes without any `extapi:` prefix; empty when Oura did not say. */
  readonly scopes: string[];
  /** Which token endpoint answered; undefined for a configured URL that is neither of Oura's. */
  readonly role?: TokenRole;
}

/** A random PKCE verifier (43 characters) and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

export async function buildAuthorizeUrl(p: { clientId: string; redirectUri: string; scope: string[]; state: string; codeChallenge: string }): Promise<string> {
  const url = new URL(authorizeOverride() ?? (await serverMetadata()).authorizationEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', p.clientId);
  url.searchParams.set('redirect_uri', p.redirectUri);
  // No scope parameter = every scope the app may ask for.
  if (p.scope.length) url.searchParams.set('scope', p.scope.join(' '));
  url.searchParams.set('state', p.state);
  url.searchParams.set('code_challenge', p.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

export type Grant =
  | { grant_type: 'authorization_code'; code: string; redirect_uri: string; code_verifier?: string }
  | { grant_type: 'refresh_token'; refresh_token: string };

/** Where token requests go: a configured URL, or the automatic choice with the role that issued the authorization. */
export interface TokenTarget {
  /** The account's deployed Token URL (or one typed with a typed secret before the first deploy). */
  configuredUrl?: string;
  /** The role that issued the authorization being refreshed. */
  role?: TokenRole;
  /** Ask `role`'s server alone, without the fallback (the credentials check). */
  only?: boolean;
  /** Epoch ms after which no request is sent, and by which every request must have its answer (a shared refresh). */
  deadline?: number;
  /** Runs before each request is sent; throwing stops it unsent (a shared refresh extends its lock here). */
  beforeAttempt?: () => Promise<void>;
}

/** Connection refused means the request never reached Oura: the only token failure that is safe to retry. */
const TOKEN_RETRIES_ON_REFUSED = 2;

export async function roleUrl(role: TokenRole): Promise<string> {
  return role === 'legacy' ? legacyTokenUrl() : (await serverMetadata()).tokenEndpoint;
}

/** The order in which the two roles are tried: codes always at the current server first. */
export function roleOrder(grant: Grant['grant_type'], role?: TokenRole): TokenRole[] {
  return grant === 'refresh_token' && role === 'legacy' ? ['legacy', 'current'] : ['current', 'legacy'];
}

/** A refusal that proves the grant was not looked at: the other server may know the client. */
export function isWrongServer(err: unknown): boolean {
  const k = refusalKind(err);
  return k === 'invalid_client' || k === 'invalid_request';
}

export type RefusalKind = 'invalid_client' | 'invalid_request' | 'invalid_grant' | 'unauthorized_client' | 'reused' | 'other';

/**
 * What a token endpoint's refusal means. Oura's bodies come with RFC 6749 codes or as FastAPI `{detail}` text
 * ("Invalid client" with 401, "Invalid request" with 400, "Refresh token already used."): both are read.
 */
export function refusalKind(err: unknown): RefusalKind {
  if (!(err instanceof TokenError) || err.httpStatus === undefined) return 'other';
  const text = err.detail ?? '';
  const code = err.oauthError;
  if (/already used/i.test(text)) return 'reused';
  if (code === 'invalid_grant') return 'invalid_grant';
  if (code === 'unauthorized_client') return 'unauthorized_client';
  if (code === 'invalid_client' && (err.httpStatus === 401 || err.httpStatus === 400)) return 'invalid_client';
  if (!code && (err.httpStatus === 401 || (err.httpStatus === 400 && /invalid[ _]client/i.test(text)))) return 'invalid_client';
  if (err.httpStatus === 400 && (code === 'invalid_request' || (!code && /invalid[ _]request/i.test(text)))) return 'invalid_request';
  return 'other';
}

/**
 * POSTs a grant with the client credentials in the form body (never the URL). With a configured URL only there;
 * otherwise at the role's server first and, after a wrong-server refusal, once at the other.
 */
export async function requestToken(grant: Grant, client: ClientCredentials, target: TokenTarget = {}): Promise<TokenSet> {
  const configured = tokenOverride(target.configuredUrl);
  if (configured) return postGrant(configured, grant, client, await roleOfUrl(configured, target.role), target);
  if (target.only && target.role) return postGrant(await roleUrl(target.role), grant, client, target.role, target);
  const [first, second] = roleOrder(grant.grant_type, target.role);
  try {
    return await postGrant(await roleUrl(first), grant, client, first, target);
  } catch (err) {
    if (!isWrongServer(err)) throw err;
    try {
      return await postGrant(await roleUrl(second), grant, client, second, target);
    } catch (err2) {
      if (!(err2 instanceof TokenError)) throw err2;
      // Both refused: the current server's answer first, it is the one that matters for most apps.
      const [cur, leg] = first === 'current' ? [err as TokenError, err2] : [err2, err as TokenError];
      const endpoint = t('oura.token.endpoint');
      const legacy = leg.message.startsWith(endpoint) ? `${t('oura.token.theLegacyOne')}${leg.message.slice(endpoint.length)}` : leg.message;
      throw new TokenError(t('oura.token.bothRefused', { current: cur.message.replace(/\.$/, ''), legacy }), cur.httpStatus, cur.oauthError, cur.detail);
    }
  }
}

/** The role a configured URL plays, when it is one of Oura's two; otherwise the authorization keeps its own. */
async function roleOfUrl(url: string, fallback?: TokenRole): Promise<TokenRole | undefined> {
  if (url === legacyTokenUrl()) return 'legacy';
  if (url === (await serverMetadata()).tokenEndpoint) return 'current';
  return fallback;
}

/** Less than this left before the deadline: the request is not sent (its answer could not arrive in time). */
const MIN_TIME_LEFT_MS = 1000;

async function postGrant(url: string, grant: Grant, client: ClientCredentials, role: TokenRole | undefined, target: TokenTarget): Promise<TokenSet> {
  const form: Record<string, string> = { client_id: client.clientId, client_secret: client.clientSecret };
  for (const [k, v] of Object.entries(grant)) if (v !== undefined) form[k] = v;
  for (let attempt = 0; ; attempt++) {
    let timeoutMs: number | undefined;
    if (target.deadline !== undefined) {
      const left = target.deadline - timing.now();
      if (left < MIN_TIME_LEFT_MS) throw new TokenError(t('oura.token.tooLong'));
      timeoutMs = Math.min(left, timing.requestTimeoutMs);
    }
    await target.beforeAttempt?.();
    const sentAt = timing.now();
    let res;
    try {
      res = await send({ method: 'POST', url, form, timeoutMs });
    } catch (err) {
      if (err instanceof NetworkError && err.systemCode === 'ECONNREFUSED' && attempt < TOKEN_RETRIES_ON_REFUSED) {
        await timing.sleep(backoffDelay(attempt));
        continue;
      }
      if (err instanceof NetworkError) {
        const lost = err.systemCode === 'ECONNREFUSED' ? '' : t('oura.token.mayNeedRenewal');
        throw new TokenError(t('oura.token.unreachable', { message: err.message, lost }));
      }
      throw err;
    }
    return parseTokenResponse(res.status, res.body, sentAt, url, role);
  }
}

function parseTokenResponse(status: number, body: string, sentAt: number, url: string, role: TokenRole | undefined): TokenSet {
  const json = parseJson(body);
  const host = hostOf(url);
  if (status < 200 || status >= 300) {
    const { code, text } = errorDetail(json);
    // Text from a host that is not Oura's (a mistyped Token URL) is not repeated to the editor.
    const why = text && isTrustedOrigin(url) ? `: ${text}` : '';
    throw new TokenError(t('oura.token.answered', { host, status, why }), status, code, text);
  }
  const b = (json ?? {}) as Record<string, unknown>;
  if (typeof b.access_token !== 'string' || !b.access_token || typeof b.refresh_token !== 'string' || !b.refresh_token) {
    throw new TokenError(t('oura.token.noTokens', { host }), status);
  }
  const expiresIn = Number(b.expires_in);
  return {
    accessToken: b.access_token,
    refreshToken: b.refresh_token,
    // Trust expires_in (Oura's docs disagree on the lifetime); count it from when the request was sent.
    expiresAt: sentAt + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : 24 * 3600 * 1000),
    scopes: normalizeScopes(typeof b.scope === 'string' ? b.scope : ''),
    role,
  };
}

/** Is a refused refresh final (the user must authorize again), rather than a passing failure? */
export function isRefreshRefused(err: unknown): boolean {
  return err instanceof TokenError && (err.httpStatus === 400 || err.httpStatus === 401);
}

export function isRefreshTokenReused(err: unknown): boolean {
  return refusalKind(err) === 'reused';
}
