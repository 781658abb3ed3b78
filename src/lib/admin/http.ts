/** Plumbing shared by the package's admin routes: bodies, answers, failures. */
import { InputError, OuraError, OuraHttpError } from '../errors';
import { parseJson } from '../http';
import type { Handler, Req, Res } from '../red';
import { t } from '../i18n';

const MAX_BODY = 64 * 1024;

/** Node-RED's admin app parses JSON itself; the test helper's may not, so read the body when needed. */
export async function jsonBody(req: Req): Promise<Record<string, unknown>> {
  if (req.body && typeof req.body === 'object') return req.body as Record<string, unknown>;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new InputError(t('oura.admin.bodyTooLarge'));
    chunks.push(chunk as Buffer);
  }
  const parsed = parseJson(Buffer.concat(chunks).toString('utf8'));
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

export function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.hash;
  } catch {
    return false;
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Answers an admin route's failure: 400 for bad input, 502 for what Oura refused, 500 for our own bugs. */
function fail(res: Res, err: unknown): void {
  if (res.headersSent) return;
  if (err instanceof InputError) res.status(400).json({ error: err.message });
  else if (err instanceof OuraHttpError) res.status(502).json({ error: err.message, status: err.httpStatus });
  else if (err instanceof OuraError) res.status(502).json({ error: err.message });
  else res.status(500).json({ error: t('oura.admin.internalError') });
}

/** An async admin route whose every failure ends in a JSON answer. */
export function wrap(fn: (req: Req, res: Res) => Promise<void>): Handler {
  return (req, res) => {
    fn(req, res).catch((err) => fail(res, err));
  };
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

function header(req: Req, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Why a state-changing request must be refused as a cross-site forgery, or undefined when it may go on. Only a
 * positive signal refuses: browsers send no `Sec-Fetch-Site` to plain http on a LAN address, and proxies rewrite
 * `Host`, so a missing header is never a reason.
 */
export function crossSiteReason(headers: { 'sec-fetch-site'?: string; origin?: string; host?: string; 'x-forwarded-host'?: string }): string | undefined {
  const site = (headers['sec-fetch-site'] ?? '').toLowerCase();
  if (site === 'cross-site' || site === 'same-site') return t('oura.admin.crossSite.fetchSite', { site });
  const origin = headers.origin;
  if (origin === undefined || origin === '') return undefined;
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return t('oura.admin.crossSite.opaque');
  }
  const hosts = [headers.host, ...(headers['x-forwarded-host'] ?? '').split(',')].map((h) => (h ?? '').trim().toLowerCase()).filter(Boolean);
  return hosts.includes(originHost) ? undefined : t('oura.admin.crossSite.origin', { origin: originHost });
}

/**
 * For every state-changing admin route but the OAuth callback, after Node-RED's permission check: JSON only (a plain
 * HTML form on another web site cannot send it), and no request a browser marks as cross-site. With adminAuth off
 * (the default, and Home Assistant's add-on) this is what stops another site from disconnecting the account.
 */
export const sameSiteJson: Handler = (req, res, next) => {
  const why = crossSiteReason({
    'sec-fetch-site': header(req, 'sec-fetch-site'), origin: header(req, 'origin'), host: header(req, 'host'), 'x-forwarded-host': header(req, 'x-forwarded-host'),
  });
  if (why) {
    res.status(403).json({ error: t('oura.admin.crossSite.refused', { why }) });
    return;
  }
  if (!JSON_TYPE.test(header(req, 'content-type') ?? '')) {
    res.status(415).json({ error: t('oura.admin.jsonOnly') });
    return;
  }
  next?.();
};

/** Node-RED's scope rules: `*`, the permission itself, or `write` / `*.write` for any write permission. */
function grants(scope: unknown, permission: string): boolean {
  if (Array.isArray(scope)) return scope.some((s) => grants(s, permission));
  if (scope === '*' || scope === permission) return true;
  const kind = permission.endsWith('.write') ? 'write' : permission.endsWith('.read') ? 'read' : undefined;
  return !!kind && (scope === kind || scope === `*.${kind}`);
}

/** Whether the editor user may change Oura accounts: everybody when adminAuth is off (no `req.user`). */
export function mayWrite(req: Req): boolean {
  const user = (req as Req & { user?: { permissions?: unknown } }).user;
  return !user || grants(user.permissions, 'oura-account.write');
}
