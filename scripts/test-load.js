#!/usr/bin/env node
// `npm run test:load`: the unit suite three times in a row beside a CPU-bound process, as on a busy 2-core CI
// machine. The timing-sensitive tests (soak, refresh storms, retries, webhooks) must keep their exact counts: every
// run must pass. Issue 11, item 10.
//
// Usage: node scripts/test-load.js [--runs N] [--hogs N]   (defaults: 3 runs, 1 busy process)
'use strict';

const os = require('os');
const { spawn } = require('child_process');
const { runUnitSuite } = require('./unit-run');

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} takes a whole number of at least 1`);
    process.exit(2);
  }
  return n;
}

/** A process that keeps one CPU busy until it is killed. */
function startHog() {
  const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  hog.on('error', (err) => console.error(`the busy process failed: ${err.message}`));
  return hog;
}

async function main() {
  const runs = option('--runs', 3);
  const hogs = Array.from({ length: option('--hogs', 1) }, startHog);
  const stop = () => {
    for (const h of hogs) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
  };
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
  console.log(`Unit suite ${runs} times beside ${hogs.length} CPU-bound process${hogs.length === 1 ? '' : 'es'} (pid ${hogs.map((h) => h.pid).join(', ')}) on ${os.cpus().length} CPUs:`);
  const started = Date.now();
  const results = [];
  try {
    for (let i = 1; i <= runs; i++) {
      const r = await runUnitSuite({ label: `run ${i}` });
      results.push(r);
      const load = os.loadavg()[0].toFixed(1);
      console.log(`[${i}/${runs}] ${r.ok ? 'pass' : 'FAIL'}  ${r.passes} passed, ${r.failures.length} failed, ${r.seconds.toFixed(1)} s (load average ${load})`);
      for (const f of r.failures) console.log(`        x ${f.title}\n          ${f.message}`);
      if (!r.ok) console.log(`        (output: ${r.log})`);
    }
  } finally {
    stop();
  }
  const total = (Date.now() - started) / 1000;
  const failed = results.filter((r) => !r.ok);
  console.log('');
  console.log(`Summary: ${results.length - failed.length} of ${results.length} runs passed under load in ${total.toFixed(0)} s.`);
  const byTest = new Map();
  for (const r of failed) for (const f of r.failures) byTest.set(f.title, [...(byTest.get(f.title) ?? []), r.label]);
  for (const [title, labels] of byTest) console.log(`  x ${title}\n      in ${labels.join(', ')}`);
  return failed.length ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(2);
});
