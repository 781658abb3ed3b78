#!/usr/bin/env node
// `npm run test:dates`: the unit suite with the clock and time zone set (Debian's faketime), to prove that no test
// depends on today's date or the machine's zone. Issue 11, item 9.
//
// The set covers, without running every combination (17 runs of ~25 s instead of 81, within 10 minutes):
//   - each of 2026-12-01, 2027-02-28, 2028-02-29 (leap day), 2026-12-31 and 2027-01-01 once, the zones taking turns
//     (UTC, Europe/Berlin, America/Los_Angeles), at a time where the local day differs from the UTC day when the zone
//     allows it (00:30 in Berlin: UTC is still on the day before; 23:30 in Los Angeles: UTC is already on the next
//     day; UTC alternates 00:30 and 23:30);
//   - each zone's DST change days in that zone (Berlin 2027-03-28 and 2027-10-31, Los Angeles 2027-03-14 and
//     2027-11-07) at 00:30, at 23:30 and 10 seconds before the change, so that the clock jumps during the run.
// The clock runs from the faked instant (faketime's relative form, shared by child processes); monotonic time is
// left alone. Before each run a probe checks that Node.js really sees the faked instant and zone.
//
// Usage: node scripts/test-dates.js [--list] [--only <text in the run's label>]
'use strict';

const { spawnSync } = require('child_process');
const { runUnitSuite } = require('./unit-run');

const ZONES = ['UTC', 'Europe/Berlin', 'America/Los_Angeles'];
const DATES = ['2026-12-01', '2027-02-28', '2028-02-29', '2026-12-31', '2027-01-01'];
const DST_DAYS = { 'Europe/Berlin': ['2027-03-28', '2027-10-31'], 'America/Los_Angeles': ['2027-03-14', '2027-11-07'] };
const BUDGET_S = 600;

/** Offset of `zone` from UTC at instant `ms`, in ms. */
function offsetAt(zone, ms) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (t) => Number(parts.find((p) => p.type === t).value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(ms / 1000) * 1000;
}

/** The instant the wall clock in `zone` shows `day` `hh:mm` (a time that exists once that day). */
function localInstant(zone, day, hhmm) {
  const wall = Date.parse(`${day}T${hhmm}:00Z`);
  let t = wall - offsetAt(zone, wall);
  t = wall - offsetAt(zone, t);
  if (new Date(t + offsetAt(zone, t)).toISOString().slice(0, 16) !== `${day}T${hhmm}`) throw new Error(`${day} ${hhmm} does not exist in ${zone}`);
  return t;
}

/** The instant `zone` changes its offset on `day` (found by bisection), or an error if it does not. */
function transition(zone, day) {
  let lo = localInstant(zone, day, '00:30');
  let hi = localInstant(zone, day, '23:30');
  if (offsetAt(zone, lo) === offsetAt(zone, hi)) throw new Error(`${zone} does not change its offset on ${day}`);
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (offsetAt(zone, mid) === offsetAt(zone, lo)) lo = mid;
    else hi = mid;
  }
  return hi;
}

function cases() {
  const list = [];
  DATES.forEach((day, i) => {
    const zone = ZONES[i % ZONES.length];
    const hhmm = zone === 'Europe/Berlin' ? '00:30' : zone === 'America/Los_Angeles' ? '23:30' : i % 2 ? '23:30' : '00:30';
    list.push({ zone, day, what: hhmm, at: localInstant(zone, day, hhmm) });
  });
  for (const [zone, days] of Object.entries(DST_DAYS)) {
    for (const day of days) {
      list.push({ zone, day, what: '00:30', at: localInstant(zone, day, '00:30') });
      list.push({ zone, day, what: '10 s before the DST change', at: transition(zone, day) - 10_000 });
      list.push({ zone, day, what: '23:30', at: localInstant(zone, day, '23:30') });
    }
  }
  return list.map((c) => ({ ...c, label: `${c.day} ${c.what} ${c.zone} (${new Date(c.at).toISOString().slice(0, 19)}Z)` }));
}

