/**
 * The offline Oura simulator: Oura's OAuth2 server and v2 API on loopback, for the demo and the tests.
 * Speaks the same HTTP as Oura (see shared/oura/API-NOTES.md), plus control routes under /_sim/.
 */
import * as http from 'http';
import type { AddressInfo, Socket } from 'net';
import { applyFault, checkFaults, Faults, FaultSpec } from './faults';
import { readBody, redirect, request, sendHtml, sendJson } from './http';
import { AuthorizePageError, AuthServer, emptyOAuthStats, OAuthError, SimClient } from './oauth';
import { consentPage, DECISION_PATH, errorMessage, errorPage, parseConsentForm } from './pages';
import { UserCollections } from './usercollection';
import { Webhooks } from './webhooks';

export type { SimClient } from './oauth';
export type { FaultSpec } from './faults';

export interface SimOptions {
  /** 0 = a free port (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Registered applications; default DEFAULT_CLIENT. */
  clients?: SimClient[];
  /** expires_in of issued access tokens, seconds; default 86400. */
  accessTokenTtl?: number;
  /** Documents per page on list routes but heartrate; default 50. */
  pageSize?: number;
  /** Rows per heartrate page; default 720, so that a day of samples is two pages as at Oura (pageSize does not change it). */
  heartratePageSize?: number;
  /** The last day with data, YYYY-MM-DD; default today (UTC) by the simulator's clock. History: 400 days before it. */
  today?: string;
  /** Where the token endpoint lives; default '/oauth/token'. '/oauth/v2/ext/oauth-token' always works too. */
  tokenPath?: string;
  /** Like an app from Oura's newer developer portal: tokenPath answers 400 invalid_request, only the new-portal path works. */
  newPortalOnly?: boolean;
  /** Granted scopes in token responses carry the `extapi:` prefix some Oura deployments send. */
  scopePrefix?: boolean;
  /** The simulator's clock (epoch ms): tests move it to expire codes and tokens without waiting. */
  now?: () => number;
}

export interface SimStats {
  tokenRequests: number;
  codeExchanges: number;
  refreshes: number;
  refreshReuse: number;
  dataRequests: number;
  /** Data requests refused for their token (missing, expired, revoked). */
  unauthorized: number;
  /** Every request but the control routes, by path without query (OAuth paths included). */
  byPath: Record<string, number>;
  lastTokenRequestBody?: Record<string, string>;
  lastTokenRequestQuery?: string;
  revocations: number;
}

export interface Simulator {
  url: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  close(): Promise<void>;
  addClient(c: SimClient): void;
  consent(authorizeUrl: string, opts?: { accept?: boolean; scopes?: string[] }): Promise<string>;
  setFaults(f: FaultSpec[]): void;
  expireAccessTokens(): void;
  revokeAll(): void;
  setAccessTokenTtl(seconds: number): void;
  stats(): SimStats;
  resetStats(): void;
  issuedSecrets(): string[];
  sendEvent(callbackUrl: string, event: object, opts?: { secret?: string; timestamp?: string }): Promise<{ status: number; body: string }>;
}

export const DEFAULT_CLIENT: SimClient = {
  clientId: 'demo-client',
  clientSecret: 'demo-secret',
  redirectUris: ['http://127.0.0.1:1880/oura/auth/callback', 'http://localhost:1880/oura/auth/callback'],
};

export const TOKEN_PATH = '/oauth/token';
export const NEW_PORTAL_TOKEN_PATH = '/oauth/v2/ext/oauth-token';
export const REVOKE_PATH = '/oauth/revoke';
export const AUTHORIZE_PATH = '/oauth/authorize';

class ControlError extends Error {}

function parseJson(text: string): any {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ControlError('the body is not valid JSON');
  }
}

