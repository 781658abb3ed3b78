/**
 * The current authorization server (moi.ouraring.com): OIDC discovery, the consent page, the token endpoint and
 * RFC 7009 revocation, at the paths Oura's discovery document lists.
 */
import type * as http from 'http';
import { applyFault, Faults } from './faults';
import { readBody, redirect, sendHtml, sendJson } from './http';
import { AuthorizePageError, AuthServer, OAuthError, TokenServer } from './oauth';
import { consentPage, errorPage } from './pages';
import { CURRENT_SCOPES } from './scopes';

export const ISSUER_PATH = '/oauth/v2/ext/oauth-anonymous';
export const DISCOVERY_PATH = `${ISSUER_PATH}/.well-known/openid-configuration`;
export const AUTHORIZE_PATH = '/oauth/v2/ext/oauth-authorize';
export const DECISION_PATH = `${AUTHORIZE_PATH}/decision`;
export const TOKEN_PATH = '/oauth/v2/ext/oauth-token';
export const REVOKE_PATH = '/oauth/v2/ext/oauth-revoke';
/** On the API host (api.ouraring.com). */
export const LEGACY_TOKEN_PATH = '/oauth/token';
export const LEGACY_REVOKE_PATH = '/oauth/revoke';
/** cloud.ouraring.com's authorize page; here on the API host. */
export const LEGACY_AUTHORIZE_PATH = '/oauth/authorize';

export interface MoiContext {
  auth: AuthServer;
  faults: Faults;
  now: () => number;
  timers: Set<NodeJS.Timeout>;
  /** This server's own origin, e.g. http://127.0.0.1:8788. */
  origin: () => string;
}

/** What the current server publishes about itself (trimmed to what it serves). */
export function discoveryDocument(origin: string): Record<string, unknown> {
  return {
    issuer: `${origin}${ISSUER_PATH}`,
    authorization_endpoint: `${origin}${AUTHORIZE_PATH}`,
    token_endpoint: `${origin}${TOKEN_PATH}`,
    revocation_endpoint: `${origin}${REVOKE_PATH}`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    revocation_endpoint_auth_methods_supported: ['client_secret_post'],
    code_challenge_methods_supported: ['S256', 'plain'],
    scopes_supported: CURRENT_SCOPES,
  };
}

/** The token endpoint of either server: faults first, so a failed request consumes no code and rotates nothing. */
export async function handleToken(ctx: MoiContext, server: TokenServer, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  const { auth } = ctx;
  auth.stats.tokenRequests++;
  const form = new URLSearchParams(await readBody(req));
  const body = Object.fromEntries(form.entries());
  // Tests read these to check where secrets travel: never keep the secret itself.
  auth.stats.lastTokenRequestBody = body.client_secret !== undefined ? { ...body, client_secret: '***' } : body;
  auth.stats.lastTokenRequestQuery = url.search.replace(/^\?/, '');
  const fault = ctx.faults.take('token');
  if (fault && (await applyFault(fault, req, res, ctx.now, ctx.timers))) return;
  try {
    const answer = auth.token(server, form, url.searchParams, String(req.headers['content-type'] ?? ''), req.headers.authorization);
    sendJson(res, 200, answer, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    sendJson(res, err.status, err.body, { 'Cache-Control': 'no-store' });
  }
}

async function handleAuthorize(ctx: MoiContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  const decision = url.pathname === DECISION_PATH;
  const p = decision ? new URLSearchParams(await readBody(req)) : url.searchParams;
  try {
    const check = ctx.auth.checkAuthorize(p);
    if (!check.ok) return redirect(res, ctx.auth.errorRedirect(check));
    if (!decision) return sendHtml(res, 200, consentPage(check.client.clientId, p, check.scopes, DECISION_PATH));
    const choice = p.get('decision');
    if (choice !== 'accept' && choice !== 'deny') return sendHtml(res, 400, errorPage('Choose Accept or Deny.'));
    return redirect(res, ctx.auth.decide(p, choice === 'accept', p.getAll('grant')));
  } catch (err) {
    if (err instanceof AuthorizePageError) return sendHtml(res, err.status, errorPage(err.message));
    throw err;
  }
}

/** Routes of the current server; false when the path is not one of them. */
export async function routeMoi(ctx: MoiContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path === DISCOVERY_PATH && method === 'GET') {
    const fault = ctx.faults.take('discovery');
    if (fault && (await applyFault(fault, req, res, ctx.now, ctx.timers))) return true;
    sendJson(res, 200, discoveryDocument(ctx.origin()), { 'Cache-Control': 'max-age=3600' });
    return true;
  }
  if ((path === AUTHORIZE_PATH && method === 'GET') || (path === DECISION_PATH && method === 'POST')) {
    await handleAuthorize(ctx, req, res, url);
    return true;
  }
  if (path === TOKEN_PATH) {
    if (method !== 'POST') sendJson(res, 405, { detail: 'Method Not Allowed' }, { Allow: 'POST' });
    else await handleToken(ctx, 'current', req, res, url);
    return true;
  }
  if (path === REVOKE_PATH) {
    if (method !== 'POST') {
      sendJson(res, 405, { detail: 'Method Not Allowed' }, { Allow: 'POST' });
      return true;
    }
    try {
      ctx.auth.revokeRfc7009(new URLSearchParams(await readBody(req)));
      sendJson(res, 200, undefined);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      sendJson(res, err.status, err.body);
    }
    return true;
  }
  return false;
}

/** The legacy OAuth routes on the API host; false when the path is not one of them. */
export async function routeLegacy(ctx: MoiContext, moiOrigin: string, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path === LEGACY_AUTHORIZE_PATH && method === 'GET') {
    // Reported: the old consent URL forwards to the current server and drops the scope parameter.
    const to = new URL(`${moiOrigin}${AUTHORIZE_PATH}`);
    for (const [k, v] of url.searchParams) if (k !== 'scope') to.searchParams.append(k, v);
    redirect(res, to.toString());
    return true;
  }
  if (path === LEGACY_TOKEN_PATH) {
    if (method !== 'POST') sendJson(res, 405, { detail: 'Method Not Allowed' }, { Allow: 'POST' });
    else await handleToken(ctx, 'legacy', req, res, url);
    return true;
  }
  if (path === LEGACY_REVOKE_PATH && (method === 'POST' || method === 'GET')) {
    const form = new URLSearchParams(method === 'POST' ? await readBody(req) : '');
    ctx.auth.revokeLegacy(url.searchParams.get('access_token') ?? form.get('access_token') ?? '');
    sendJson(res, 200, {});
    return true;
  }
  return false;
}
