/**
 * When a node looks after its subscriptions again. Renewals are months apart, longer than a Node.js timer
 * can wait (about 24.8 days), so a wake-up is split into steps of at most a day.
 */
export interface WebhookClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real time; tests swap in a fake clock (and the simulator shares it). */
export const clock: WebhookClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

const DAY_MS = 86_400_000;
/** Renew a subscription when less than this is left (Oura's last ~90 days). */
export const RENEW_BEFORE_MS = 7 * DAY_MS;
/** Never look again sooner than this, whatever Oura answers (short-lived subscriptions, repeated failures). */
export const MIN_INTERVAL_MS = 60 * 60_000;
/** After a failure, try again this much later. */
export const RETRY_MS = 15 * 60_000;
const MAX_STEP_MS = DAY_MS;

export function needsRenewal(expirationTime: string, now: number): boolean {
  const t = Date.parse(expirationTime);
  return Number.isNaN(t) || t - now <= RENEW_BEFORE_MS;
}

/** When the earliest of these subscriptions needs renewing, but not before `now + MIN_INTERVAL_MS`. */
export function nextCheck(expirationTimes: string[], now: number): number | undefined {
  let due: number | undefined;
  for (const e of expirationTimes) {
    const t = Date.parse(e);
    if (Number.isNaN(t)) continue;
    const d = t - RENEW_BEFORE_MS;
    if (due === undefined || d < due) due = d;
  }
  return due === undefined ? undefined : Math.max(due, now + MIN_INTERVAL_MS);
}

/** One pending wake-up at an absolute time; `at` replaces it, `cancel` drops it. */
export class Wakeup {
  private handle: unknown;
  private when?: number;

  constructor(private readonly fn: () => void, private readonly c: WebhookClock = clock) {}

  at(time: number): void {
    this.cancel();
    this.when = time;
    this.arm();
  }

  get pending(): number | undefined {
    return this.when;
  }

  private arm(): void {
    const when = this.when;
    if (when === undefined) return;
    const wait = Math.max(0, Math.min(when - this.c.now(), MAX_STEP_MS));
    this.handle = this.c.setTimeout(() => {
      this.handle = undefined;
      if (this.when !== when) return;
      if (this.c.now() < when) return this.arm();
      this.when = undefined;
      this.fn();
    }, wait);
  }

  cancel(): void {
    if (this.handle !== undefined) this.c.clearTimeout(this.handle);
    this.handle = undefined;
    this.when = undefined;
  }
}
