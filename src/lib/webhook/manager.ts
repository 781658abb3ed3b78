/**
 * Keeps one callback URL's subscriptions in order: creates the wanted ones, renews those about to expire,
 * deletes them all when the node goes away. Oura allows one subscription per event type and data type per
 * application, so a wanted one that points elsewhere (an old path, an old base URL) is moved here.
 */
import { messageOf, OuraHttpError } from '../errors';
import {
  AppCredentials, CancelledError, createSubscription, deleteSubscription, listSubscriptions, renewSubscription, Subscription, updateSubscription,
} from './api';
import { needsRenewal } from './schedule';
import { t } from '../i18n';

export interface Wanted {
  event_type: string;
  data_type: string;
}

export interface Failure extends Wanted {
  error: string;
}

export interface Outcome {
  /** This URL's subscriptions after the work, fresh from Oura's answers. */
  own: Subscription[];
  created: Subscription[];
  moved: Subscription[];
  renewed: Subscription[];
  failed: Failure[];
}

export interface Target {
  app: AppCredentials;
  callbackUrl: string;
  verificationToken: string;
  /** False once the node is closed: the work stops at the next call to Oura. */
  alive?: () => boolean;
}

/** Module level: `maintain` calls its target `t`. */
function noVerificationToken(): string {
  return t('oura.webhook.noVerificationToken');
}

/** Every combination of the given event and data types. */
export function combinations(eventTypes: readonly string[], dataTypes: readonly string[]): Wanted[] {
  return eventTypes.flatMap((event_type) => dataTypes.map((data_type) => ({ event_type, data_type })));
}

/** Makes sure each wanted subscription exists for the target URL (create or move), then renews what is due. */
export async function maintain(t: Target, wanted: Wanted[], now: number, renew = true): Promise<Outcome> {
  const opts = { alive: t.alive };
  let all = await listSubscriptions(t.app, opts);
  const out: Outcome = { own: [], created: [], moved: [], renewed: [], failed: [] };
  const body = (w: Wanted) => ({ callback_url: t.callbackUrl, verification_token: t.verificationToken, event_type: w.event_type, data_type: w.data_type });
  const same = (s: Subscription, w: Wanted) => s.event_type === w.event_type && s.data_type === w.data_type;
  if (wanted.length && !t.verificationToken) {
    for (const w of wanted) out.failed.push({ ...w, error: noVerificationToken() });
    wanted = [];
  }
  for (const w of wanted) {
    const existing = all.filter((s) => same(s, w));
    if (existing.some((s) => s.callback_url === t.callbackUrl)) continue;
    try {
      if (existing.length) {
        const moved = await updateSubscription(t.app, existing[0].id, body(w), opts);
        out.moved.push(moved);
        all = all.map((s) => (s.id === moved.id ? moved : s));
      } else {
        const created = await createSubscription(t.app, body(w), opts);
        out.created.push(created);
        all.push(created);
      }
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      // A create retried after a lost answer finds its own subscription already there.
      if (err instanceof OuraHttpError && err.httpStatus === 409) {
        all = await listSubscriptions(t.app, opts);
        if (all.some((s) => same(s, w) && s.callback_url === t.callbackUrl)) continue;
      }
      out.failed.push({ ...w, error: messageOf(err) });
    }
  }
  for (const s of all.filter((x) => x.callback_url === t.callbackUrl)) {
    if (renew && needsRenewal(s.expiration_time, now)) {
      try {
        const r = await renewSubscription(t.app, s.id, opts);
        out.renewed.push(r);
        out.own.push(r);
        continue;
      } catch (err) {
        if (err instanceof CancelledError) throw err;
        out.failed.push({ event_type: s.event_type, data_type: s.data_type, error: messageOf(err) });
      }
    }
    out.own.push(s);
  }
  return out;
}

/** Deletes every subscription pointing at the URL; returns how many went and what failed. */
export async function removeAll(t: Pick<Target, 'app' | 'callbackUrl'>): Promise<{ deleted: number; failed: Failure[] }> {
  const own = (await listSubscriptions(t.app)).filter((s) => s.callback_url === t.callbackUrl);
  const failed: Failure[] = [];
  let deleted = 0;
  for (const s of own) {
    try {
      await deleteSubscription(t.app, s.id);
      deleted++;
    } catch (err) {
      failed.push({ event_type: s.event_type, data_type: s.data_type, error: messageOf(err) });
    }
  }
  return { deleted, failed };
}
