/**
 * The offline Oura simulator: Oura's OAuth2 server and v2 API on loopback, for the demo and the tests.
 * Speaks the same HTTP as Oura (see shared/oura/API-NOTES.md), plus control routes under /_sim/.
 */
import * as crypto from 'crypto';
import * as http from 'http';
import type { AddressInfo, Socket } from 'net';
import { AuthServer, ALL_SCOPES, OAuthError, SimClient } from './oauth';
import { BY_DAY, END_EXCLUSIVE, SPAN, addDays, batteryLevels, heartrate, personalInfo, ringConfiguration, Doc } from './data';
import { Faults, FaultSpec } from './faults';
import { Webhooks } from './webhooks';

export type { SimClient } from './oauth';
export type { FaultSpec } from './faults';

export interface SimOptions {
  port?: number;
  host?: string;
  clients?: SimClient[];
  accessTokenTtl?: number;
  pageSize?: number;
  heartratePageSize?: number;
  today?: string;
  newPortalOnly?: boolean;
  scopePrefix?: boolean;
  /** The simulator's clock (epoch ms); tests move it to expire codes without waiting. */
  now?: () => number;
}

export interface SimStats {
  tokenRequests: number;
  codeExchanges: number;
  refreshes: number;
  refreshReuse: number;
  dataRequests: number;
  /** Data requests refused for their token (missing, expired, revoked): 401 before any scope check. */
  unauthorized: number;
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

/** Which scopes open a collection, and whether a missing one answers 401 or (newer scopes) 403. */
const SCOPE_OF: Record<string, { any: string[]; status: 401 | 403 }> = {
  daily_activity: { any: ['daily'], status: 401 }, daily_readiness: { any: ['daily'], status: 401 }, daily_sleep: { any: ['daily'], status: 401 },
  sleep: { any: ['daily'], status: 401 }, sleep_time: { any: ['daily'], status: 401 }, daily_stress: { any: ['daily'], status: 401 },
  rest_mode_period: { any: ['daily'], status: 401 }, heartrate: { any: ['heartrate'], status: 401 }, workout: { any: ['workout'], status: 401 },
  session: { any: ['session'], status: 401 }, tag: { any: ['tag'], status: 401 }, enhanced_tag: { any: ['tag'], status: 401 },
  daily_spo2: { any: ['spo2', 'spo2Daily'], status: 403 }, daily_resilience: { any: ['stress'], status: 403 },
  vO2_max: { any: ['heart_health'], status: 403 }, daily_cardiovascular_age: { any: ['heart_health'], status: 403 },
  ring_battery_level: { any: ['ring_configuration'], status: 403 }, ring_configuration: { any: ['ring_configuration'], status: 403 },
};
const DATETIME = new Set(['heartrate', 'ring_battery_level']);
const NO_SINGLE = new Set(['heartrate', 'ring_battery_level', 'personal_info']);
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const HISTORY_DAYS = 400;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function validDay(s: string): boolean {
  return DAY_RE.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;
}

function consentPage(clientId: string, p: URLSearchParams, scopes: string[]): string {
  const hidden = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state']
    .filter((k) => p.has(k))
    .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(p.get(k) ?? '')}">`).join('');
  const boxes = scopes.map((s) => `<label style="display:block"><input type="checkbox" name="grant" value="${escapeHtml(s)}" checked> ${escapeHtml(s)}</label>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Oura simulator – authorize ${escapeHtml(clientId)}</title>
<style>body{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em}button{font-size:1.1em;margin-right:1em;padding:.4em 1.2em}</style></head>
<body><h1>Oura simulator</h1><p><b>${escapeHtml(clientId)}</b> wants to read your Oura data. This is the offline simulator, not Oura.</p>
<form method="post" action="/oauth/authorize/decision">${hidden}<fieldset><legend>Allow access to</legend>${boxes}</fieldset>
<p><button type="submit" name="decision" value="accept">Accept</button><button type="submit" name="decision" value="deny">Deny</button></p></form></body></html>`;
}

function errorPage(message: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Oura simulator – error</title></head><body><h1>Authorization error</h1><p>${escapeHtml(message)}</p></body></html>`;
}

interface Paging {
  offset: number;
  q: string;
}

export async function startSimulator(opts: SimOptions = {}): Promise<Simulator> {
  const now = opts.now ?? (() => Date.now());
  const auth = new AuthServer(opts.clients ?? [DEFAULT_CLIENT], opts.accessTokenTtl ?? 86400, now, !!opts.scopePrefix);
  const faults = new Faults();
  const webhooks = new Webhooks(auth);
  const pageSize = opts.pageSize ?? 50;
  const hrPageSize = opts.heartratePageSize ?? opts.pageSize ?? 720;
  const today = () => opts.today ?? new Date(now()).toISOString().slice(0, 10);
  let dataRequests = 0;
  let unauthorized = 0;
  let byPath: Record<string, number> = {};
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  function pageToken(p: Paging): string {
    const json = JSON.stringify(p);
    const mac = crypto.createHash('sha256').update(`sim-paging:${json}`).digest('base64url').slice(0, 10);
    return Buffer.from(`${json}.${mac}`).toString('base64url');
  }

  function readPageToken(token: string, q: string): number | undefined {
    try {
      const raw = Buffer.from(token, 'base64url').toString('utf8');
      const dot = raw.lastIndexOf('.');
      const json = raw.slice(0, dot);
      const mac = crypto.createHash('sha256').update(`sim-paging:${json}`).digest('base64url').slice(0, 10);
      if (mac !== raw.slice(dot + 1)) return undefined;
      const p = JSON.parse(json) as Paging;
      return p.q === q ? p.offset : undefined;
    } catch {
      return undefined;
    }
  }

  function page(docs: Doc[], q: URLSearchParams, size: number): { data: Doc[]; next_token: string | null } | undefined {
    const rest = new URLSearchParams(q);
    rest.delete('next_token');
    rest.sort();
    const key = rest.toString();
    let offset = 0;
    const token = q.get('next_token');
    if (token) {
      const o = readPageToken(token, key);
      if (o === undefined) return undefined;
      offset = o;
    }
    const fields = (q.get('fields') ?? '').split(',').map((f) => f.trim()).filter(Boolean);
    const slice = docs.slice(offset, offset + size).map((d) => (fields.length ? Object.fromEntries(Object.entries(d).filter(([k]) => fields.includes(k))) : d));
    return { data: slice, next_token: offset + size < docs.length ? pageToken({ offset: offset + size, q: key }) : null };
  }

  function unprocessable(res: http.ServerResponse, field: string, msg: string): void {
    send(res, 422, { detail: [{ loc: ['query', field], msg, type: 'value_error' }] });
  }

  function dayDocs(collection: string, start: string, end: string): Doc[] {
    const gen = BY_DAY[collection];
    const last = today();
    const first = addDays(last, -HISTORY_DAYS);
    const out: Doc[] = [];
    const exclusive = END_EXCLUSIVE.has(collection);
    for (let d = start < first ? first : start; exclusive ? d < end : d <= end; d = addDays(d, 1)) {
      if (d > last) break;
      for (const doc of gen(d)) out.push(doc);
    }
    return out;
  }

  function findDocument(collection: string, id: string): Doc | undefined {
    if (collection === 'ring_configuration') return ringConfiguration().find((d) => d.id === id);
    const gen = BY_DAY[collection];
    if (!gen) return undefined;
    for (let d = today(), i = 0; i <= HISTORY_DAYS; d = addDays(d, -1), i++) {
      const hit = gen(d).find((doc) => doc.id === id);
      if (hit) return hit;
    }
    return undefined;
  }

  function parseInstant(v: string | null): number | undefined | null {
    if (v === null) return undefined;
    // An unescaped '+' in the offset arrives as a space: Oura cannot read that.
    if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) return null;
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }

  function handleData(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const m = /^\/v2\/(?:sandbox\/)?usercollection\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return send(res, 404, { detail: 'Not Found' });
    const collection = m[1];
    const docId = m[2] ? decodeURIComponent(m[2]) : undefined;
    const sandbox = url.pathname.startsWith('/v2/sandbox/');
    const grant = auth.check(req.headers.authorization);
    if (typeof grant === 'string') {
      unauthorized++;
      return send(res, 401, { detail: grant });
    }
    if (collection === 'personal_info') {
      if (docId || sandbox) return send(res, 404, { detail: 'Not Found' });
      return send(res, 200, personalInfo(grant.scopes));
    }
    const need = SCOPE_OF[collection];
    if (!need) return send(res, 404, { detail: 'Not Found' });
    if (!need.any.some((s) => grant.scopes.has(s))) {
      return send(res, need.status, { detail: `Missing scope: ${collection} needs ${need.any.join(' or ')}.` });
    }
    const q = url.searchParams;
    if (docId) {
      if (NO_SINGLE.has(collection)) return send(res, 404, { detail: 'Not Found' });
      const doc = findDocument(collection, docId);
      return doc ? send(res, 200, doc) : send(res, 404, { detail: 'Document not found.' });
    }
    let docs: Doc[];
    let size = pageSize;
    if (DATETIME.has(collection)) {
      const t = now();
      const start = parseInstant(q.get('start_datetime'));
      const end = parseInstant(q.get('end_datetime'));
      if (start === null) return unprocessable(res, 'start_datetime', 'invalid datetime format');
      if (end === null) return unprocessable(res, 'end_datetime', 'invalid datetime format');
      const to = end ?? t;
      const from = start ?? to - 86400_000;
      if (from > to) return send(res, 400, { detail: 'Start time is greater than end time' });
      const gen = collection === 'heartrate' ? heartrate : batteryLevels;
      if (q.get('latest') === 'true') {
        const last = gen(t - 600_000, t, t).slice(-1);
        docs = last;
      } else {
        if (to - from > 31 * 86400_000 && collection === 'ring_battery_level') return send(res, 400, { detail: 'Maximum range is 30 days' });
        docs = gen(from, to + 1, t);
      }
      size = collection === 'heartrate' ? hrPageSize : pageSize;
    } else if (collection === 'ring_configuration') {
      docs = ringConfiguration();
    } else {
      const endQ = q.get('end_date');
      const startQ = q.get('start_date');
      if (endQ !== null && !validDay(endQ)) return unprocessable(res, 'end_date', 'invalid date format');
      if (startQ !== null && !validDay(startQ)) return unprocessable(res, 'start_date', 'invalid date format');
      const end = endQ ?? today();
      const start = startQ ?? addDays(end, -1);
      if (start > end) return unprocessable(res, 'start_date', 'start_date must not be after end_date');
      docs = dayDocs(collection, start, end);
      void SPAN;
    }
    const body = page(docs, q, size);
    if (!body) return send(res, 400, { detail: 'Invalid next_token' });
    send(res, 200, body);
  }

  async function handleToken(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    auth.stats.tokenRequests++;
    const fault = faults.take('token');
    const form = new URLSearchParams(await readBody(req));
    if (fault && (await applyFault(fault, req, res))) return;
    if (opts.newPortalOnly && url.pathname === TOKEN_PATH) {
      return send(res, 400, { error: 'invalid_request', error_description: 'This application must use the new token endpoint.' });
    }
    try {
      send(res, 200, auth.token(form, url.search.replace(/^\?/, '')), { 'Cache-Control': 'no-store' });
    } catch (err) {
      if (err instanceof OAuthError) return send(res, err.status, err.body);
      throw err;
    }
  }

  /** Applies a fault; true when the request is answered (or dropped). 'slow' delays and lets it go on. */
  function applyFault(f: FaultSpec, req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    switch (f.kind) {
      case '429':
        send(res, 429, { detail: 'Too Many Requests' }, { 'Retry-After': f.retryAfter ?? '1', 'X-RateLimit-Limit': '5000', 'X-RateLimit-Window': '300' });
        return Promise.resolve(true);
      case '500':
      case '503':
        send(res, Number(f.kind), { detail: f.kind === '500' ? 'Internal Server Error' : 'Service Unavailable' });
        return Promise.resolve(true);
      case 'garbage':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"data": [{"id": "trunc');
        return Promise.resolve(true);
      case 'drop':
        req.socket.destroy();
        return Promise.resolve(true);
      case 'slow':
        return new Promise((resolve) => {
          const t = setTimeout(() => {
            timers.delete(t);
            resolve(false);
          }, f.delayMs ?? 2000);
          timers.add(t);
        });
    }
  }

  async function handleControl(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const body = req.method === 'POST' ? await readBody(req) : '';
    const json = body ? JSON.parse(body) : undefined;
    switch (`${req.method} ${url.pathname}`) {
      case 'POST /_sim/faults': sim.setFaults(Array.isArray(json) ? json : []); return send(res, 200, { ok: true });
      case 'POST /_sim/expire': sim.expireAccessTokens(); return send(res, 200, { ok: true });
      case 'POST /_sim/revoke-all': sim.revokeAll(); return send(res, 200, { ok: true });
      case 'GET /_sim/stats': return send(res, 200, sim.stats());
      case 'POST /_sim/reset-stats': sim.resetStats(); return send(res, 200, { ok: true });
      case 'GET /_sim/secrets': return send(res, 200, sim.issuedSecrets());
      case 'POST /_sim/clients': sim.addClient(json); return send(res, 200, { ok: true });
      case 'POST /_sim/ttl': sim.setAccessTokenTtl(Number(json?.seconds)); return send(res, 200, { ok: true });
      case 'POST /_sim/consent': return send(res, 200, { location: await sim.consent(json.authorizeUrl, { accept: json.accept !== false, scopes: json.scopes }) });
      case 'POST /_sim/event': return send(res, 200, await sim.sendEvent(json.callbackUrl, json.event, json));
      default: return send(res, 404, { detail: 'Unknown control route' });
    }
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname.startsWith('/_sim/')) return handleControl(req, res, url);
    if (url.pathname === '/oauth/authorize' && req.method === 'GET') {
      try {
        const a = auth.checkAuthorize(url.searchParams);
        return send(res, 200, consentPage(a.client.clientId, url.searchParams, a.scopes));
      } catch (err) {
        return send(res, 400, errorPage((err as Error).message));
      }
    }
    if (url.pathname === '/oauth/authorize/decision' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      try {
        const location = auth.decide(form, form.get('decision') === 'accept', form.getAll('grant'));
        res.writeHead(302, { Location: location, 'Content-Length': 0 });
        return void res.end();
      } catch (err) {
        return send(res, 400, errorPage((err as Error).message));
      }
    }
    if ((url.pathname === TOKEN_PATH || url.pathname === NEW_PORTAL_TOKEN_PATH) && req.method === 'POST') return handleToken(req, res, url);
    if (url.pathname === '/oauth/revoke') {
      const form = new URLSearchParams(req.method === 'POST' ? await readBody(req) : '');
      auth.revoke(form.get('access_token') ?? url.searchParams.get('access_token') ?? '');
      return send(res, 200, {});
    }
    if (url.pathname.startsWith('/v2/webhook/')) return webhooks.handle(req, res, url, await readBody(req));
    if (url.pathname.startsWith('/v2/')) {
      dataRequests++;
      byPath[url.pathname] = (byPath[url.pathname] ?? 0) + 1;
      const fault = faults.take('data');
      if (fault && (await applyFault(fault, req, res))) return;
      return handleData(req, res, url);
    }
    send(res, 404, { detail: 'Not Found' });
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, { detail: `simulator error: ${(err as Error).message}` });
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const base = `http://${opts.host ?? '127.0.0.1'}:${addr.port}`;

  const sim: Simulator = {
    url: base,
    authorizeUrl: `${base}/oauth/authorize`,
    tokenUrl: `${base}${opts.newPortalOnly ? NEW_PORTAL_TOKEN_PATH : TOKEN_PATH}`,
    revokeUrl: `${base}/oauth/revoke`,
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
    addClient: (c) => auth.addClient(c),
    async consent(authorizeUrl, o = {}) {
      const u = new URL(authorizeUrl);
      return auth.decide(u.searchParams, o.accept !== false, o.scopes);
    },
    setFaults: (f) => faults.set(f),
    expireAccessTokens: () => auth.expireAll(),
    revokeAll: () => auth.revokeAll(),
    setAccessTokenTtl: (s) => {
      if (Number.isFinite(s) && s > 0) auth.accessTokenTtl = s;
    },
    stats: () => ({ ...auth.stats, dataRequests, unauthorized, byPath: { ...byPath } }),
    resetStats() {
      auth.stats = { tokenRequests: 0, codeExchanges: 0, refreshes: 0, refreshReuse: 0, revocations: 0 };
      dataRequests = 0;
      unauthorized = 0;
      byPath = {};
    },
    issuedSecrets: () => [...auth.secrets],
    sendEvent: (callbackUrl, event, o = {}) => webhooks.sendEvent(callbackUrl, event, o),
  };
  void ALL_SCOPES;
  return sim;
}