/** faketime's relative form: every process it starts (and their children) shares one running clock. */
function wrapperFor(at) {
  const offset = Math.ceil((at - Date.now()) / 1000);
  return ['faketime', '--exclude-monotonic', '-f', `${offset >= 0 ? '+' : ''}${offset}`];
}

function localText(zone, ms) {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, dateStyle: 'medium', timeStyle: 'long' }).format(new Date(ms));
}

/** Asks a Node.js under the same wrapper what time and zone it sees; throws unless it is the faked ones. */
function probe(c) {
  const wrapper = wrapperFor(c.at);
  const code = 'process.stdout.write(JSON.stringify({ now: Date.now(), zone: Intl.DateTimeFormat().resolvedOptions().timeZone, text: new Date().toString() }))';
  const r = spawnSync(wrapper[0], [...wrapper.slice(1), process.execPath, '-e', code], { env: { ...process.env, TZ: c.zone }, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`faketime did not run node: ${r.error ? r.error.message : r.stderr.trim()}`);
  const seen = JSON.parse(r.stdout);
  if (Math.abs(seen.now - c.at) > 5000 || seen.zone !== c.zone) {
    throw new Error(`node sees ${seen.text} (${seen.zone}), not ${localText(c.zone, c.at)} (${c.zone}): faketime does not reach Node.js here`);
  }
  return seen.text;
}

async function main() {
  const argv = process.argv.slice(2);
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const all = cases().filter((c) => !only || c.label.includes(only));
  if (argv.includes('--list')) {
    for (const c of all) console.log(`${c.label}  local: ${localText(c.zone, c.at)}`);
    return 0;
  }
  const version = spawnSync('faketime', ['--version'], { encoding: 'utf8' });
  if (version.error) {
    console.error('faketime is not installed (Debian: apt-get install faketime).');
    return 2;
  }
  if (all.length === 0) {
    console.error(`No run matches --only ${JSON.stringify(only)}; --list shows them.`);
    return 2;
  }
  console.log(`Unit suite at ${all.length} faked dates, times and zones (faketime, running clock):`);
  const started = Date.now();
  const results = [];
  for (const [i, c] of all.entries()) {
    const n = `[${String(i + 1).padStart(String(all.length).length)}/${all.length}]`;
    let seen;
    try {
      seen = probe(c);
    } catch (err) {
      console.error(`${n} ${c.label}: ${err.message}`);
      return 2;
    }
    const r = await runUnitSuite({ wrapper: wrapperFor(c.at), env: { TZ: c.zone }, label: c.label });
    results.push(r);
    console.log(`${n} ${r.ok ? 'pass' : 'FAIL'}  ${c.label}  node saw: ${seen}  ${r.passes} passed, ${r.failures.length} failed, ${r.seconds.toFixed(1)} s`);
    for (const f of r.failures) console.log(`        x ${f.title}\n          ${f.message}`);
    if (!r.ok) console.log(`        (output: ${r.log})`);
  }
  const total = (Date.now() - started) / 1000;
  const failed = results.filter((r) => !r.ok);
  console.log('');
  console.log(`Summary: ${results.length - failed.length} of ${results.length} runs passed in ${total.toFixed(0)} s (${(total / results.length).toFixed(1)} s a run).`);
  if (failed.length) console.log(`Failed at: ${failed.map((r) => r.label).join('; ')}`);
  // Per failing test, where it failed: a test that fails only in one zone or near midnight says what it depends on.
  const byTest = new Map();
  for (const r of failed) for (const f of r.failures) byTest.set(f.title, [...(byTest.get(f.title) ?? []), r.label]);
  for (const [title, labels] of byTest) console.log(`  x ${title}\n      in ${labels.length} run(s): ${labels.join('; ')}`);
  if (total > BUDGET_S) console.log(`  Note: over the ${BUDGET_S / 60}-minute budget (about 25 s a run on an idle 2-core machine): a busy machine, or too many runs.`);
  return failed.length ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(2);
});
