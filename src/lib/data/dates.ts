import { InputError } from '../errors';
import { t } from '../i18n';

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar day written YYYY-MM-DD. */
export function isDay(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DAY_RE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

export function addDays(day: string, n: number): string {
  const m = DAY_RE.exec(day);
  if (!m) throw new Error(`not a day: ${day}`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3] + n)).toISOString().slice(0, 10);
}

/** Whole days from `a` to `b` (YYYY-MM-DD), negative when `b` is before `a`. */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** Node-RED's own time zone (the process's). */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Intl formatters cost far more to make than to use (a year of heart rate reads the day of every page): one per zone. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(kind: 'day' | 'wall', timeZone: string): Intl.DateTimeFormat {
  const key = `${kind} ${timeZone}`;
  let f = formatters.get(key);
  if (!f) {
    f = kind === 'day'
      ? new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
      : new Intl.DateTimeFormat('en-US', {
        timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
      });
    if (formatters.size > 100) formatters.clear();
    formatters.set(key, f);
  }
  return f;
}

/** The calendar day it is at `now` in `timeZone`. */
export function dayIn(timeZone: string, now: Date): string {
  const parts = formatter('day', timeZone).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** Offset of `timeZone` from UTC at instant `at`, in minutes. */
function offsetMinutes(timeZone: string, at: number): number {
  const parts = formatter('wall', timeZone).formatToParts(new Date(at));
  const get = (t: string) => +(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at / 1000) * 1000) / 60000);
}

/** The wall-clock time in `timeZone` at instant `at`, YYYY-MM-DDTHH:MM:SS. */
function wallTime(timeZone: string, at: number): string {
  return new Date(at + offsetMinutes(timeZone, at) * 60000).toISOString().slice(0, 19);
}

/**
 * The first instant of `day` in `timeZone`, as ISO 8601 with that zone's offset: local midnight (e.g.
 * 2026-03-29T00:00:00+01:00), or where a DST change skips midnight (Chile, Cuba) the change itself
 * (2026-09-06T01:00:00-03:00 in America/Santiago).
 */
export function startOfDay(day: string, timeZone: string): string {
  const m = DAY_RE.exec(day);
  if (!m) throw new Error(`not a day: ${day}`);
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3]);
  // Midnight read with each offset in force around it: the earliest reading that falls on `day` begins it. A
  // skipped midnight read with the offset before the change is the change.
  let first = Infinity;
  for (const probe of [wall - 86_400_000, wall, wall + 86_400_000]) {
    const at = wall - offsetMinutes(timeZone, probe) * 60000;
    if (at < first && wallTime(timeZone, at).startsWith(day)) first = at;
  }
  if (first === Infinity) first = wall - offsetMinutes(timeZone, wall) * 60000;
  const off = offsetMinutes(timeZone, first);
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${wallTime(timeZone, first)}${sign}${hh}:${mm}`;
}

export const RANGE_PRESETS = ['last_night', 'today', 'yesterday', 'last_7_days', 'last_30_days', 'custom'] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number];

export interface DayRange {
  start: string;
  end: string;
}

/**
 * The days a preset covers, both included. Oura files a night under the day it ends, so "last night"
 * is today's sleep.
 */
export function presetRange(preset: RangePreset, today: string, custom?: { startDate?: string; endDate?: string }): DayRange {
  switch (preset) {
    case 'today':
    case 'last_night':
      return { start: today, end: today };
    case 'yesterday':
      return { start: addDays(today, -1), end: addDays(today, -1) };
    case 'last_7_days':
      return { start: addDays(today, -6), end: today };
    case 'last_30_days':
      return { start: addDays(today, -29), end: today };
    case 'custom':
      return checkedRange(custom?.startDate, custom?.endDate, t('oura.errors.theNodesStartDate'), t('oura.errors.theNodesEndDate'));
  }
}

/**
 * A day range from two optional days (one alone = that day), both checked before any request.
 */
export function checkedRange(start: unknown, end: unknown, startName = 'msg.start_date', endName = 'msg.end_date'): DayRange {
  const has = (v: unknown) => v !== undefined && v !== null && v !== '';
  if (has(start) && !isDay(start)) throw new InputError(t('oura.errors.notADay', { field: startName, got: describe(start) }));
  if (has(end) && !isDay(end)) throw new InputError(t('oura.errors.notADay', { field: endName, got: describe(end) }));
  const s = (has(start) ? start : end) as string | undefined;
  const e = (has(end) ? end : start) as string | undefined;
  if (!s || !e) throw new InputError(t('oura.errors.noDays', { start: startName, end: endName }));
  if (s > e) throw new InputError(t('oura.errors.daysReversed', { start: startName, startDay: s, end: endName, endDay: e }));
  return { start: s, end: e };
}

function describe(v: unknown): string {
  const text = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? Object.prototype.toString.call(v) : String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
