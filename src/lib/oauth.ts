import { authorizeUrl, revokeUrl, tokenUrls } from './endpoints';
import { TokenError, NetworkError, OuraError } from './errors';
import { send, parseJson, errorDetail, hostOf } from './http';
import { backoffDelay, timing } from './retry';

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
  /** The token URL that answered (matters when the new-portal fallback was used). */
  readonly tokenUrl: string;
}

export function buildAuthorizeUrl(p: { clientId: string; redirectUri: string; scopes: string; state: string }): string {
  const url = new URL(authorizeUrl());
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', p.clientId);
  url.searchParams.set('redirect_uri', p.redirectUri);
  const scope = normalizeScopes(p.scopes).join(' ');
  // No scope parameter = every scope the app may ask for.
  if (scope) url.searchParams.set('scope', scope);
  url.searchParams.set('state', p.state);
  return url.toString();
}

export function normalizeScopes(scopes: string | string[] | undefined): string[] {
  const list = Array.isArray(scopes) ? scopes : String(scopes ?? '').split(/[\s,]+/);
  const out: string[] = [];
  for (const s of list) {
    const clean = s.trim().replace(/^extapi:/, '');
    if (clean && !out.includes(clean)) out.push(clean);
  }
  return out;
}

type Grant =
  | { grant_type: 'authorization_code'; code: string; redirect_uri: string }
  | { grant_type: 'refresh_token'; refresh_token: string };

/** Connection refused means the request never reached Oura: the only token failure that is safe to retry. */
const TOKEN_RETRIES_ON_REFUSED = 2;

/**
 * POSTs a grant to the token endpoint with the client credentials in the form body (never the URL).
 * Falls back to the new-portal URL after `400 invalid_request` when no URL was configured.
 */
export async function requestToken(grant: Grant, client: ClientCredentials, accountTokenUrl?: string): Promise<TokenSet> {
  const { primary, fallback } = tokenUrls(accountTokenUrl);
  try {
    return await postGrant(primary, grant, client);
  } catch (err) {
    if (fallback && err instanceof TokenError && err.httpStatus === 400 && err.oauthError === 'invalid_request') {
      return postGrant(fallback, grant, client);
    }
    throw err;
  }
}

async function postGrant(url: string, grant: Grant, client: ClientCredentials): Promise<TokenSet> {
  const form: Record<string, string> = { ...grant, client_id: client.clientId, client_secret: client.clientSecret };
  for (let attempt = 0; ; attempt++) {
    const sentAt = timing.now();
    let res;
    try {
      res = await send({ method: 'POST', url, form });
    } catch (err) {
      if (err instanceof NetworkError && err.code === 'ECONNREFUSED' && attempt < TOKEN_RETRIES_ON_REFUSED) {
        await timing.sleep(backoffDelay(attempt));
        continue;
      }
      if (err instanceof NetworkError) {
        const lost = err.code === 'ECONNREFUSED' ? '' : ' If Oura received the request, the authorization may need to be renewed.';
        throw new TokenError(`Oura's token endpoint could not be reached: ${err.message}.${lost}`);
      }
      throw err;
    }
    return parseTokenResponse(res.status, res.body, sentAt, url);
  }
}

function parseTokenResponse(status: number, body: string, sentAt: number, url: string): TokenSet {
  const json = parseJson(body);
  if (status < 200 || status >= 300) {
    const { code, text } = errorDetail(json);
    const why = text ? `: ${text}` : '';
    throw new TokenError(`Oura's token endpoint (${hostOf(url)}) answered ${status}${why}`, status, code);
  }
  const b = (json ?? {}) as Record<string, unknown>;
  if (typeof b.access_token !== 'string' || !b.access_token || typeof b.refresh_token !== 'string' || !b.refresh_token) {
    throw new TokenError(`Oura's token endpoint (${hostOf(url)}) answered without an access and a refresh token`, status);
  }
  const expiresIn = Number(b.expires_in);
  return {
    accessToken: b.access_token,
    refreshToken: b.refresh_token,
    // Trust expires_in (Oura's docs disagree on the lifetime); count it from when the request was sent.
    expiresAt: sentAt + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : 24 * 3600 * 1000),
    scopes: normalizeScopes(typeof b.scope === 'string' ? b.scope : ''),
    tokenUrl: url,
  };
}

/** Is a refused refresh final (the user must authorize again), rather than a passing failure? */
export function isRefreshRefused(err: unknown): boolean {
  return err instanceof TokenError && (err.httpStatus === 400 || err.httpStatus === 401);
}

export function isRefreshTokenReused(err: unknown): boolean {
  return err instanceof OuraError && /already used/i.test(err.message);
}

/** Best-effort revocation, token in a POST body. Never throws. */
export async function revokeToken(token: string): Promise<boolean> {
  try {
    const res = await send({ method: 'POST', url: revokeUrl(), form: { access_token: token }, timeoutMs: 10_000 });
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}
