'use strict';
// The heart rate requests of the bare axios page loop. Oura refuses more than 30 days of heart rate per request (the
// simulator too), so the loop asks in the same windows the package splits a range into (30 × 24 h of absolute time,
// consecutive windows sharing their boundary instant: src/lib/data/query.ts, splitWindows), each paged with next_token.
const WINDOW_MS = 30 * 24 * 3600_000;
const DAY_MS = 86400_000;

/** One URL per window for the UTC days `first` to `last` (YYYY-MM-DD, both included). */
function heartrateUrls(apiUrl, first, last) {
  const start = `${first}T00:00:00+00:00`;
  const end = `${new Date(Date.parse(`${last}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10)}T00:00:00+00:00`;
  const s = Date.parse(start);
  const e = Date.parse(end);
  const url = (a, b) => `${apiUrl}/v2/usercollection/heartrate?start_datetime=${encodeURIComponent(a)}&end_datetime=${encodeURIComponent(b)}`;
  if (e - s <= WINDOW_MS) return [url(start, end)];
  const out = [];
  for (let a = s; a < e; a += WINDOW_MS) {
    const b = Math.min(a + WINDOW_MS, e);
    out.push(url(a === s ? start : new Date(a).toISOString(), b === e ? end : new Date(b).toISOString()));
  }
  return out;
}

module.exports = { heartrateUrls };
