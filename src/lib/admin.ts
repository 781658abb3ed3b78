import { InputError, OuraError, OuraHttpError } from './errors';
import { buildAuthorizeUrl, normalizeScopes, requestToken } from './oauth';
import * as pendingStore from './pending';
import * as tokens from './tokens';
import { apiUrl } from './endpoints';
import { parseJson, send } from './http';
import type { Handler, RED, Req, Res } from './red';
import { systemTimeZone } from './dates';
import { COLLECTIONS } from './collections';

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

export function statusOf(RED: RED, key: string): AuthStatus {
  const rec = tokens.current(key);
  const deployed = !!RED.nodes.getNode(key);
  if (!rec) return { authorized: false, reauthRequired: false, scopes: [], deployed };
  return {
    authorized: !rec.reauth,
    reauthRequired: !!rec.reauth,
    reason: rec.reauth,
    user: rec.user,
    scopes: rec.scopes,
    expiresAt: rec.expiresAt,
    authorizedAt: rec.authorizedAt,
    deployed,
  };
}

const MAX_BODY = 64 * 1024;

/** Node-RED's admin app parses JSON itself; the test helper's may not, so read the body when needed. */
export async function jsonBody(req: Req): Promise<Record<string, unknown>> {
  if (req.body && typeof req.body === 'object') return req.body as Record<string, unknown>;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new InputError('Request body too large');
    chunks.push(chunk as Buffer);
  }
  const parsed = parseJson(Buffer.concat(chunks).toString('utf8'));
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
}

function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

