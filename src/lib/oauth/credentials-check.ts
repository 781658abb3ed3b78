/**
 * "Check credentials": does Oura know this Client ID and Secret, and at which server? Asked before any consent with
 * a `refresh_token` grant for a made-up token, which uses nothing up. Per RFC 6749 a server that authenticated the
 * client answers `invalid_grant` (or `unauthorized_client`), one that did not answers `invalid_client`.
 */
import * as crypto from 'crypto';
import { hostOf } from '../http';
import { messageOf } from '../errors';
import { tokenOverride, TokenRole } from './endpoints';
import { ClientCredentials, refusalKind, requestToken, roleOrder, roleUrl } from './token-requests';
import { t } from '../i18n';

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
    return { server, host, verdict: 'unknown', answer: messageOf(err, t('oura.check.noAnswer')) };
  }
}

/** Asks the configured URL, or the current server and then (unless it accepted) the legacy one. */
export async function checkCredentials(client: ClientCredentials, configuredUrl?: string): Promise<CheckResult> {
  const configured = tokenOverride(configuredUrl);
  if (configured) {
    const a = await ask(client, 'configured', configured);
    const text = a.verdict === 'accepted' ? t('oura.check.configuredAccepted', { host: a.host })
      : a.verdict === 'refused' ? t('oura.check.configuredRefused', { host: a.host })
        : t('oura.check.configuredUnknown', { host: a.host, answer: quote(a.answer) });
    return { outcome: a.verdict === 'accepted' ? 'accepted-configured' : a.verdict, text, servers: [a] };
  }
  const servers: ServerAnswer[] = [];
  for (const role of roleOrder('authorization_code')) {
    const a = await ask(client, role);
    servers.push(a);
    if (a.verdict === 'accepted') {
      const text = role === 'current' ? t('oura.check.currentAccepted') : t('oura.check.legacyAccepted');
      return { outcome: `accepted-${role}`, text, servers };
    }
  }
  if (servers.every((s) => s.verdict === 'refused')) {
    return { outcome: 'refused', text: t('oura.check.bothRefused'), servers };
  }
  const told = servers.map((s) => {
    const server = s.server === 'current' ? t('oura.check.currentServer') : t('oura.check.legacyServer');
    return s.verdict === 'refused' ? t('oura.check.serverRefused', { server }) : t('oura.check.serverSaid', { server, answer: quote(s.answer) });
  });
  return { outcome: 'unknown', text: t('oura.check.unknown', { told: told.join('; ') }), servers };
}

function quote(s: string | undefined): string {
  return `"${(s ?? t('oura.check.nothing')).slice(0, 300)}"`;
}
