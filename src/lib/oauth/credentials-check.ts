/**
 * "Check credentials": does Oura know this Client ID and Secret, and at which server? Asked before any consent with
 * a `refresh_token` grant for a made-up token, which uses nothing up. Per RFC 6749 a server that authenticated the
 * client answers `invalid_grant` (or `unauthorized_client`), one that did not answers `invalid_client`.
 */
import * as crypto from 'crypto';
import { hostOf } from '../http';
import { OuraError } from '../errors';
import { tokenOverride, TokenRole } from './endpoints';
import { ClientCredentials, refusalKind, requestToken, roleOrder, roleUrl } from './token-requests';

export type Verdict = 'accepted' | 'refused' | 'unknown';

export interface ServerAnswer {
  server: TokenRole | 'configured';
  host: string;
  verdict: Verdict;
  /** Oura's answer, quoted, when it tells neither way. */
  answer?: string;
}

export interface CheckResult {
  /** accepted-current, accepted-legacy, accepted-configured, refused, unknown */
  outcome: string;
  text: string;
  servers: ServerAnswer[];
}

async function ask(client: ClientCredentials, server: ServerAnswer['server'], configuredUrl?: string): Promise<ServerAnswer> {
  const made = crypto.randomBytes(24).toString('base64url');
  const url = server === 'configured' ? configuredUrl as string : await roleUrl(server);
  const host = hostOf(url);
  // One server at a time: falling back between them is this check's own business.
  const target = server === 'configured' ? { configuredUrl } : { role: server, only: true };
  try {
    await requestToken({ grant_type: 'refresh_token', refresh_token: made }, client, target);
    // A made-up token accepted: the server authenticated the client, whatever else it thinks.
    return { server, host, verdict: 'accepted' };
  } catch (err) {
    const kind = refusalKind(err);
    if (kind === 'invalid_grant' || kind === 'unauthorized_client') return { server, host, verdict: 'accepted' };
    if (kind === 'invalid_client') return { server, host, verdict: 'refused' };
    return { server, host, verdict: 'unknown', answer: err instanceof OuraError ? err.message : 'no answer' };
  }
}

/** Asks the configured URL, or the current server and then (unless it accepted) the legacy one. */
export async function checkCredentials(client: ClientCredentials, configuredUrl?: string): Promise<CheckResult> {
  const configured = tokenOverride(configuredUrl);
  if (configured) {
    const a = await ask(client, 'configured', configured);
    const text = a.verdict === 'accepted' ? `Accepted by the configured token URL (${a.host}).`
      : a.verdict === 'refused' ? `Refused by the configured token URL (${a.host}): check the Client ID and Secret.`
        : `Could not tell: the configured token URL (${a.host}) said ${quote(a.answer)}.`;
    return { outcome: a.verdict === 'accepted' ? 'accepted-configured' : a.verdict, text, servers: [a] };
  }
  const servers: ServerAnswer[] = [];
  for (const role of roleOrder('authorization_code')) {
    const a = await ask(client, role);
    servers.push(a);
    if (a.verdict === 'accepted') {
      const text = role === 'current' ? 'Accepted by Oura\'s current server.' : 'Accepted by the legacy server: an app of the old portal. It works as it is; nothing to change.';
      return { outcome: `accepted-${role}`, text, servers };
    }
  }
  if (servers.every((s) => s.verdict === 'refused')) {
    return { outcome: 'refused', text: 'Refused by both of Oura\'s servers: check the Client ID and Secret (copy them again from the developer portal).', servers };
  }
  const told = servers.map((s) => `${s.server === 'current' ? 'the current server' : 'the legacy server'} ${s.verdict === 'refused' ? 'refused it' : `said ${quote(s.answer)}`}`);
  return { outcome: 'unknown', text: `Could not tell: ${told.join('; ')}.`, servers };
}

function quote(s: string | undefined): string {
  return `"${(s ?? 'nothing').slice(0, 300)}"`;
}
