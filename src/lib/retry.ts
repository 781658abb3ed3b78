/**
 * When to try a request again and how long to wait. Data calls retry 429 (honouring Retry-After),
 * 5xx and network errors with bounded exponential backoff; token calls only when the request certainly
 * never reached Oura (see oauth.ts).
 */
import { t } from './i18n';

export interface RetryTiming {
  /** First backoff delay; doubled each attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After we wait for (Oura's limit window is 5 minutes); a longer one fails the message with the wait named. */
  maxRetryAfterMs: number;
  /** Retries after the first attempt, per failure kind. */
  maxRetries: number;
  /** How long a request to Oura may take before it counts as lost (a timeout). */
  requestTimeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  /** The package's clock: Retry-After dates, token expiry, authorization states, the day a range preset means. */
  now: () => number;
}

export const timing: RetryTiming = {
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 5 * 60_000,
  maxRetries: 3,
  requestTimeoutMs: 30_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref?.()),
  now: () => Date.now(),
};

/** Exponential backoff with full jitter in its upper half: attempt 0 -> [base/2, base]. */
export function backoffDelay(attempt: number, t: RetryTiming = timing, random: () => number = Math.random): number {
  const ceiling = Math.min(t.maxDelayMs, t.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date. Missing or unreadable -> undefined.
 */
export function parseRetryAfter(value: string | undefined, now: number = timing.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(parseFloat(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** Rejects when `p` has not settled within `ms` (the work itself goes on; its answer is dropped). */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(t('oura.errors.noAnswerWithin', { seconds: ms / 1000 }))), ms);
    timer.unref?.();
    p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    }, (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
