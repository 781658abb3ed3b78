#!/usr/bin/env node
'use strict';
/**
 * Where a message's time goes: Node-RED (from the packed package, as in bench/run.js) runs with --cpu-prof while
 * N messages go through one variant; the profile's self time is then summed by function and by where the code
 * lives (Node-RED, axios, got, this package, Node.js itself).
 *
 *   node bench/profile.js [--variant ours|coreDefault|coreKeepAlive] [--messages 5000] [--concurrency 8]
 *   node bench/profile.js --variant heartAll|heartPage|axiosPages   (a year of heart rate, one message)
 *
 * Writes the .cpuprofile under bench/tmp/profile/ (open it in Chrome DevTools) and prints the summary.
 */
const fs = require('fs');
const path = require('path');
const c = require('./lib/common');
const { SimProcess } = require('./lib/sim');
const { BenchNodeRed } = require('./lib/nodered');
const flows = require('./lib/flows');
const { heartrateUrls } = require('./lib/heartrate');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const VARIANT = opt('variant', 'ours');
const N = Number(opt('messages', 5000));
const CONCURRENCY = Number(opt('concurrency', 8));
const WORK = path.join(c.TMP, 'profile');
const today = new Date().toISOString().slice(0, 10);
const addDays = (d, n) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86400_000).toISOString().slice(0, 10);

function where(url) {
  if (!url) return '(native / V8)';
  if (url.includes('node-red-oura')) return 'this package';
  if (/node_modules\/axios\//.test(url)) return 'axios';
  if (/node_modules\/(follow-redirects|form-data|proxy-from-env|https-proxy-agent|agent-base)\//.test(url)) return 'axios dependencies';
  if (/node_modules\/(got|@sindresorhus|cacheable-|http2-wrapper|responselike|lowercase-keys|p-cancelable|decompress-response|mimic-response|@szmarczak|tough-cookie|hpagent)/.test(url)) return 'got (core http request)';
  if (/@node-red\/nodes\/core\/network\/21-httprequest/.test(url)) return 'core http request node';
  if (/node_modules\/(@node-red|node-red)\//.test(url)) return 'Node-RED runtime';
  if (url.includes('bench/nodes/bench.js')) return 'benchmark driver/sink';
  if (url.startsWith('node:')) return 'Node.js (http, net, streams, timers)';
  return 'other';
}

function summarize(file) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = prof.timeDeltas;
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) || 0) + (dt[i] || 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map();
  const byWhere = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    if (cf.functionName === '(idle)' || cf.functionName === '(program)') {
      byWhere.set(cf.functionName, (byWhere.get(cf.functionName) || 0) + us);
      continue;
    }
    const key = `${cf.functionName || '(anonymous)'} ${cf.url ? `${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\//, '')}:${cf.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) || 0) + us);
    const w = where(cf.url);
    byWhere.set(w, (byWhere.get(w) || 0) + us);
  }
  const top = (m, k) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
  return { totalMs: total / 1000, byWhere: top(byWhere, 20), topFunctions: top(byFn, 25) };
}

async function main() {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const pkg = c.packAndInstall();
  const sim = await SimProcess.start({ heartratePageSize: 600 }, WORK);
  let nr;
  try {
    const day = addDays(today, -1);
    const coreUrl = `${sim.url}/v2/usercollection/sleep?start_date=${addDays(day, -1)}&end_date=${addDays(day, 1)}`;
    const port = await c.freePort();
    const client = { clientId: 'bench-profile', clientSecret: 'bench-secret-profile-0123456789', redirectUris: [`http://127.0.0.1:${port}/oura/auth/callback`, 'http://127.0.0.1/static'] };
    await sim.addClient(client);
    const staticToken = await sim.staticToken(client, 'http://127.0.0.1/static');
    const userDir = c.copyUserDir(pkg.template, path.join(WORK, 'userdir'));
    const profDir = path.join(WORK, 'cpuprofile');
    nr = new BenchNodeRed({ name: 'profile', dir: WORK, userDir, env: sim.env(), nodeArgs: ['--expose-gc', '--cpu-prof', `--cpu-prof-dir=${profDir}`] });
    await nr.start({ port });
    await nr.deploy(flows.mainFlow({ client, coreUrl, staticToken }));
    await nr.authorize(sim, 'acc1', client);
    const yearEnd = addDays(today, -1);
    const yearStart = addDays(yearEnd, -364);
    let r;
    if (VARIANT === 'axiosPages') {
      r = await nr.admin('bench/axios-pages', { method: 'POST', body: { urls: heartrateUrls(sim.url, yearStart, yearEnd), token: staticToken } });
      console.log(`profile: bare axios page loop, ${r.pages} pages: ${Math.round(r.ms)} ms`);
    } else if (VARIANT === 'heartAll' || VARIANT === 'heartPage') {
      r = await nr.run({ driver: flows.DRIVER, n: 1, concurrency: 1, until: VARIANT === 'heartPage' ? 'complete' : 'msg', targets: [{ output: flows.OUT[VARIANT], msg: { start_date: yearStart, end_date: yearEnd } }], settleMs: 50, timeoutMs: 600000 });
      console.log(`profile: ${VARIANT}, a year of heart rate: ${Math.round(r.ms)} ms, ${r.docs} samples`);
    } else {
      const target = { output: flows.OUT[VARIANT], msg: VARIANT === 'ours' ? { start_date: day } : {} };
      if (target.output === undefined) throw new Error(`unknown variant ${VARIANT}`);
      r = await nr.run({ driver: flows.DRIVER, n: N, concurrency: CONCURRENCY, targets: [target], settleMs: 50 });
      console.log(`profile: ${VARIANT}, ${N} messages, ${CONCURRENCY} in flight: ${Math.round(r.perSec)}/s, ${Math.round(r.cpuUsPerMsg)} us CPU per message`);
    }
    await nr.stop();
    const file = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f))[0];
    const s = summarize(file);
    console.log(`profile: ${path.relative(c.ROOT, file)} (whole process life: start-up, deploy, authorization and the run)`);
    console.log('\nself time by where the code lives');
    for (const x of s.byWhere) console.log(`  ${(x.share * 100).toFixed(1).padStart(5)}%  ${x.ms.toFixed(0).padStart(6)} ms  ${x.name}`);
    console.log('\ntop functions by self time');
    for (const x of s.topFunctions) console.log(`  ${(x.share * 100).toFixed(1).padStart(5)}%  ${x.ms.toFixed(0).padStart(6)} ms  ${x.name}`);
    fs.writeFileSync(path.join(WORK, `summary-${VARIANT}.json`), JSON.stringify({ variant: VARIANT, n: N, concurrency: CONCURRENCY, ms: r.ms, perSec: r.perSec, cpuUsPerMsg: r.cpuUsPerMsg, ...s }, null, 2));
  } finally {
    if (nr) await nr.stop().catch(() => undefined);
    await sim.stop().catch(() => undefined);
    await c.stopAll();
  }
}

main().catch((err) => {
  console.error(`profile: ${err.stack || err}`);
  process.exitCode = 1;
});
