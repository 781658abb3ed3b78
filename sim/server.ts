/**
 * The offline Oura simulator: Oura as it is today, on loopback, for the demo and the tests. Two origins play Oura's
 * two hosts, so a request sent to the wrong one fails as it would at Oura:
 * - the API host (api.ouraring.com): /v2 data and webhooks, the legacy token and revoke URLs, the old consent URL;
 * - the authorization server (moi.ouraring.com): discovery, consent, token, RFC 7009 revocation.
 * Plus control routes under /_sim/ on the API host. See sim/README.md for what follows which report.
 */
import * as http from 'http';
import type { AddressInfo, Socket } from 'net';
import { routeControl } from './control';
import { applyFault, Faults, FaultSpec } from './faults';
import { readBody, request, sendJson } from './http';
import { AuthServer, emptyOAuthStats, OAuthStats, SimClient } from './oauth';
import {
  AUTHORIZE_PATH, DISCOVERY_PATH, ISSUER_PATH, LEGACY_AUTHORIZE_PATH, LEGACY_REVOKE_PATH, LEGACY_TOKEN_PATH, MoiContext, REVOKE_PATH,
  routeLegacy, routeMoi, TOKEN_PATH,
} from './moi';
import { errorMessage, parseConsentForm } from './pages';
import { UserCollections } from './usercollection';
import { Webhooks } from './webhooks';

export type { SimClient, TokenLogEntry } from './oauth';
export type { FaultSpec } from './faults';

export interface SimOptions {
  /** Port of the API host; 0 = a free port (default). */
  port?: number;
  /** Port of the authorization server; 0 = a free port (default). */
  moiPort?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Registered applications; default DEFAULT_CLIENTS (one of each portal). */
  clients?: SimClient[];
  /** expires_in of issued access tokens, seconds; default 86400. */
  accessTokenTtl?: number;
  /** Documents per page on list routes but heartrate; default 50. */
  pageSize?: number;
  /** Rows per heartrate page; default 720, so that a day of samples is two pages as at Oura (pageSize does not change it). */
  heartratePageSize?: number;
  /** The last day with data, YYYY-MM-DD; default today (UTC) by the simulator's clock. History: 400 days before it. */
  today?: string;
  /** Bare scope names at the current server: granted as extapi:* (`upgrade`, default) or silently not granted (`ignore`). */
  bareScopes?: 'upgrade' | 'ignore';
  /** Refuse redirect URIs on 127.0.0.1 / [::1] (one report); default off. */
  refuseLoopbackIp?: boolean;
  /** The legacy token URL uses up a code it refuses (one report); default off. */
  legacyBurnsCode?: boolean;
  /** heartrate / ring_battery_level: end_datetime excluded instead of included; default included. */
  datetimeEndExclusive?: boolean;
  /** The simulator's clock (epoch ms): tests move it to expire codes and tokens without waiting. */
  now?: () => number;
}

export interface SimStats extends OAuthStats {
  dataRequests: number;
  /** Data requests refused for their token (missing, expired, revoked). */
  unauthorized: number;
  /** Every request but the control routes, by path without query (OAuth paths of both hosts included). */
  byPath: Record<string, number>;
}

export interface Simulator {
  /** The API host's origin (what OURA_API_URL points at). */
  url: string;
  /** The authorization server's origin (what OURA_MOI_URL points at). */
  moiUrl: string;
  issuer: string;
  discoveryUrl: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  legacyAuthorizeUrl: string;
  legacyTokenUrl: string;
  legacyRevokeUrl: string;
  /** The environment that points the package at this simulator: the two hosts, nothing else. */
  env(): { OURA_MOI_URL: string; OURA_API_URL: string };
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
  webhooks(): ReturnType<Webhooks['list']>;
  /** The last day with data (YYYY-MM-DD). */
  today(): string;
}

const DEMO_REDIRECTS = ['http://localhost:1880/oura/auth/callback', 'http://127.0.0.1:1880/oura/auth/callback'];

/** An app of Oura's developer portal (developer.ouraring.com). */
export const DEFAULT_CLIENT: SimClient = { clientId: 'demo-client', clientSecret: 'demo-secret', redirectUris: DEMO_REDIRECTS, portal: 'new' };
/** An app of the old portal (cloud.ouraring.com "API Applications"): only the legacy token URL accepts it. */
export const LEGACY_CLIENT: SimClient = { clientId: 'demo-legacy-client', clientSecret: 'demo-legacy-secret', redirectUris: DEMO_REDIRECTS, portal: 'old' };
export const DEFAULT_CLIENTS = [DEFAULT_CLIENT, LEGACY_CLIENT];

export { AUTHORIZE_PATH, DISCOVERY_PATH, ISSUER_PATH, LEGACY_AUTHORIZE_PATH, LEGACY_REVOKE_PATH, LEGACY_TOKEN_PATH, REVOKE_PATH, TOKEN_PATH };

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void>;

interface Listening {
  origin: string;
  close(): Promise<void>;
}

