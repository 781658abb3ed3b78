/**
 * Anyone who finds a webhook's public URL can post to it, as often as they like: a refused request costs at
 * most a debug line, and only a few of those a minute. The node status tells the user the latest reason.
 */
import { t } from '../i18n';

/** Debug lines per window and node; the first line after a quiet spell counts the ones left out. */
export const LOG_LIMIT = 5;
export const LOG_WINDOW_MS = 60_000;
/** Each status goes to every open editor and every Status node: the same reason is shown again only after this. */
export const STATUS_EVERY_MS = 1000;

export class Rejections {
  private windowStart = -Infinity;
  private logged = 0;
  private unlogged = 0;
  private shown: string | undefined;
  private shownAt = -Infinity;

  /** The debug line to write for one rejection, or undefined when this window already had its share. */
  logLine(text: string, now: number): string | undefined {
    if (now - this.windowStart >= LOG_WINDOW_MS || now < this.windowStart) {
      this.windowStart = now;
      this.logged = 0;
    }
    if (this.logged >= LOG_LIMIT) {
      this.unlogged++;
      return undefined;
    }
    this.logged++;
    const left = this.unlogged;
    this.unlogged = 0;
    return left ? t('oura.webhook.log.moreRejected', { text, count: left }) : text;
  }

  /** True when the status should show this reason now. */
  showStatus(why: string, now: number): boolean {
    if (why === this.shown && now - this.shownAt < STATUS_EVERY_MS && now >= this.shownAt) return false;
    this.shown = why;
    this.shownAt = now;
    return true;
  }
}
