/** What Oura posts, and the memory that drops its repeated deliveries. */

export interface OuraEvent {
  event_type: string;
  data_type: string;
  object_id?: string;
  event_time?: string;
  user_id: string;
  [extra: string]: unknown;
}

/** The event when the body has Oura's shape; extra fields are kept. */
export function asEvent(body: unknown): OuraEvent | undefined {
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || Array.isArray(b)) return undefined;
  if (typeof b.event_type !== 'string' || typeof b.data_type !== 'string' || typeof b.user_id !== 'string') return undefined;
  if (b.object_id !== undefined && b.object_id !== null && typeof b.object_id !== 'string') return undefined;
  return b as OuraEvent;
}

export const MAX_EVENTS_PER_PATH = 10_000;
export const MAX_PATHS = 100;

/** Oura retries deliver the same event again: this is what makes two deliveries the same event. */
export function eventKey(e: OuraEvent): string {
  return JSON.stringify([e.user_id, e.event_type, e.data_type, e.object_id ?? null, e.event_time ?? null]);
}

/** Remembers event identities for `windowMs`, at most `max` of them (oldest forgotten first). */
export class RecentEvents {
  private readonly seen = new Map<string, number>();

  constructor(public windowMs: number, private readonly max = MAX_EVENTS_PER_PATH) {}

  /** True when the key was seen within the window; records it otherwise. */
  check(key: string, now: number): boolean {
    this.prune(now);
    const at = this.seen.get(key);
    if (at !== undefined && now - at <= this.windowMs) return true;
    this.seen.delete(key);
    this.seen.set(key, now);
    if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value as string);
    return false;
  }

  /** Lets a delivery go again (it did not reach the flows): the sender's retry must not be a duplicate. */
  forget(key: string): void {
    this.seen.delete(key);
  }

  private prune(now: number): void {
    for (const [k, at] of this.seen) {
      if (now - at <= this.windowMs) break;
      this.seen.delete(k);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}

/**
 * Lives at module level on purpose: a redeploy makes a new node, and an event delivered to the old one must
 * still be a duplicate (a replay) for the new one within Max age.
 */
const memories = new Map<string, RecentEvents>();

/**
 * The replay memory of a webhook path (normalized), with the window of the node that serves it now. At most
 * MAX_PATHS paths are kept, the one used longest ago is forgotten first.
 */
export function recentEventsFor(path: string, windowMs: number): RecentEvents {
  const r = memories.get(path) ?? new RecentEvents(windowMs);
  r.windowMs = windowMs;
  memories.delete(path);
  memories.set(path, r);
  if (memories.size > MAX_PATHS) memories.delete(memories.keys().next().value as string);
  return r;
}
