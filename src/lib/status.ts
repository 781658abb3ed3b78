import { NoAccountError, NotAuthorizedError, OuraError } from './errors';
import { t } from './i18n';
import type { RedNode } from './red';

type Shown = { fill?: string; shape?: string; text?: string } | Record<string, never>;

/** A wait long enough to be worth counting down in the status (shorter ones just say "retrying"). */
export const COUNTDOWN_FROM_MS = 5000;

const countdowns = new WeakMap<RedNode, NodeJS.Timeout>();

function show(node: RedNode, s: Shown): void {
  const t = countdowns.get(node);
  if (t) {
    clearInterval(t);
    countdowns.delete(node);
  }
  node.status(s);
}

function mmss(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Node status in one place, so every node shows the same states the same way. Any new status ends a countdown. */
export const status = {
  fetching(node: RedNode, text = t('oura.status.fetching')): void {
    show(node, { fill: 'blue', shape: 'dot', text });
  },
  /** A retry after `delayMs`: long waits (Oura's Retry-After) count down each second until the retry. */
  retrying(node: RedNode, reason: string, delayMs = 0, now: () => number = Date.now): void {
    if (delayMs < COUNTDOWN_FROM_MS) {
      show(node, { fill: 'yellow', shape: 'ring', text: t('oura.status.retrying', { reason }) });
      return;
    }
    const until = now() + delayMs;
    const tick = () => node.status({ fill: 'yellow', shape: 'ring', text: t('oura.status.retryingIn', { reason, wait: mmss(until - now()) }) });
    show(node, { fill: 'yellow', shape: 'ring', text: t('oura.status.retryingIn', { reason, wait: mmss(delayMs) }) });
    const timer = setInterval(() => {
      if (now() >= until) {
        clearInterval(timer);
        countdowns.delete(node);
        return;
      }
      tick();
    }, 1000);
    timer.unref?.();
    countdowns.set(node, timer);
  },
  /** Done; `unsaved` when the account's newest tokens could not be written to disk (see the log). */
  /** A message waits for something outside Oura (Redis, another Node-RED's renewal). */
  waiting(node: RedNode, why: string): void {
    show(node, { fill: 'yellow', shape: 'ring', text: why });
  },
  done(node: RedNode, text: string, unsaved = false): void {
    show(node, unsaved ? { fill: 'yellow', shape: 'ring', text: t('oura.status.unsaved', { text }) } : { fill: 'green', shape: 'dot', text });
  },
  notAuthorized(node: RedNode): void {
    show(node, { fill: 'yellow', shape: 'ring', text: t('oura.status.notAuthorized') });
  },
  /** Pages fetched so far, and how many of the asked days they cover (when the range is days). */
  progress(node: RedNode, pages: number, days?: { covered: number; total: number }): void {
    const text = days && days.total > 1 ? t('oura.status.pageOfDays', { page: pages, covered: days.covered, total: days.total }) : t('oura.status.page', { page: pages });
    show(node, { fill: 'blue', shape: 'dot', text });
  },
  /** Red for what went wrong; yellow for what the user has yet to set up (no account, not authorized). */
  failed(node: RedNode, err: unknown): void {
    const text = err instanceof OuraError ? err.status : t('oura.status.error');
    const todo = err instanceof NotAuthorizedError || err instanceof NoAccountError;
    show(node, { fill: todo ? 'yellow' : 'red', shape: 'ring', text });
  },
  clear(node: RedNode): void {
    show(node, {});
  },
};

export function timeOfDay(d = new Date()): string {
  return d.toTimeString().slice(0, 5);
}

/** Errors that are not ours (bugs) still reach Catch nodes, without leaking internals. */
export function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(String(err));
}
