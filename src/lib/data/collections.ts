/**
 * What the package knows about each Oura collection: how it is filtered, whether it has single
 * documents, and which scope it needs (the spec does not say; this is what clients observed).
 */
import { t } from '../i18n';

export type RangeKind =
  /** start_date/end_date, documents carry `day`. */
  | 'day'
  /** start_date/end_date, documents carry `start_day`/`end_day`. */
  | 'span'
  /** start_datetime/end_datetime, documents carry `timestamp`. */
  | 'datetime'
  /** No range at all. */
  | 'none';

export interface CollectionInfo {
  /** The path segment, spelled like Oura (vO2_max). */
  name: string;
  range: RangeKind;
  single: boolean;
  /** Any of these scopes grants access. */
  scopes: string[];
  /** personal_info answers a bare object, not an envelope. */
  bare?: boolean;
  latest?: boolean;
}

const C = (name: string, range: RangeKind, scopes: string[], extra: Partial<CollectionInfo> = {}): CollectionInfo => ({
  name, range, scopes, single: true, ...extra,
});

export const COLLECTIONS: readonly CollectionInfo[] = [
  C('daily_activity', 'day', ['daily']),
  C('daily_cardiovascular_age', 'day', ['heart_health']),
  C('daily_readiness', 'day', ['daily']),
  C('daily_resilience', 'day', ['stress']),
  C('daily_sleep', 'day', ['daily']),
  C('daily_spo2', 'day', ['spo2', 'spo2Daily']),
  C('daily_stress', 'day', ['daily']),
  C('enhanced_tag', 'span', ['tag']),
  C('heartrate', 'datetime', ['heartrate'], { single: false, latest: true }),
  C('personal_info', 'none', ['personal', 'email'], { single: false, bare: true }),
  C('rest_mode_period', 'span', ['daily']),
  C('ring_battery_level', 'datetime', ['ring_configuration'], { single: false, latest: true }),
  C('ring_configuration', 'none', ['ring_configuration']),
  C('session', 'day', ['session']),
  C('sleep', 'day', ['daily']),
  C('sleep_time', 'day', ['daily']),
  C('tag', 'day', ['tag']),
  C('vO2_max', 'day', ['heart_health']),
  C('workout', 'day', ['workout']),
];

const byLower = new Map(COLLECTIONS.map((c) => [c.name.toLowerCase(), c]));

/** Case-insensitive: a webhook's `vo2_max` finds `vO2_max`. */
export function findCollection(name: string): CollectionInfo | undefined {
  return byLower.get(String(name).trim().toLowerCase());
}

export function scopeHint(c: CollectionInfo): string {
  return t('oura.errors.scopeHint', { collection: c.name, scopes: c.scopes.map((s) => `"${s}"`).join(` ${t('oura.common.or')} `) });
}