function isHttpUrl(v: string): boolean {
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

function page(res: Res, status: number, title: string, text: string): void {
  const ok = status < 400;
  res.status(status);
  res.set('Content-Type', 'text/html; charset=utf-8');
  res.set('Cache-Control', 'no-store');
  res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
  res.set('Referrer-Policy', 'no-referrer');
  res.send(`<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#333}h1{color:${ok ? '#2e7d32' : '#c62828'};font-size:1.4em}</style>
</head><body><h1 id="oura-result" data-ok="${ok}">${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`);
}

interface Outcome {
  status: number;
  title: string;
  text: string;
}

/** Finishes an authorization from the parameters Oura redirected with. Shared by the callback and the paste box. */
async function complete(RED: RED, params: Record<string, unknown>, expectedKey?: string): Promise<Outcome> {
  const state = str(params.state);
  // A paste into the wrong account's dialog must not use up the state of the real authorization.
  if (expectedKey && pendingStore.peek(state) && pendingStore.peek(state)!.accountKey !== expectedKey) {
    return { status: 400, title: 'Wrong account', text: 'This address belongs to an authorization of another Oura account node.' };
  }
  const p = pendingStore.take(state);
  if (!p) {
    return {
      status: 400,
      title: 'Authorization link expired or unknown',
      text: 'This authorization was not started here, was already used, or is older than 10 minutes. Click Authorize again in the Oura account node.',
    };
  }
  if (params.error !== undefined) {
    const reason = str(params.error_description) || str(params.error);
    return { status: 400, title: 'Authorization was not granted', text: `Oura said: ${reason}. Nothing was changed; click Authorize again to retry.` };
  }
  const code = str(params.code);
  if (!code) return { status: 400, title: 'No authorization code', text: 'Oura did not send a code. Click Authorize again.' };
  try {
    const set = await requestToken({ grant_type: 'authorization_code', code, redirect_uri: p.redirectUri }, p, p.tokenUrl);
    const deployed = !!RED.nodes.getNode(p.accountKey);
    tokens.saveAuthorization(p.accountKey, set, p.clientId, deployed);
    tokens.setUser(p.accountKey, await whoAmI(set.accessToken));
    const scopes = set.scopes.length ? ` Granted scopes: ${set.scopes.join(', ')}.` : '';
    const deploy = deployed ? '' : ' Deploy the flow to keep it.';
    return { status: 200, title: 'Authorization succeeded', text: `Node-RED can now read your Oura data.${scopes}${deploy} You can close this window.` };
  } catch (err) {
    const message = err instanceof OuraError ? err.message : 'unexpected error';
    return { status: 502, title: 'Authorization failed', text: `${message}. Check the Client ID and Secret and that the Redirect URI registered at Oura is exactly ${p.redirectUri}, then click Authorize again.` };
  }
}

/** Which Oura user authorized (the id needs no scope). Best effort: one attempt, short timeout. */
async function whoAmI(accessToken: string): Promise<{ id?: string; email?: string } | undefined> {
  try {
    const res = await send({
      method: 'GET', url: `${apiUrl()}/v2/usercollection/personal_info`, headers: { Authorization: `Bearer ${accessToken}` }, timeoutMs: 5000,
    });
    const body = res.status === 200 ? (parseJson(res.body) as Record<string, unknown> | undefined) : undefined;
    if (!body) return undefined;
    return { id: typeof body.id === 'string' ? body.id : undefined, email: typeof body.email === 'string' ? body.email : undefined };
  } catch {
    return undefined;
  }
}

/** Answers an admin route's failure: 400 for bad input, 502 for what Oura refused, 500 for our own bugs. */
function fail(res: Res, err: unknown): void {
  if (err instanceof InputError) res.status(400).json({ error: err.message });
  else if (err instanceof OuraHttpError) res.status(502).json({ error: err.message, status: err.httpStatus });
  else if (err instanceof OuraError) res.status(502).json({ error: err.message });
  else res.status(500).json({ error: 'Internal error' });
}

/** An async admin route whose every failure ends in a JSON answer. */
export function wrap(fn: (req: Req, res: Res) => Promise<void>): Handler {
  return (req, res) => {
    fn(req, res).catch((err) => fail(res, err));
  };
}

export function registerAdminRoutes(RED: RED): void {
  const read = RED.auth.needsPermission('oura-account.read');
  const write = RED.auth.needsPermission('oura-account.write');

  RED.httpAdmin.post('/oura/auth/start', write, wrap(async (req, res) => {
    const b = await jsonBody(req);
    const id = str(b.id);
    const clientId = str(b.clientId);
    const redirectUri = str(b.redirectUri);
    if (!id) throw new InputError('Missing account id');
    if (!clientId) throw new InputError('Client ID is empty: copy it from your application on Oura\'s developer site');
    let clientSecret = str(b.clientSecret);
    let tokenUrl = str(b.tokenUrl);
    if (b.useStoredSecret === true) {
      const deployed = RED.nodes.getNode(id) as { type?: string; tokenUrl?: string } | null;
      const stored = deployed?.type === 'oura-account' ? RED.nodes.getCredentials(id)?.clientSecret : undefined;
      clientSecret = typeof stored === 'string' ? stored : '';
      if (!clientSecret) throw new InputError('No Client Secret is stored for this account yet: type it in the Client Secret field');
      // The stored secret only ever goes to the token URL the deployed account names, never one from the request.
      tokenUrl = deployed?.tokenUrl ?? '';
    }
    if (!clientSecret) throw new InputError('Client Secret is empty: copy it from your application on Oura\'s developer site');
    if (!isHttpUrl(redirectUri)) throw new InputError('Redirect URI must be a full http:// or https:// address without a #fragment');
    if (tokenUrl && !isHttpUrl(tokenUrl)) throw new InputError('Token URL must be a full https:// address, or empty for Oura\'s');
    const scopes = normalizeScopes(str(b.scopes)).join(' ');
    const state = pendingStore.create({ accountKey: id, redirectUri, clientId, clientSecret, tokenUrl: tokenUrl || undefined });
    res.json({ authorizeUrl: buildAuthorizeUrl({ clientId, redirectUri, scopes, state }) });
  }));

  // Open on purpose: Oura's redirect carries no Node-RED token. The single-use state protects it.
  RED.httpAdmin.get('/oura/auth/callback', wrap(async (req, res) => {
    const out = await complete(RED, req.query ?? {});
    page(res, out.status, out.title, out.text);
  }));

  RED.httpAdmin.post('/oura/auth/complete', write, wrap(async (req, res) => {
    const b = await jsonBody(req);
    const id = str(b.id);
    let url: URL;
    try {
      url = new URL(str(b.url));
    } catch {
      throw new InputError('Paste the whole address from the browser\'s address bar, starting with http:// or https://');
    }
    const params = Object.fromEntries(url.searchParams.entries());
    if (!params.state) throw new InputError('That address has no state parameter: paste the address Oura redirected to (it contains code= and state=)');
    const out = await complete(RED, params, id || undefined);
    res.status(out.status).json({ ok: out.status < 400, title: out.title, message: out.text, status: id ? statusOf(RED, id) : undefined });
  }));

  RED.httpAdmin.get('/oura/auth/status/:id', read, wrap(async (req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json(statusOf(RED, req.params.id));
  }));

  // What the flow nodes' dialogs show: the runtime's time zone and which scope each collection needs.
  RED.httpAdmin.get('/oura/info', read, (_req, res) => {
    res.json({ timezone: systemTimeZone(), collections: COLLECTIONS.map((c) => ({ name: c.name, scopes: c.scopes, range: c.range, single: c.single, latest: !!c.latest })) });
  });

  RED.httpAdmin.post('/oura/auth/disconnect/:id', write, wrap(async (req, res) => {
    await tokens.forget(req.params.id, true);
    res.json(statusOf(RED, req.params.id));
  }));
}
