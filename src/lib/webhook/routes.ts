/**
 * The callback routes on Node-RED's HTTP node app (RED.httpNode, mounted at httpNodeRoot).
 *
 * One dispatcher per app serves every `oura webhook` node by path, so a deploy only changes a table:
 * nothing is spliced out of Express's router stack. A path whose node stopped without being deleted
 * (redeploy, "Stop flows") answers 503 (Oura retries) until a node claims it again; a path whose node was deleted answers 410, which makes
 * Oura cancel a subscription that could not be deleted.
 */
import type { IncomingMessage, ServerResponse } from 'http';
import { t } from '../i18n';

export interface HttpReq extends IncomingMessage {
  body?: unknown;
  rawBody?: unknown;
  _body?: boolean;
  path?: string;
  query?: Record<string, unknown>;
}
export type HttpRes = ServerResponse;
export type Endpoint = (req: HttpReq, res: HttpRes) => void;

interface NodeApp {
  use(fn: (req: HttpReq, res: HttpRes, next: () => void) => void): unknown;
}

const MAX_RETIRED = 1000;

export function normalizePath(path: string | undefined): string {
  let p = String(path ?? '').trim().replace(/[?#].*$/, '').replace(/\/{2,}/g, '/');
  if (!p.startsWith('/')) p = `/${p}`;
  if (p.length > 1) p = p.replace(/\/+$/, '');
  return p;
}

/** The address Oura calls: public base URL + httpNodeRoot + the node's path. */
export function callbackUrl(baseUrl: string | undefined, httpNodeRoot: unknown, path: string): string | undefined {
  const base = String(baseUrl ?? '').trim().replace(/\/+$/, '');
  if (!base) return undefined;
  try {
    const u = new URL(base);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  } catch {
    return undefined;
  }
  const root = typeof httpNodeRoot === 'string' ? normalizePath(httpNodeRoot) : '/';
  return `${base}${root === '/' ? '' : root}${normalizePath(path)}`;
}

export function replyJson(res: HttpRes, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

export class WebhookRoutes {
  private readonly live = new Map<string, Endpoint>();
  /** Paths whose node stopped without being deleted (redeploy, "Stop flows", a failed setup): Oura should retry. */
  private readonly parked = new Set<string>();
  private readonly retired = new Set<string>();

  /** Serves `path` with `endpoint`; false when another node already serves it. */
  claim(path: string, endpoint: Endpoint): boolean {
    if (this.live.has(path)) return false;
    this.live.set(path, endpoint);
    this.parked.delete(path);
    this.retired.delete(path);
    return true;
  }

  /** Stops serving `path`: for good when the node was deleted, else until its next instance claims it. */
  release(path: string, endpoint: Endpoint, removed: boolean): void {
    if (this.live.get(path) !== endpoint) return;
    this.live.delete(path);
    if (removed) {
      this.retire(path);
      return;
    }
    // Never 410 here: Oura cancels a subscription on 410, and a stopped flow is not a deleted node.
    this.parked.add(path);
  }

  private retire(path: string): void {
    this.parked.delete(path);
    this.retired.add(path);
    if (this.retired.size > MAX_RETIRED) this.retired.delete(this.retired.values().next().value as string);
  }

  readonly dispatch = (req: HttpReq, res: HttpRes, next: () => void): void => {
    const path = normalizePath(req.path ?? new URL(req.url ?? '/', 'http://x').pathname);
    const endpoint = this.live.get(path);
    if (endpoint) return endpoint(req, res);
    if (this.parked.has(path)) return replyJson(res, 503, { detail: t('oura.webhook.reply.redeploying') }, { 'Retry-After': '30' });
    if (this.retired.has(path)) return replyJson(res, 410, { detail: t('oura.webhook.reply.removed') });
    next();
  };
}

const byApp = new WeakMap<object, WebhookRoutes>();

/** The routes of one HTTP node app; the dispatcher is installed once per app. */
export function routesFor(app: NodeApp): WebhookRoutes {
  let r = byApp.get(app);
  if (!r) {
    r = new WebhookRoutes();
    app.use(r.dispatch);
    byApp.set(app, r);
  }
  return r;
}

export const MAX_BODY = 64 * 1024;

export class BodyError extends Error {
  constructor(readonly httpStatus: number, message: string) {
    super(message);
  }
}

/**
 * The bytes Oura signed, when nobody consumed them yet or a parser kept them (req.rawBody, or a text or raw
 * parser's req.body). A JSON parser installed before this route (httpNodeMiddleware, another package) may
 * leave only its result: then `parsed` is all there is and the caller checks re-serializations instead.
 * Nothing is parsed here: an unknown sender's body is not worth the work before its signature is checked.
 */
export async function readBody(req: HttpReq): Promise<{ raw?: Buffer; parsed?: unknown }> {
  if (req._body === true || req.readableEnded) {
    const kept = req.rawBody;
    const b = req.body;
    if (Buffer.isBuffer(kept)) return { raw: kept };
    if (typeof kept === 'string') return { raw: Buffer.from(kept, 'utf8') };
    if (Buffer.isBuffer(b)) return { raw: b };
    if (typeof b === 'string') return { raw: Buffer.from(b, 'utf8') };
    return { parsed: b };
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY) throw new BodyError(413, t('oura.admin.bodyTooLarge'));
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += c.length;
      if (size > MAX_BODY) throw new BodyError(413, t('oura.admin.bodyTooLarge'));
      chunks.push(c);
    }
  } catch (err) {
    // A sender that hangs up half-way is nobody's error to log.
    throw err instanceof BodyError ? err : new BodyError(400, t('oura.webhook.bodyUnreadable'));
  }
  return { raw: Buffer.concat(chunks) };
}

/** The body as JSON (undefined when it is not JSON): called once its signature is checked. */
export function parsedBody(body: { raw?: Buffer; parsed?: unknown }): unknown {
  if (!body.raw) return body.parsed;
  try {
    return JSON.parse(body.raw.toString('utf8'));
  } catch {
    return undefined;
  }
}