export async function startSimulator(opts: SimOptions = {}): Promise<Simulator> {
  const now = opts.now ?? (() => Date.now());
  const host = opts.host ?? '127.0.0.1';
  const tokenPath = opts.tokenPath ?? TOKEN_PATH;
  if (!tokenPath.startsWith('/')) throw new Error('tokenPath must start with /');
  if (opts.today !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.today)) throw new Error('today must be YYYY-MM-DD');
  const auth = new AuthServer(opts.clients ?? [DEFAULT_CLIENT], opts.accessTokenTtl ?? 86400, now, !!opts.scopePrefix);
  const faults = new Faults();
  const webhooks = new Webhooks(auth, now);
  const data = new UserCollections({
    now,
    today: () => opts.today ?? new Date(now()).toISOString().slice(0, 10),
    pageSize: opts.pageSize ?? 50,
    heartratePageSize: opts.heartratePageSize ?? 720,
  });
  let dataRequests = 0;
  let unauthorized = 0;
  let byPath: Record<string, number> = {};
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  async function handleToken(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    auth.stats.tokenRequests++;
    const form = new URLSearchParams(await readBody(req));
    const body = Object.fromEntries(form.entries());
    // Tests read these to check where secrets travel: never keep the secret itself.
    auth.stats.lastTokenRequestBody = body.client_secret !== undefined ? { ...body, client_secret: '***' } : body;
    auth.stats.lastTokenRequestQuery = url.search.replace(/^\?/, '');
    const fault = faults.take('token');
    if (fault && (await applyFault(fault, req, res, now, timers))) return;
    if (opts.newPortalOnly && url.pathname !== NEW_PORTAL_TOKEN_PATH) {
      return sendJson(res, 400, { error: 'invalid_request', error_description: `This application was registered on the new developer portal: use ${NEW_PORTAL_TOKEN_PATH}.` });
    }
    try {
      sendJson(res, 200, auth.token(form, url.searchParams, String(req.headers['content-type'] ?? ''), req.headers.authorization), { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      sendJson(res, err.status, err.body, { 'Cache-Control': 'no-store' });
    }
  }

  async function handleAuthorize(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const decision = url.pathname === DECISION_PATH;
    const p = decision ? new URLSearchParams(await readBody(req)) : url.searchParams;
    try {
      const check = auth.checkAuthorize(p);
      if (!check.ok) return redirect(res, auth.errorRedirect(check));
      if (!decision) return sendHtml(res, 200, consentPage(check.client.clientId, p, check.scopes));
      const choice = p.get('decision');
      if (choice !== 'accept' && choice !== 'deny') return sendHtml(res, 400, errorPage('Choose Accept or Deny.'));
      return redirect(res, auth.decide(p, choice === 'accept', p.getAll('grant')));
    } catch (err) {
      if (err instanceof AuthorizePageError) return sendHtml(res, 400, errorPage(err.message));
      throw err;
    }
  }

  async function handleData(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    dataRequests++;
    if (url.pathname.startsWith('/v2/webhook/')) return webhooks.handle(req, res, url, await readBody(req));
    const fault = faults.take('data');
    if (fault && (await applyFault(fault, req, res, now, timers))) return;
    if (!UserCollections.parse(url.pathname)) return sendJson(res, 404, { detail: 'Not Found' });
    if (req.method !== 'GET') return sendJson(res, 405, { detail: 'Method Not Allowed' });
    const grant = auth.check(req.headers.authorization);
    if (typeof grant === 'string') {
      unauthorized++;
      return sendJson(res, 401, { detail: grant }, { 'WWW-Authenticate': 'Bearer' });
    }
    data.handle(res, url, grant);
  }

  async function handleControl(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const json = parseJson(req.method === 'POST' ? await readBody(req) : '');
    const ok = () => sendJson(res, 200, { ok: true });
    switch (`${req.method} ${url.pathname}`) {
      case 'POST /_sim/faults':
        sim.setFaults(checkFaults(json));
        return ok();
      case 'POST /_sim/expire':
        sim.expireAccessTokens();
        return ok();
      case 'POST /_sim/revoke-all':
        sim.revokeAll();
        return ok();
      case 'GET /_sim/stats':
        return sendJson(res, 200, sim.stats());
      case 'POST /_sim/reset-stats':
        sim.resetStats();
        return ok();
      case 'GET /_sim/secrets':
        return sendJson(res, 200, sim.issuedSecrets());
      case 'POST /_sim/clients':
        sim.addClient(json);
        return ok();
      case 'POST /_sim/ttl':
        sim.setAccessTokenTtl(Number(json?.seconds));
        return ok();
      case 'POST /_sim/consent':
        if (typeof json?.authorizeUrl !== 'string') throw new ControlError('authorizeUrl is required');
        return sendJson(res, 200, { location: await sim.consent(json.authorizeUrl, { accept: json.accept !== false, scopes: json.scopes }) });
      case 'POST /_sim/event':
        if (typeof json?.callbackUrl !== 'string' || typeof json.event !== 'object') throw new ControlError('callbackUrl and event are required');
        return sendJson(res, 200, await sim.sendEvent(json.callbackUrl, json.event, { secret: json.secret, timestamp: json.timestamp }));
      case 'GET /_sim/webhooks':
        return sendJson(res, 200, webhooks.list());
      default:
        return sendJson(res, 404, { detail: 'Unknown control route' });
    }
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    if (path.startsWith('/_sim/')) {
      try {
        return await handleControl(req, res, url);
      } catch (err) {
        return sendJson(res, 400, { error: (err as Error).message });
      }
    }
    byPath[path] = (byPath[path] ?? 0) + 1;
    if ((path === AUTHORIZE_PATH && req.method === 'GET') || (path === DECISION_PATH && req.method === 'POST')) return handleAuthorize(req, res, url);
    if (path === tokenPath || path === NEW_PORTAL_TOKEN_PATH) {
      if (req.method !== 'POST') return sendJson(res, 405, { detail: 'Method Not Allowed' }, { Allow: 'POST' });
      return handleToken(req, res, url);
    }
    if (path === REVOKE_PATH && (req.method === 'POST' || req.method === 'GET')) {
      const form = new URLSearchParams(req.method === 'POST' ? await readBody(req) : '');
      const token = form.get('access_token') ?? form.get('token') ?? url.searchParams.get('access_token') ?? url.searchParams.get('token') ?? '';
      auth.revoke(token);
      return sendJson(res, 200, {});
    }
    if (path.startsWith('/v2/')) return handleData(req, res, url);
    sendJson(res, 404, { detail: 'Not Found' });
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { detail: `simulator error: ${(err as Error).message}` });
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  let closing: Promise<void> | undefined;

  const sim: Simulator = {
    url: base,
    authorizeUrl: `${base}${AUTHORIZE_PATH}`,
    tokenUrl: `${base}${opts.newPortalOnly ? NEW_PORTAL_TOKEN_PATH : tokenPath}`,
    revokeUrl: `${base}${REVOKE_PATH}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        // Pending 'slow' faults and idle keep-alive sockets must not hold the close.
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
    addClient: (c) => auth.addClient(c),
    async consent(authorizeUrl, o = {}) {
      // What the user's browser does: load the page, untick what the user refuses, press a button.
      const page = await request(authorizeUrl);
      if (page.status === 302) return String(page.headers.location);
      if (page.status !== 200) throw new Error(errorMessage(page.body));
      const form = parseConsentForm(page.body);
      const body = new URLSearchParams(form.hidden);
      for (const s of form.scopes) if (!o.scopes || o.scopes.includes(s)) body.append('grant', s);
      body.set('decision', o.accept === false ? 'deny' : 'accept');
      const answer = await request(new URL(form.action, authorizeUrl).toString(), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
      });
      if (answer.status !== 302) throw new Error(errorMessage(answer.body));
      return String(answer.headers.location);
    },
    setFaults: (f) => faults.set(f),
    expireAccessTokens: () => auth.expireAll(),
    revokeAll: () => auth.revokeAll(),
    setAccessTokenTtl(seconds) {
      if (!(Number.isFinite(seconds) && seconds > 0)) throw new Error('the token lifetime must be a positive number of seconds');
      auth.accessTokenTtl = seconds;
    },
    stats: () => ({ ...auth.stats, dataRequests, unauthorized, byPath: { ...byPath } }),
    resetStats() {
      auth.stats = emptyOAuthStats();
      dataRequests = 0;
      unauthorized = 0;
      byPath = {};
    },
    issuedSecrets: () => [...new Set(auth.secrets)],
    sendEvent: (callbackUrl, event, o = {}) => webhooks.sendEvent(callbackUrl, event, o),
  };
  return sim;
}
