/**
 * Webhooks when several Node-REDs share the accounts through Redis: Oura may post an event to any replica (a load
 * balancer) and retry it at another, so an event reaches the flows once across all of them; and one replica at a time
 * looks after the application's subscriptions. Without a shared store each Node-RED alone decides.
 */
import { StoreUnavailableError } from '../store/redis-client';
import { sharedStore } from '../store/shared-setup';
import { eventKey, OuraEvent } from './events';

/** Long enough for a fetch of the named document; then the claim lives as long as the replay window. */
const CLAIM_MS = 60_000;
/** A replica that died while looking after the subscriptions delays the others by at most this. */
const MAINTENANCE_LOCK_MS = 120_000;

export type Claim = 'first' | 'duplicate' | 'unavailable';

const nameOf = (path: string, e: OuraEvent) => `webhook:${path}:${eventKey(e)}`;

/** Whether this replica hands the event to its flows; `unavailable` (Redis down): answer 503, Oura retries. */
export async function claimDelivery(path: string, e: OuraEvent): Promise<Claim> {
  const store = sharedStore();
  if (!store) return 'first';
  try {
    return (await store.claim(nameOf(path, e), CLAIM_MS)) ? 'first' : 'duplicate';
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    // A paused Redis may still run the claim once it answers again: undo it (in order, on the same connection),
    // or Oura's retry would find the event claimed by nobody who delivered it.
    void store.dropClaim(nameOf(path, e)).catch(() => undefined);
    return 'unavailable';
  }
}

/** Delivered: the claim lasts the replay window. Failed: let go, so Oura's retry (anywhere) delivers it. */
export async function settleDelivery(path: string, e: OuraEvent, delivered: boolean, windowMs: number): Promise<void> {
  const store = sharedStore();
  if (!store) return;
  try {
    if (delivered) await store.keepClaim(nameOf(path, e), windowMs);
    else await store.dropClaim(nameOf(path, e));
  } catch {
    // Redis went away: the claim expires by itself
  }
}

/** Runs `fn` unless another replica looks after this callback's subscriptions right now. */
export async function underMaintenanceLock<T>(callbackUrl: string, fn: () => Promise<T>): Promise<T | 'elsewhere'> {
  const store = sharedStore();
  if (!store) return fn();
  const lock = await store.tryLock(`webhook-subscriptions:${callbackUrl}`, MAINTENANCE_LOCK_MS);
  if (!lock) return 'elsewhere';
  try {
    return await fn();
  } finally {
    await lock.release().catch(() => undefined);
  }
}
