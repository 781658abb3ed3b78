/** The account dialog's admin routes (relative to httpAdminRoot): authorize, finish, check, status, disconnect. */
import * as crypto from 'crypto';
import { escapeHtml, jsonBody, mayWrite, sameSiteJson, str, wrap } from './http';
import { completeAuthorization, deployedAccount, dialogClient, startAuthorization } from './authorization';
import { COLLECTIONS } from '../data/collections';
import { checkCredentials } from '../oauth/credentials-check';
import { systemTimeZone } from '../data/dates';
import { InputError } from '../errors';
import type { RED, Res } from '../red';
import * as tokens from '../store/tokens';
import { t } from '../i18n';

/** What the dialog shows: never a token. */
export interface AuthStatus {
  authorized: boolean;
  reauthRequired: boolean;
  reason?: string;
  user?: { id?: string; email?: string };
  scopes: string[];
  expiresAt?: number;
  authorizedAt?: number;
  /** Authorized for this dialog but the node is not deployed yet. */
  deployed: boolean;
}

/** The dialog's view of an account; the Oura user's e-mail address only for editor users who may change accounts. */
export function statusOf(RED: RED, key: string, showEmail = true): AuthStatus {
  const rec = tokens.current(key);
  const deployed = !!deployedAccount(RED, key);
  if (!rec) return { authorized: false, reauthRequired: false, scopes: [], deployed };
  const user = rec.user && !showEmail ? { id: rec.user.id } : rec.user;
  return {
    authorized: !rec.reauth,
    reauthRequired: !!rec.reauth,
    reason: rec.reauth,
    user,
    scopes: rec.scopes,
    expiresAt: rec.expiresAt,
    authorizedAt: rec.authorizedAt,
    deployed,
  };
}

/**
 * After success the consent window closes itself (it was opened by the dialog, which already shows the result). The
 * page's Content-Security-Policy allows exactly this one script, by its hash; where a browser refuses to close the
 * window (it was not opened by a script), the text stays and says so.
 */
export const CLOSE_SCRIPT = 'setTimeout(function () { window.close(); }, 1500);';
export const CLOSE_SCRIPT_HASH = `sha256-${crypto.createHash('sha256').update(CLOSE_SCRIPT).digest('base64')}`;

function page(res: Res, status: number, title: string, text: string): void {
  const ok = status < 400;
  res.status(status);
  res.set('Content-Type', 'text/html; charset=utf-8');
  res.set('Cache-Control', 'no-store');
  res.set('Content-Security-Policy', `default-src 'none'; style-src 'unsafe-inline'${ok ? `; script-src '${CLOSE_SCRIPT_HASH}'` : ''}`);
  res.set('Referrer-Policy', 'no-referrer');
  res.send(`<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#333}h1{color:${ok ? '#2e7d32' : '#c62828'};font-size:1.4em}</style>
</head><body><h1 id="oura-result" data-ok="${ok}">${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>${ok ? `<script>${CLOSE_SCRIPT}</script>` : ''}</body></html>`);
}

const REVOCATION_TEXT = {
  revoked: () => t('oura.admin.disconnected.revoked'),
  failed: () => t('oura.admin.disconnected.failed'),
  skipped: () => t('oura.admin.disconnected.skipped'),
};

export function registerAdminRoutes(RED: RED): void {
  const read = RED.auth.needsPermission('oura-account.read');
  const write = RED.auth.needsPermission('oura-account.write');

  RED.httpAdmin.post('/oura/auth/start', write, sameSiteJson, wrap(async (req, res) => {
    res.json(await startAuthorization(RED, await jsonBody(req)));
  }));

  // Open on purpose: Oura's redirect carries no Node-RED token. The single-use state protects it.
  RED.httpAdmin.get('/oura/auth/callback', wrap(async (req, res) => {
    const out = await completeAuthorization(RED, req.query ?? {});
    page(res, out.status, out.title, out.text);
  }));

  RED.httpAdmin.post('/oura/auth/complete', write, sameSiteJson, wrap(async (req, res) => {
    const b = await jsonBody(req);
    const id = str(b.id);
    let url: URL;
    try {
      url = new URL(str(b.url));
    } catch {
      throw new InputError(t('oura.admin.pasteWholeAddress'));
    }
    const params = Object.fromEntries(url.searchParams.entries());
    if (!params.state) throw new InputError(t('oura.admin.pasteNoState'));
    const out = await completeAuthorization(RED, params, id || undefined);
    res.status(out.status).json({ ok: out.status < 400, title: out.title, message: out.text, status: id ? statusOf(RED, id) : undefined });
  }));

  // Before any consent: does Oura know this Client ID and Secret, and which server? Never runs by itself.
  RED.httpAdmin.post('/oura/auth/check', write, sameSiteJson, wrap(async (req, res) => {
    const client = dialogClient(RED, await jsonBody(req));
    res.json(await checkCredentials(client, client.tokenUrl));
  }));

  RED.httpAdmin.get('/oura/auth/status/:id', read, wrap(async (req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json(statusOf(RED, req.params.id, mayWrite(req)));
  }));

  // What the flow nodes' dialogs show: the runtime's time zone and which scope each collection needs.
  RED.httpAdmin.get('/oura/info', read, (_req, res) => {
    res.json({ timezone: systemTimeZone(), collections: COLLECTIONS.map((c) => ({ name: c.name, scopes: c.scopes, range: c.range, single: c.single, latest: !!c.latest })) });
  });

  RED.httpAdmin.post('/oura/auth/disconnect/:id', write, sameSiteJson, wrap(async (req, res) => {
    const id = req.params.id;
    const account = deployedAccount(RED, id);
    const creds = account?.handle?.credentials();
    const revocation = await tokens.forget(id, { client: creds && creds.clientSecret ? creds : undefined });
    res.json({ ...statusOf(RED, id), revocation, message: REVOCATION_TEXT[revocation]() });
  }));
}
