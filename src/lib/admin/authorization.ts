/**
 * The consent journey: starting an authorization from the dialog (state, PKCE, scopes) and finishing it from Oura's
 * redirect, whether that lands on the callback route or is pasted into the dialog.
 */
import { serverMetadata } from '../oauth/discovery';
import { InputError, messageOf } from '../errors';
import { apiUrl } from '../oauth/endpoints';
import { parseJson, send } from '../http';
import { buildAuthorizeUrl, pkcePair, requestToken } from '../oauth/token-requests';
import * as pendingStore from '../oauth/pending';
import type { OuraAccountNode, RED } from '../red';
import { normalizeScopes, scopesToRequest } from '../oauth/scopes';
import { isHttpUrl, str } from './http';
import * as tokens from '../store/tokens';
import { t } from '../i18n';

/** The deployed oura-account node with this id, if any. */
export function deployedAccount(RED: RED, id: string): OuraAccountNode | undefined {
  const n = id ? (RED.nodes.getNode(id) as OuraAccountNode | null) : null;
  return n && n.type === 'oura-account' ? n : undefined;
}

/**
 * The client the dialog names: its typed secret, or (the dialog shows Node-RED's placeholder) the deployed one. A
 * stored secret only ever goes to the deployed account's Token URL or Oura's own endpoints; a deployed account
 * takes no other Token URL than its deployed one, so a secret cannot be sent elsewhere by changing the field.
 */
export function dialogClient(RED: RED, b: Record<string, unknown>): { id: string; clientId: string; clientSecret: string; tokenUrl?: string } {
  const id = str(b.id);
  const clientId = str(b.clientId);
  if (!id) throw new InputError(t('oura.admin.missingAccountId'));
  if (!clientId) throw new InputError(t('oura.admin.clientIdEmpty'));
  const typedUrl = str(b.tokenUrl);
  if (typedUrl && !isHttpUrl(typedUrl)) throw new InputError(t('oura.admin.tokenUrlInvalid'));
  const deployed = deployedAccount(RED, id);
  if (deployed && typedUrl !== (deployed.tokenUrl ?? '').trim()) {
    throw new InputError(t('oura.admin.tokenUrlNotDeployed'));
  }
  let clientSecret = str(b.clientSecret);
  if (b.useStoredSecret === true) {
    const stored = deployed ? RED.nodes.getCredentials(id)?.clientSecret : undefined;
    clientSecret = typeof stored === 'string' ? stored : '';
    if (!clientSecret) throw new InputError(t('oura.admin.noStoredSecret'));
  }
  if (!clientSecret) throw new InputError(t('oura.admin.clientSecretEmpty'));
  return { id, clientId, clientSecret, tokenUrl: typedUrl || undefined };
}

export interface Started {
  authorizeUrl: string;
  /** Selected scopes the server does not list: not asked for. */
  scopesLeftOut: string[];
}

export async function startAuthorization(RED: RED, b: Record<string, unknown>): Promise<Started> {
  const client = dialogClient(RED, b);
  const redirectUri = str(b.redirectUri);
  if (!isHttpUrl(redirectUri)) throw new InputError(t('oura.admin.redirectUriInvalid'));
  const meta = await serverMetadata();
  const { send: scope, leftOut } = scopesToRequest(normalizeScopes(str(b.scopes)), meta.scopesSupported);
  const pkce = pkcePair();
  const state = await pendingStore.create({
    accountKey: client.id, redirectUri, clientId: client.clientId, clientSecret: client.clientSecret, tokenUrl: client.tokenUrl,
    codeVerifier: pkce.verifier, issuer: meta.issuer,
  });
  const authorizeUrl = await buildAuthorizeUrl({ clientId: client.clientId, redirectUri, scope, state, codeChallenge: pkce.challenge });
  return { authorizeUrl, scopesLeftOut: leftOut };
}

export interface Outcome {
  status: number;
  title: string;
  text: string;
}

/** Finishes an authorization from the parameters Oura redirected with. Shared by the callback and the paste box. */
export async function completeAuthorization(RED: RED, params: Record<string, unknown>, expectedKey?: string): Promise<Outcome> {
  const state = str(params.state);
  // A paste into the wrong account's dialog must not use up the state of the real authorization.
  const peeked = await pendingStore.peek(state);
  if (expectedKey && peeked && peeked.accountKey !== expectedKey) {
    return { status: 400, title: t('oura.admin.wrongAccount.title'), text: t('oura.admin.wrongAccount.text') };
  }
  const p = await pendingStore.take(state);
  if (!p) {
    return { status: 400, title: t('oura.admin.unknownState.title'), text: t('oura.admin.unknownState.text') };
  }
  // RFC 9207: an answer that names another authorization server is not Oura's answer to this request.
  if (params.iss !== undefined && str(params.iss) !== p.issuer) {
    return { status: 400, title: t('oura.admin.otherIssuer.title'), text: t('oura.admin.otherIssuer.text', { issuer: str(params.iss), expected: p.issuer }) };
  }
  if (params.error !== undefined) {
    const reason = str(params.error_description) || str(params.error);
    return { status: 400, title: t('oura.admin.notGranted.title'), text: t('oura.admin.notGranted.text', { reason }) };
  }
  const code = str(params.code);
  if (!code) return { status: 400, title: t('oura.admin.noCode.title'), text: t('oura.admin.noCode.text') };
  try {
    const set = await requestToken({ grant_type: 'authorization_code', code, redirect_uri: p.redirectUri, code_verifier: p.codeVerifier }, p, { configuredUrl: p.tokenUrl });
    const deployed = !!deployedAccount(RED, p.accountKey);
    const record = tokens.saveAuthorization(p.accountKey, set, p.clientId, deployed);
    tokens.setUser(p.accountKey, await whoAmI(set.accessToken), record.authorizedAt);
    const scopes = set.scopes.length ? t('oura.admin.succeeded.scopes', { scopes: set.scopes.join(', ') }) : '';
    const deploy = deployed ? '' : t('oura.admin.succeeded.deploy');
    return { status: 200, title: t('oura.admin.succeeded.title'), text: t('oura.admin.succeeded.text', { scopes, deploy }) };
  } catch (err) {
    const message = messageOf(err);
    return { status: 502, title: t('oura.admin.failed.title'), text: t('oura.admin.failed.text', { message, redirectUri: p.redirectUri }) };
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
