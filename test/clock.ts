/**
 * The calendar the node tests live in, whatever the machine's date, time and zone (scripts/test-dates.js runs the
 * suite at other dates and zones to prove it). The simulator's last day with data is TODAY (support.setUp),
 * messages name days relative to it, and a test that lets a node choose the day itself (a range preset such as
 * "last night") first sets the product's clock.
 */
import { performance } from 'perf_hooks';
import { addDays } from '../src/lib/data/dates';
import { timing } from '../src/lib/retry';

/** The simulator's "today" in every node test. */
export const TODAY = '2026-11-23';

/** TODAY plus `n` days, YYYY-MM-DD. */
export function day(n: number): string {
  return addDays(TODAY, n);
}

/** Noon UTC on TODAY: still TODAY from UTC-11 to UTC+11, so a node in Node-RED's own zone (the machine's) sees TODAY. */
export const NOON = Date.parse(`${TODAY}T12:00:00Z`);

/** A day on which the simulator has a vO2_max document (it has one on about 30% of days; sim/data.ts). */
export const VO2_MAX_DAY = '2026-11-22';

/** A clock that reads `start` now and then runs at real speed, unmoved by changes of the wall clock. */
export function clockFrom(start: number): () => number {
  const t0 = performance.now();
  return () => start + Math.floor(performance.now() - t0);
}

/**
 * Starts the product's clock (timing.now: the day a range preset means, token expiry) at `start`. Set it before
 * authorizing, so that token expiry is counted on the same clock; support.tearDown puts the real clock back.
 */
export function productClockAt(start: number = NOON): void {
  timing.now = clockFrom(start);
}
