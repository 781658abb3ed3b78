/**
 * An `oura webhook` node's subscriptions: create the wanted ones (option), renew each before it expires, look again
 * after a failure, and leave them to another Node-RED while it looks after them (shared store). One look at a time;
 * a look asked for meanwhile runs right after.
 */
import type { RedNode } from '../red';
import { t } from '../i18n';
import type { AppCredentials } from './api';
import { maintain, Wanted } from './manager';
import { clock, nextCheck, RETRY_MS, Wakeup } from './schedule';
import { underMaintenanceLock } from './shared';

export interface UpkeepOptions {
  callbackUrl: string;
  wanted: Wanted[];
  app(): AppCredentials | undefined;
  verificationToken(): string;
  /** All is well: the node shows what it shows when listening. */
  showListening(): void;
}

/** Why a look or a removal failed: Oura's sentence, or a timeout's. */
export function reason(err: unknown): string {
  return err instanceof Error ? err.message : t('oura.common.unexpectedError');
}

export class SubscriptionUpkeep {
  private readonly wake = new Wakeup(() => void this.look());
  private looking = false;
  private again = false;
  private closed = false;

  constructor(private readonly node: RedNode, private readonly o: UpkeepOptions) {}

  /** Look now (the dialog changed something, or the node just started). */
  lookNow(): void {
    this.wake.cancel();
    void this.look();
  }

  close(): void {
    this.closed = true;
    this.wake.cancel();
  }

  private async look(): Promise<void> {
    const a = this.o.app();
    if (this.closed || !a) return;
    if (this.looking) {
      this.again = true;
      return;
    }
    this.looking = true;
    const { node } = this;
    const url = this.o.callbackUrl;
    try {
      const out = await underMaintenanceLock(url, () => maintain(
        { app: a, callbackUrl: url, verificationToken: this.o.verificationToken(), alive: () => !this.closed }, this.o.wanted, clock.now(),
      ));
      if (this.closed) return;
      if (out === 'elsewhere') {
        // Another Node-RED sharing the store looks after these subscriptions right now: look again later.
        this.wake.at(clock.now() + RETRY_MS);
        return;
      }
      for (const s of out.created) node.log(t('oura.webhook.log.subscribed', { event: s.event_type, data: s.data_type, url }));
      for (const s of out.moved) node.log(t('oura.webhook.log.moved', { event: s.event_type, data: s.data_type, url }));
      for (const s of out.renewed) node.log(t('oura.webhook.log.renewed', { event: s.event_type, data: s.data_type, until: s.expiration_time }));
      for (const f of out.failed) node.warn(t('oura.webhook.log.subscriptionFailed', { event: f.event_type, data: f.data_type, error: f.error }));
      let next = nextCheck(out.own.map((s) => s.expiration_time), clock.now());
      if (out.failed.length) {
        next = Math.min(next ?? Infinity, clock.now() + RETRY_MS);
        node.status({ fill: 'yellow', shape: 'ring', text: t('oura.status.subscriptionsFailed', { count: out.failed.length }) });
      } else {
        this.o.showListening();
      }
      if (next !== undefined) this.wake.at(next);
    } catch (err) {
      if (this.closed) return;
      node.warn(t('oura.webhook.log.maintainFailed', { reason: reason(err) }));
      node.status({ fill: 'yellow', shape: 'ring', text: t('oura.status.subscriptionsError') });
      this.wake.at(clock.now() + RETRY_MS);
    } finally {
      this.looking = false;
      if (this.again && !this.closed) {
        this.again = false;
        void this.look();
      }
    }
  }
}