/** One HTTP server; close() drops idle keep-alive sockets so a finished test does not hang. */
async function listen(port: number, host: string, handler: Handler): Promise<Listening> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    handler(req, res, new URL(req.url ?? '/', 'http://sim')).catch((err) => {
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
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

export async function startSimulator(opts: SimOptions = {}): Promise<Simulator> {
  const now = opts.now ?? (() => Date.now());
  const host = opts.host ?? '127.0.0.1';
  if (opts.today !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.today)) throw new Error('today must be YYYY-MM-DD');
  let moiOrigin = '';
  const auth = new AuthServer(opts.clients ?? DEFAULT_CLIENTS, {
    accessTokenTtl: opts.accessTokenTtl ?? 86400,
    now,
    get issuer() {
      return `${moiOrigin}${ISSUER_PATH}`;
    },
    bareScopes: opts.bareScopes,
    refuseLoopbackIp: opts.refuseLoopbackIp,
    legacyBurnsCode: opts.legacyBurnsCode,
  });
  const faults = new Faults();
  const webhooks = new Webhooks(auth, now);
  const today = () => opts.today ?? new Date(now()).toISOString().slice(0, 10);
  const data = new UserCollections({
    now,
    today,
    pageSize: opts.pageSize ?? 50,
    heartratePageSize: opts.heartratePageSize ?? 720,
    datetimeEndExclusive: !!opts.datetimeEndExclusive,
  });
  let dataRequests = 0;
  let unauthorized = 0;
  let byPath: Record<string, number> = {};
  const timers = new Set<NodeJS.Timeout>();
  const ctx: MoiContext = { auth, faults, now, timers, origin: () => moiOrigin };

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

  const count = (path: string) => {
    byPath[path] = (byPath[path] ?? 0) + 1;
  };

  const moi = await listen(opts.moiPort ?? 0, host, async (req, res, url) => {
    count(url.pathname);
    if (!(await routeMoi(ctx, req, res, url))) sendJson(res, 404, { detail: 'Not Found' });
  });
  moiOrigin = moi.origin;

  const api = await listen(opts.port ?? 0, host, async (req, res, url) => {
    if (url.pathname.startsWith('/_sim/')) return routeControl(sim, req, res, url);
    count(url.pathname);
    if (await routeLegacy(ctx, moiOrigin, req, res, url)) return;
    if (url.pathname.startsWith('/v2/')) return handleData(req, res, url);
    sendJson(res, 404, { detail: 'Not Found' });
  });

  const sim: Simulator = {
    url: api.origin,
    moiUrl: moi.origin,
    issuer: auth.issuer,
    discoveryUrl: `${moi.origin}${DISCOVERY_PATH}`,
    authorizeUrl: `${moi.origin}${AUTHORIZE_PATH}`,
    tokenUrl: `${moi.origin}${TOKEN_PATH}`,
    revokeUrl: `${moi.origin}${REVOKE_PATH}`,
    legacyAuthorizeUrl: `${api.origin}${LEGACY_AUTHORIZE_PATH}`,
    legacyTokenUrl: `${api.origin}${LEGACY_TOKEN_PATH}`,
    legacyRevokeUrl: `${api.origin}${LEGACY_REVOKE_PATH}`,
    env: () => ({ OURA_MOI_URL: moi.origin, OURA_API_URL: api.origin }),
    async close() {
      // Pending 'slow' faults must not hold the close.
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all([api.close(), moi.close()]);
    },
    addClient: (c) => auth.addClient(c),
    async consent(authorizeUrl, o = {}) {
      // What the user's browser does: follow redirects to the consent page, untick what the user refuses, press a button.
      let page = await request(authorizeUrl);
      let at = authorizeUrl;
      for (let hops = 0; page.status === 302 && hops < 3; hops++) {
        const next = new URL(String(page.headers.location), at).toString();
        // A redirect back to the client (an error) ends the journey, as in a browser.
        if (!next.startsWith(moi.origin)) return next;
        at = next;
        page = await request(at);
      }
      if (page.status !== 200) throw new Error(errorMessage(page.body));
      const form = parseConsentForm(page.body);
      const body = new URLSearchParams(form.hidden);
      for (const s of form.scopes) if (!o.scopes || o.scopes.some((x) => x === s || `extapi:${x}` === s)) body.append('grant', s);
      body.set('decision', o.accept === false ? 'deny' : 'accept');
      const answer = await request(new URL(form.action, at).toString(), {
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
    stats: () => ({ ...auth.stats, tokenLog: [...auth.stats.tokenLog], revocationLog: [...auth.stats.revocationLog], dataRequests, unauthorized, byPath: { ...byPath } }),
    resetStats() {
      auth.stats = emptyOAuthStats();
      dataRequests = 0;
      unauthorized = 0;
      byPath = {};
    },
    issuedSecrets: () => [...new Set(auth.secrets)],
    sendEvent: (callbackUrl, event, o = {}) => webhooks.sendEvent(callbackUrl, event, o),
    webhooks: () => webhooks.list(),
    today,
  };
  return sim;
}
