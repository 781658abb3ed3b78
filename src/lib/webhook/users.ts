/**
 * Which Oura account node an event belongs to. Subscriptions are the application's: an event names its
 * Oura user, and the account that user authorized (its personal_info id, kept with the tokens) reads the data.
 */
import { getJson } from '../data/api';
import { messageOf } from '../errors';
import type { OuraAccountNode, RED } from '../red';
import * as tokens from '../store/tokens';
import { t } from '../i18n';

/** Asking Oura who an account is: at most this often per account. */
export const LEARN_USER_EVERY_MS = 10 * 60_000;
const askedAt = new Map<string, number>();

/** The deployed account nodes of the application with this Client ID: `own` first. */
export function accountsOf(RED: RED, own: OuraAccountNode | null, clientId: string | undefined): OuraAccountNode[] {
  const out: OuraAccountNode[] = own ? [own] : [];
  RED.nodes.eachNode((n) => {
    if (n.type !== 'oura-account' || n.id === own?.id) return;
    const a = RED.nodes.getNode(n.id) as OuraAccountNode | null;
    if (a?.handle && a.handle.credentials().clientId === clientId) out.push(a);
  });
  return out;
}

const userOf = (a: OuraAccountNode) => tokens.current(a.handle.key)?.user?.id;

/**
 * The account the Oura user authorized. An authorization whose user was not recorded (Oura did not answer
 * personal_info then) is asked once in a while, so its events are not dropped for good.
 */
export async function accountFor(
  candidates: OuraAccountNode[], userId: string, now: number, debug: (m: string) => void,
): Promise<OuraAccountNode | undefined> {
  const hit = candidates.find((a) => userOf(a) === userId);
  if (hit) return hit;
  for (const a of candidates) {
    const rec = tokens.current(a.handle.key);
    if (!rec || rec.reauth || rec.user?.id || now - (askedAt.get(a.handle.key) ?? -Infinity) < LEARN_USER_EVERY_MS) continue;
    askedAt.set(a.handle.key, now);
    try {
      const info = await getJson(a.handle, '/v2/usercollection/personal_info', {}) as { id?: unknown; email?: unknown };
      if (typeof info?.id === 'string') {
        tokens.setUser(a.handle.key, { ...rec.user, id: info.id, ...(typeof info.email === 'string' ? { email: info.email } : {}) }, rec.authorizedAt);
      }
    } catch (err) {
      debug(t('oura.webhook.log.userUnknown', { message: messageOf(err) }));
    }
  }
  return candidates.find((a) => userOf(a) === userId);
}
