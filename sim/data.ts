/**
 * Plausible, deterministic data for one made-up sleeper living at UTC+01:00: one main sleep a night,
 * naps on some days, scores that move with the sleep, heart rate every 72 seconds. Every generator
 * returns documents in the shapes of Oura's OpenAPI 1.37 (checked by test/simulator.test.ts).
 */
import { between, intBetween, rng, stableId } from './random';

export const OFFSET = '+01:00';
const OFFSET_MS = 3600_000;
export type Doc = Record<string, unknown>;

export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Local wall-clock time (UTC+01:00) as Oura writes it. */
export function local(ms: number): string {
  return `${new Date(ms + OFFSET_MS).toISOString().slice(0, 19)}.000${OFFSET}`;
}

export function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+00:00`;
}

/** Epoch ms of local midnight starting `day`. */
export function localMidnight(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) - OFFSET_MS;
}

function sample(r: () => number, start: number, n: number, interval: number, lo: number, hi: number): Doc {
  return {
    interval,
    items: Array.from({ length: n }, () => (r() < 0.05 ? null : Math.round(between(r, lo, hi) * 10) / 10)),
    timestamp: local(start),
  };
}

function phases(r: () => number, n: number, alphabet: string): string {
  return Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
}

interface Night {
  start: number;
  end: number;
  total: number;
  deep: number;
  rem: number;
  light: number;
  awake: number;
  efficiency: number;
  latency: number;
  hr: number;
  hrv: number;
  score: number;
}

/** The main sleep ending on `day`: everything else about the day derives from it. */
export function night(day: string): Night {
  const r = rng(`night:${day}`);
  // Bedtime between 22:30 and 00:30 local, so some nights start on the day they are filed under.
  const start = localMidnight(day) + Math.round(between(r, -1.5, 0.5) * 3600_000);
  const inBed = Math.round(between(r, 6.2, 9.2) * 3600) * 1000;
  const end = start + inBed;
  const awake = Math.round(between(r, 0.05, 0.15) * inBed / 1000);
  const total = inBed / 1000 - awake;
  const deep = Math.round(total * between(r, 0.12, 0.24));
  const rem = Math.round(total * between(r, 0.18, 0.27));
  const light = total - deep - rem;
  const efficiency = Math.round((total / (inBed / 1000)) * 100);
  const latency = intBetween(r, 180, 1500);
  const hr = Math.round(between(r, 48, 62) * 100) / 100;
  const hrv = intBetween(r, 25, 80);
  const score = Math.max(40, Math.min(98, Math.round(35 + total / 3600 * 5 + deep / total * 60 + (efficiency - 80) * 0.6)));
  return { start, end, total, deep, rem, light, awake, efficiency, latency, hr, hrv, score };
}

function readinessContributors(r: () => number, n: Night): Doc {
  return {
    activity_balance: intBetween(r, 60, 100),
    body_temperature: intBetween(r, 70, 100),
    hrv_balance: intBetween(r, 50, 100),
    previous_day_activity: intBetween(r, 50, 100),
    previous_night: Math.min(100, n.score + intBetween(r, -5, 5)),
    recovery_index: intBetween(r, 40, 100),
    resting_heart_rate: intBetween(r, 60, 100),
    sleep_balance: intBetween(r, 55, 100),
    sleep_regularity: intBetween(r, 50, 100),
  };
}

function readinessScore(day: string): { score: number; contributors: Doc; temperature_deviation: number; temperature_trend_deviation: number } {
  const r = rng(`readiness:${day}`);
  const n = night(day);
  const contributors = readinessContributors(r, n);
  const score = Math.max(35, Math.min(99, Math.round(n.score * 0.6 + between(r, 20, 38))));
  return {
    score, contributors,
    temperature_deviation: Math.round(between(r, -0.6, 0.6) * 100) / 100,
    temperature_trend_deviation: Math.round(between(r, -0.4, 0.4) * 100) / 100,
  };
}

function sleepDoc(day: string, period: number, start: number, end: number, type: string, n?: Night): Doc {
  const r = rng(`sleepdoc:${day}:${period}`);
  const inBed = Math.round((end - start) / 1000);
  const total = n ? n.total : Math.round(inBed * between(r, 0.6, 0.9));
  const deep = n ? n.deep : Math.round(total * 0.1);
  const rem = n ? n.rem : Math.round(total * 0.15);
  const light = total - deep - rem;
  const fiveMin = Math.max(1, Math.floor(inBed / 300));
  const readiness = n ? readinessScore(day) : undefined;
  return {
    id: stableId(`sleep:${day}:${period}`),
    average_breath: Math.round(between(r, 13, 16.5) * 1000) / 1000,
    average_heart_rate: n ? n.hr : Math.round(between(r, 55, 68) * 100) / 100,
    average_hrv: n ? n.hrv : intBetween(r, 20, 70),
    awake_time: inBed - total,
    bedtime_end: local(end),
    bedtime_start: local(start),
    day,
    deep_sleep_duration: deep,
    efficiency: n ? n.efficiency : Math.round((total / inBed) * 100),
    heart_rate: sample(r, start, fiveMin, 300, 45, 75),
    hrv: sample(r, start, fiveMin, 300, 15, 110),
    latency: n ? n.latency : intBetween(r, 60, 600),
    light_sleep_duration: light,
    low_battery_alert: false,
    lowest_heart_rate: n ? Math.floor(n.hr - between(r, 3, 8)) : intBetween(r, 48, 60),
    movement_30_sec: phases(r, Math.floor(inBed / 30), '1123'),
    period,
    readiness: readiness ? { contributors: readiness.contributors, score: readiness.score, temperature_deviation: readiness.temperature_deviation, temperature_trend_deviation: readiness.temperature_trend_deviation } : null,
    readiness_score_delta: n ? null : intBetween(r, -2, 3),
    rem_sleep_duration: rem,
    restless_periods: intBetween(r, 80, 350),
    sleep_algorithm_version: 'v2',
    sleep_analysis_reason: 'foreground_sleep_analysis',
    sleep_phase_30_sec: null,
    sleep_phase_5_min: phases(r, fiveMin, '1234'),
    sleep_score_delta: n ? null : intBetween(r, -1, 4),
    time_in_bed: inBed,
    total_sleep_duration: total,
    type,
    ring_id: null,
    app_sleep_phase_5_min: null,
  };
}

function sleepDocs(day: string): Doc[] {
  const n = night(day);
  const r = rng(`naps:${day}`);
  const docs = [sleepDoc(day, 0, n.start, n.end, 'long_sleep', n)];
  if (r() < 0.35) {
    const napStart = localMidnight(day) + Math.round(between(r, 13, 16) * 3600_000);
    docs.push(sleepDoc(day, 1, napStart, napStart + Math.round(between(r, 20, 70) * 60_000), 'late_nap'));
  }
  if (r() < 0.15) {
    // A short awakening split the night: Oura reports an extra short period.
    const s = n.end + 15 * 60_000;
    docs.push(sleepDoc(day, docs.length, s, s + Math.round(between(r, 20, 45) * 60_000), 'sleep'));
  }
  return docs;
}

function dailySleep(day: string): Doc[] {
  const n = night(day);
  const r = rng(`dailysleep:${day}`);
  const c = (base: number) => Math.max(1, Math.min(100, Math.round(base + between(r, -6, 6))));
  return [{
    id: stableId(`daily_sleep:${day}`),
    contributors: {
      deep_sleep: c((n.deep / n.total) * 450),
      efficiency: c(n.efficiency),
      latency: c(100 - n.latency / 30),
      rem_sleep: c((n.rem / n.total) * 400),
      restfulness: c(75),
      timing: c(80),
      total_sleep: c((n.total / 3600) * 12),
    },
    day,
    score: n.score,
    timestamp: `${day}T00:00:00.000${OFFSET}`,
  }];
}

function dailyReadiness(day: string): Doc[] {
  const s = readinessScore(day);
  return [{ id: stableId(`daily_readiness:${day}`), ...s, day, timestamp: `${day}T00:00:00.000${OFFSET}` }];
}

function dailyActivity(day: string): Doc[] {
  const r = rng(`activity:${day}`);
  const steps = intBetween(r, 3500, 16000);
  const active = Math.round(steps * 0.045);
  return [{
    id: stableId(`daily_activity:${day}`),
    active_calories: active,
    average_met_minutes: Math.round(between(r, 1.2, 2.1) * 100) / 100,
    class_5_min: phases(r, 288, '012345'),
    contributors: {
      meet_daily_targets: intBetween(r, 40, 100), move_every_hour: intBetween(r, 60, 100), recovery_time: intBetween(r, 60, 100),
      stay_active: intBetween(r, 40, 100), training_frequency: intBetween(r, 40, 100), training_volume: intBetween(r, 40, 100),
    },
    day,
    equivalent_walking_distance: Math.round(steps * 0.75),
    high_activity_met_minutes: intBetween(r, 0, 60),
    high_activity_time: intBetween(r, 0, 3600),
    inactivity_alerts: intBetween(r, 0, 3),
    low_activity_met_minutes: intBetween(r, 100, 300),
    low_activity_time: intBetween(r, 7200, 20000),
    medium_activity_met_minutes: intBetween(r, 20, 200),
    medium_activity_time: intBetween(r, 600, 7200),
    met: sample(r, localMidnight(day), 288, 300, 0.9, 6),
    meters_to_target: intBetween(r, -3000, 4000),
    non_wear_time: intBetween(r, 0, 3600),
    resting_time: intBetween(r, 20000, 35000),
    score: intBetween(r, 55, 98),
    sedentary_met_minutes: intBetween(r, 5, 30),
    sedentary_time: intBetween(r, 20000, 40000),
    steps,
    target_calories: 450,
    target_meters: 9000,
    timestamp: `${day}T04:00:00.000${OFFSET}`,
    total_calories: 2000 + active,
  }];
}

function simple(name: string, build: (r: () => number, day: string) => Doc | null): (day: string) => Doc[] {
  return (day) => {
    const doc = build(rng(`${name}:${day}`), day);
    return doc ? [{ id: stableId(`${name}:${day}`), day, ...doc }] : [];
  };
}

const dailyCardiovascularAge = simple('daily_cardiovascular_age', (r) => ({ pulse_wave_velocity: Math.round(between(r, 6.5, 8.5) * 100) / 100, vascular_age: intBetween(r, 33, 41) }));
const dailyResilience = simple('daily_resilience', (r) => ({
  contributors: { sleep_recovery: Math.round(between(r, 40, 95) * 10) / 10, daytime_recovery: Math.round(between(r, 20, 80) * 10) / 10, stress: Math.round(between(r, 20, 80) * 10) / 10 },
  level: ['limited', 'adequate', 'solid', 'strong', 'exceptional'][intBetween(r, 0, 4)],
}));
const dailySpo2 = simple('daily_spo2', (r) => ({ breathing_disturbance_index: intBetween(r, 0, 12), spo2_percentage: { average: Math.round(between(r, 95, 99) * 1000) / 1000 } }));
const dailyStress = simple('daily_stress', (r) => ({
  day_summary: ['restored', 'normal', 'stressful'][intBetween(r, 0, 2)], recovery_high: intBetween(r, 0, 14400), stress_high: intBetween(r, 0, 10800),
}));
const sleepTime = simple('sleep_time', (r) => ({
  optimal_bedtime: { day_tz: 3600, end_offset: intBetween(r, -1800, 0), start_offset: intBetween(r, -5400, -3600) },
  recommendation: ['improve_efficiency', 'earlier_bedtime', 'later_bedtime', 'follow_optimal_bedtime'][intBetween(r, 0, 3)],
  status: 'optimal_found',
}));
const vo2Max = simple('vO2_max', (r, day) => (rng(`vo2day:${day}`)() < 0.3 ? { timestamp: `${day}T08:00:00.000${OFFSET}`, vo2_max: intBetween(r, 38, 46) } : null));

function workout(day: string): Doc[] {
  const r = rng(`workout:${day}`);
  if (r() > 0.45) return [];
  const start = localMidnight(day) + Math.round(between(r, 7, 19) * 3600_000);
  const end = start + Math.round(between(r, 25, 90) * 60_000);
  const activity = ['walking', 'running', 'cycling', 'yoga', 'strengthTraining'][intBetween(r, 0, 4)];
  return [{
    id: stableId(`workout:${day}`), activity, calories: Math.round(between(r, 120, 700) * 10) / 10, day,
    distance: activity === 'yoga' || activity === 'strengthTraining' ? null : Math.round(between(r, 2000, 20000)),
    end_datetime: local(end), intensity: ['easy', 'moderate', 'hard'][intBetween(r, 0, 2)], label: null,
    source: ['manual', 'autodetected', 'confirmed'][intBetween(r, 0, 2)], start_datetime: local(start),
  }];
}

function session(day: string): Doc[] {
  const r = rng(`session:${day}`);
  if (r() > 0.3) return [];
  const start = localMidnight(day) + Math.round(between(r, 12, 21) * 3600_000);
  const mins = intBetween(r, 5, 20);
  return [{
    id: stableId(`session:${day}`), day, end_datetime: local(start + mins * 60_000),
    heart_rate: sample(r, start, mins * 12, 5, 50, 70), heart_rate_variability: sample(r, start, mins * 12, 5, 20, 90),
    mood: ['bad', 'worse', 'same', 'good', 'great'][intBetween(r, 0, 4)], motion_count: sample(r, start, mins * 12, 5, 0, 3),
    start_datetime: local(start), type: ['breathing', 'meditation', 'nap', 'relaxation', 'rest'][intBetween(r, 0, 4)],
  }];
}

const TAGS = ['tag_generic_alcohol', 'tag_generic_caffeine', 'tag_generic_late_meal', 'tag_generic_sauna', 'tag_generic_stress'];

function tag(day: string): Doc[] {
  const r = rng(`tag:${day}`);
  if (r() > 0.3) return [];
  const t = TAGS[intBetween(r, 0, TAGS.length - 1)].replace('tag_generic_', '');
  return [{ id: stableId(`tag:${day}`), day, text: r() < 0.5 ? null : `note for ${day}`, timestamp: `${day}T20:15:00${OFFSET}`, tags: [t] }];
}

function enhancedTag(day: string): Doc[] {
  const r = rng(`enhanced_tag:${day}`);
  if (r() > 0.35) return [];
  const code = TAGS[intBetween(r, 0, TAGS.length - 1)];
  const multi = r() < 0.3;
  return [{
    id: stableId(`enhanced_tag:${day}`), tag_type_code: code, start_time: `${day}T19:30:00${OFFSET}`,
    end_time: multi ? `${addDays(day, 1)}T08:00:00${OFFSET}` : null, start_day: day, end_day: multi ? addDays(day, 1) : null,
    comment: r() < 0.5 ? null : 'felt it', custom_name: null,
  }];
}

/** One rest mode period every 60 days (days 20..23 of each cycle). */
function restModePeriod(day: string): Doc[] {
  const n = Math.floor(Date.parse(`${day}T00:00:00Z`) / 86400_000);
  if (n % 60 !== 20) return [];
  const end = addDays(day, 3);
  return [{
    id: stableId(`rest_mode_period:${day}`), end_day: end, end_time: `${end}T09:00:00.000${OFFSET}`,
    episodes: [{ tags: ['tag_generic_fever'], timestamp: `${day}T10:00:00.000${OFFSET}` }, { tags: ['tag_generic_recovery'], timestamp: `${addDays(day, 1)}T10:00:00.000${OFFSET}` }],
    start_day: day, start_time: `${day}T10:00:00.000${OFFSET}`,
  }];
}

export type DayGenerator = (day: string) => Doc[];

/** Day-keyed collections: the documents filed under a day (enhanced_tag and rest_mode_period: under their start_day). */
export const BY_DAY: Record<string, DayGenerator> = {
  daily_activity: dailyActivity,
  daily_cardiovascular_age: dailyCardiovascularAge,
  daily_readiness: dailyReadiness,
  daily_resilience: dailyResilience,
  daily_sleep: dailySleep,
  daily_spo2: dailySpo2,
  daily_stress: dailyStress,
  enhanced_tag: enhancedTag,
  rest_mode_period: restModePeriod,
  session,
  sleep: sleepDocs,
  sleep_time: sleepTime,
  tag,
  vO2_max: vo2Max,
  workout,
};

/** Where Oura's end_date is exclusive (measured for sleep, daily_activity, workout). */
export const END_EXCLUSIVE = new Set(['sleep', 'sleep_time', 'daily_activity', 'workout', 'session', 'tag', 'enhanced_tag', 'rest_mode_period']);

export const HEARTRATE_STEP_MS = 72_000;
export const BATTERY_STEP_MS = 300_000;

/** A time series computed on demand: a 30-day heart rate range is 36,000 rows, of which a page needs 720. */
export interface Series {
  length: number;
  slice(start: number, end: number): Doc[];
}

export function arraySeries(docs: Doc[]): Series {
  return { length: docs.length, slice: (a, b) => docs.slice(a, b) };
}

/** Rows on a fixed grid of `step` ms, both ends of [from, to] included. */
export function gridSeries(from: number, to: number, step: number, at: (t: number) => Doc): Series {
  const first = Math.ceil(from / step);
  const length = Math.max(0, Math.floor(to / step) - first + 1);
  return {
    length,
    slice(a, b) {
      const out: Doc[] = [];
      for (let i = Math.max(0, a); i < Math.min(b, length); i++) out.push(at((first + i) * step));
      return out;
    },
  };
}

/** The local day an instant falls on. */
export function localDay(ms: number): string {
  return new Date(ms + OFFSET_MS).toISOString().slice(0, 10);
}

const memo = new Map<string, unknown>();
function cached<T>(key: string, make: () => T): T {
  if (memo.has(key)) return memo.get(key) as T;
  if (memo.size > 5000) memo.clear();
  const v = make();
  memo.set(key, v);
  return v;
}

/** Heart rate at instant t, consistent with that day's sleep and workout. */
export function heartrateAt(t: number): Doc {
  const day = localDay(t);
  const r = rng(`hr:${t}`);
  const asleep = [day, addDays(day, 1)].map((d) => cached(`night:${d}`, () => night(d))).find((n) => t >= n.start && t <= n.end);
  const w = cached(`workout:${day}`, () => workout(day))[0];
  let bpm: number;
  let source: string;
  if (asleep) {
    source = 'sleep';
    bpm = Math.round(asleep.hr + between(r, -6, 8));
  } else if (w && t >= Date.parse(String(w.start_datetime)) && t <= Date.parse(String(w.end_datetime))) {
    source = 'workout';
    bpm = intBetween(r, 105, 165);
  } else if (r() < 0.08) {
    source = 'rest';
    bpm = intBetween(r, 55, 70);
  } else {
    source = 'awake';
    bpm = intBetween(r, 62, 100);
  }
  return { bpm, source, timestamp: utc(t), timestamp_unix: t };
}

export function batteryAt(t: number): Doc {
  // Drains 100 -> 20 over five days, then charges in 90 minutes.
  const cycle = (t / 60_000) % (5 * 1440 + 90);
  const charging = cycle >= 5 * 1440;
  const level = charging ? Math.min(100, 20 + Math.round(((cycle - 5 * 1440) / 90) * 80)) : Math.max(20, 100 - Math.round((cycle / (5 * 1440)) * 80));
  return { charging, in_charger: charging, level, timestamp: utc(t), timestamp_unix: t };
}

export function ringConfiguration(): Doc[] {
  return [{ id: stableId('ring_configuration'), color: 'stealth_black', design: 'horizon', firmware_version: '2.9.20', hardware_type: 'gen3', set_up_at: '2024-03-02T18:21:00+00:00', size: 9 }];
}

export function personalInfo(scopes: Set<string>): Doc {
  const info: Doc = { id: stableId('user') };
  if (scopes.has('personal')) Object.assign(info, { age: 38, weight: 72.5, height: 1.78, biological_sex: 'female' });
  if (scopes.has('email')) info.email = 'sleeper@example.com';
  return info;
}
