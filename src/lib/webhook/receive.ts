/**
 * What one POST to a webhook path comes to. Until the signature proves the body is Oura's, an unknown sender
 * gets nothing more than a read of at most 64 KiB and one HMAC per candidate body.
 */
import { asEvent, eventKey, OuraEvent, RecentEvents } from './events';
import { BodyError, HttpReq, parsedBody, readBody } from './routes';
import { parseTimestamp, signedBodies, verifySignature } from './signature';
import { t } from '../i18n';

export type Verdict =
  | { kind: 'rejected'; code: number; why: string }
  /** The client secret is not known yet: Oura should retry. */
  | { kind: 'unavailable' }
  | { kind: 'duplicate'; event: OuraEvent }
  | { kind: 'accepted'; event: OuraEvent };

export interface Checks {
  secret(): string | undefined;
  /** An older x-oura-timestamp is a replay; 0 turns the check off. */
  maxAgeMs: number;
  /** How far ahead of ours a sender's clock may run. */
  futureSkewMs: number;
  /** The replay memory, asked for only once a signature checked out. */
  recent(): RecentEvents;
  now(): number;
}

function header(req: HttpReq, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const rejected = (code: number, why: string): Verdict => ({ kind: 'rejected', code, why });

export async function checkDelivery(req: HttpReq, c: Checks): Promise<Verdict> {
  let body: { raw?: Buffer; parsed?: unknown };
  try {
    body = await readBody(req);
  } catch (err) {
    if (err instanceof BodyError) return rejected(err.httpStatus, err.httpStatus === 413 ? t('oura.webhook.rejected.tooLarge') : t('oura.webhook.rejected.unreadable'));
    throw err;
  }
  const secret = c.secret();
  if (!secret) return { kind: 'unavailable' };
  const timestamp = header(req, 'x-oura-timestamp');
  const sig = header(req, 'x-oura-signature');
  if (!sig || !timestamp) return rejected(401, t('oura.webhook.rejected.noSignature'));
  if (!verifySignature(secret, timestamp, sig, signedBodies(body))) return rejected(401, t('oura.webhook.rejected.badSignature'));
  const at = parseTimestamp(timestamp);
  const now = c.now();
  if (at === undefined) return rejected(401, t('oura.webhook.rejected.unreadableTimestamp'));
  if (c.maxAgeMs > 0 && now - at > c.maxAgeMs) return rejected(401, t('oura.webhook.rejected.tooOld'));
  if (at - now > c.futureSkewMs) return rejected(401, t('oura.webhook.rejected.future'));
  const event = asEvent(parsedBody(body));
  if (!event) return rejected(400, t('oura.webhook.rejected.notAnEvent'));
  if (c.recent().check(eventKey(event), now)) return { kind: 'duplicate', event };
  return { kind: 'accepted', event };
}
