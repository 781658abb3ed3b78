#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: the package against the core `http request` node and against the bare simulator, in a real
 * Node-RED started from the packed tarball (as test/e2e does), the simulator in a process of its own, loopback only.
 * Prints a table and writes bench/results.json.
 *
 *   node bench/run.js [--quick] [--only permsg,storm,paging,cold,shared] [--rounds N]
 *
 * 1. per-message cost: N messages through driver -> oura sleep -> sink vs. driver -> http request (static bearer
 *    token) -> sink, vs. the simulator called directly; same request, same number in flight.
 * 2. refresh storm: 500 messages in flight when the access token expires.
 * 3. paging: a year of heart rate, 'all' and 'page' output vs. the bare axios page loop; peak RSS 1 -> 12 months.
 * 4. cold start: loading the package into Node-RED; installed size of the runtime dependencies.
 * 5. shared token store (Redis): per-message cost next to the file store; a refresh storm over three replicas.
 */
const fs = require('fs');
const path = require('path');
const c = require('./lib/common');
const { SimProcess } = require('./lib/sim');
const { BenchNodeRed } = require('./lib/nodered');
const flows = require('./lib/flows');
const { floor } = require('./lib/floor');
const { heartrateUrls } = require('./lib/heartrate');
const { sharedStore } = require('./lib/shared');

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const ONLY = (() => {
  const i = args.indexOf('--only');
  return i >= 0 ? args[i + 1].split(',') : ['permsg', 'storm', 'paging', 'cold', 'shared'];
})();
const ROUNDS = (() => {
  const i = args.indexOf('--rounds');
  return i >= 0 ? Number(args[i + 1]) : QUICK ? 2 : 5;
})();

const CFG = {
  rounds: ROUNDS,
  perMessage: { concurrency: [1, 8], n: { 1: QUICK ? 600 : 1500, 8: QUICK ? 1000 : 3000 } },
  storm: { burst: 500, rounds: ROUNDS },
  paging: { heartratePageSize: 600, months: { 1: 30, 3: 91, 6: 182, 12: 365 }, timeRounds: QUICK ? 1 : 3, memoryRounds: QUICK ? 1 : 2 },
  cold: { rounds: ROUNDS },
};

const WORK = path.join(c.TMP, 'run');
const log = (...a) => console.log(...a);

const DAY = 86400_000;
const today = new Date().toISOString().slice(0, 10);
const addDays = (d, n) => new Date(Date.parse(`${d}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);

let sim;
const instances = [];
/** Other processes of ours (redis-server). */
const extraPids = [];
/** Our processes: this one, the simulator, every Node-RED started, redis-server (for c.ForeignLoad). */
const ourPids = () => [process.pid, sim && sim.proc.pid, ...instances.map((nr) => nr.proc && nr.proc.pid), ...extraPids.map((f) => f())].filter(Boolean);

async function newInstance(name, template, { deploy = true, coreUrl = 'http://127.0.0.1:9/none', staticToken = 'none', settings } = {}) {
  const dir = path.join(WORK, name);
  fs.rmSync(dir, { recursive: true, force: true });
  const userDir = c.copyUserDir(template, path.join(dir, 'userdir'));
  const port = await c.freePort();
  const client = { clientId: `bench-${name}`, clientSecret: `bench-secret-${name}-0123456789`, redirectUris: [`http://127.0.0.1:${port}/oura/auth/callback`, 'http://127.0.0.1/static'] };
  await sim.addClient(client);
  const nr = new BenchNodeRed({ name, dir, userDir, env: sim.env(), settings });
  instances.push(nr);
  await nr.start({ port });
  if (deploy) {
    await nr.deploy(flows.mainFlow({ client, coreUrl, staticToken }));
    await nr.authorize(sim, 'acc1', client);
  }
  return { nr, client, dir };
}

async function dispose(inst) {
  await inst.nr.stop();
  fs.rmSync(inst.dir, { recursive: true, force: true });
}

function check(r, what) {
  if (r.timedOut || r.lost || r.duplicates || r.errors || r.bad || r.stray) {
    throw new Error(`${what}: ${JSON.stringify({ timedOut: r.timedOut, lost: r.lost, duplicates: r.duplicates, errors: r.errors, bad: r.bad, stray: r.stray, errorKinds: r.errorKinds })}`);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. per-message cost

async function perMessage(main) {
  const day = addDays(today, -1);
  const out = { request: `GET ${main.coreUrl.replace(sim.url, '')}`, byConcurrency: {} };
  for (const conc of CFG.perMessage.concurrency) {
    const n = CFG.perMessage.n[conc];
    const variants = {
      ours: () => main.nr.run({ driver: flows.DRIVER, n, concurrency: conc, targets: [{ output: flows.OUT.ours, msg: { start_date: day } }], settleMs: 50 }).then((r) => check(r, 'ours')),
      coreDefault: () => main.nr.run({ driver: flows.DRIVER, n, concurrency: conc, targets: [{ output: flows.OUT.coreDefault, msg: {} }], settleMs: 50 }).then((r) => check(r, 'core http request')),
      coreKeepAlive: () => main.nr.run({ driver: flows.DRIVER, n, concurrency: conc, targets: [{ output: flows.OUT.coreKeepAlive, msg: {} }], settleMs: 50 }).then((r) => check(r, 'core http request (keep-alive)')),
      floor: () => floor({ url: main.coreUrl, token: main.staticToken, n, concurrency: conc }),
    };
    const names = Object.keys(variants);
    log(`bench: per-message cost, ${n} messages, ${conc} in flight: warm-up`);
    for (const v of names) await variants[v]();
    const rounds = [];
    for (let r = 0; r < CFG.rounds; r++) {
      const round = {};
      const load = new c.ForeignLoad(ourPids);
      // Rotate the order so that no variant always runs right after another.
      for (let i = 0; i < names.length; i++) {
        const v = names[(i + r) % names.length];
        const res = await variants[v]();
        round[v] = { perSec: res.perSec, msPerMsg: res.ms / n, cpuUsPerMsg: res.cpuUsPerMsg, p50: res.latency ? res.latency.p50 : undefined, docs: res.docs };
      }
      round.foreignCores = load.read();
      log(`bench:   round ${r + 1}: ${names.map((v) => `${v} ${Math.round(round[v].perSec)}/s`).join(', ')}; other processes ${round.foreignCores.toFixed(2)} cores`);
      rounds.push(round);
    }
    const summary = {};
    for (const v of names) {
      summary[v] = {
        perSec: c.median(rounds.map((x) => x[v].perSec)),
        msPerMsg: c.median(rounds.map((x) => x[v].msPerMsg)),
        cpuUsPerMsg: c.median(rounds.map((x) => x[v].cpuUsPerMsg)),
        p50LatencyMs: v === 'floor' ? undefined : c.median(rounds.map((x) => x[v].p50)),
        docsPerMsg: rounds[0][v].docs / n,
      };
    }
    const ratio = (other, key = 'msPerMsg') => c.median(rounds.map((x) => x.ours[key] / x[other][key]));
    out.byConcurrency[conc] = {
      n,
      rounds,
      summary,
      ratios: {
        vsCoreDefault: ratio('coreDefault'),
        vsCoreKeepAlive: ratio('coreKeepAlive'),
        vsFloor: ratio('floor'),
        cpuVsCoreDefault: ratio('coreDefault', 'cpuUsPerMsg'),
        cpuVsCoreKeepAlive: ratio('coreKeepAlive', 'cpuUsPerMsg'),
        cpuVsFloor: ratio('floor', 'cpuUsPerMsg'),
      },
    };
  }
  // Breakdown: the same request from inside Node-RED's process without a flow (Node's http, then axios).
  const n = CFG.perMessage.n[8];
  const direct = {};
  for (const client of ['http', 'axios']) {
    const runs = [];
    for (let r = 0; r < Math.max(2, Math.ceil(CFG.rounds / 2)); r++) {
      runs.push(await main.nr.admin('bench/direct', { method: 'POST', body: { url: main.coreUrl, token: main.staticToken, n, concurrency: 8, client } }));
    }
    direct[client] = { perSec: c.median(runs.map((x) => x.perSec)), msPerMsg: c.median(runs.map((x) => x.ms / n)) };
  }
  out.inNodeRedProcessWithoutFlow = { concurrency: 8, n, ...direct };
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// 2. refresh storm

async function refreshStorm(main) {
  const day = addDays(today, -1);
  const burst = CFG.storm.burst;
  const spec = { driver: flows.DRIVER, n: burst, concurrency: burst, targets: [{ output: flows.OUT.ours, msg: { start_date: day } }], settleMs: 200 };
  const pick = (r) => ({ ms: r.ms, p50: r.latency.p50, p95: r.latency.p95, max: r.latency.max, outputs: r.outputs, errors: r.errors, lost: r.lost, duplicates: r.duplicates, errorKinds: r.errorKinds });
  log(`bench: refresh storm, ${burst} messages in flight: warm-up`);
  await main.nr.run(spec);
  const rounds = [];
  for (let i = 0; i < CFG.storm.rounds; i++) {
    await sim.resetStats();
    const base = await main.nr.run(spec);
    const baseStats = await sim.stats();

    // a) Oura expires the token (server side): every request in flight gets 401.
    await sim.resetStats();
    await sim.expire();
    const expired = await main.nr.run(spec);
    const expiredStats = await sim.stats();

    // b) The token reaches its expires_in (client side): the package refreshes before sending, without a 401.
    await sim.setTtl(61); // inside the package's 60 s refresh margin one second after it is issued
    await sim.expire();
    await main.nr.run({ ...spec, n: 1, concurrency: 1 }); // refreshes: the new token lives 61 s
    await sim.setTtl(86400);
    await c.sleep(1100);
    await sim.resetStats();
    const proactive = await main.nr.run(spec);
    const proactiveStats = await sim.stats();

    const round = {
      noRefresh: { ...pick(base), tokenRequests: baseStats.tokenRequests, dataRequests: baseStats.dataRequests },
      expiredAtOura: { ...pick(expired), tokenRequests: expiredStats.tokenRequests, refreshReuse: expiredStats.refreshReuse, unauthorized: expiredStats.unauthorized, dataRequests: expiredStats.dataRequests },
      expiresInReached: { ...pick(proactive), tokenRequests: proactiveStats.tokenRequests, refreshReuse: proactiveStats.refreshReuse, unauthorized: proactiveStats.unauthorized, dataRequests: proactiveStats.dataRequests },
    };
    log(`bench:   round ${i + 1}: no refresh ${Math.round(base.ms)} ms; expired at Oura ${Math.round(expired.ms)} ms, ${expiredStats.tokenRequests} token request(s), ${expired.errors} failures; `
      + `expires_in reached ${Math.round(proactive.ms)} ms, ${proactiveStats.tokenRequests} token request(s), ${proactive.errors} failures`);
    rounds.push(round);
  }
  const med = (k, f) => c.median(rounds.map((r) => f(r[k])));
  const summarize = (k) => ({
    burstMs: med(k, (x) => x.ms),
    p50Ms: med(k, (x) => x.p50),
    p95Ms: med(k, (x) => x.p95),
    maxMs: med(k, (x) => x.max),
    tokenRequests: rounds.map((r) => r[k].tokenRequests),
    failures: rounds.reduce((a, r) => a + r[k].errors + r[k].lost, 0),
    refreshReuse: rounds.reduce((a, r) => a + (r[k].refreshReuse || 0), 0),
    unauthorized: rounds.map((r) => r[k].unauthorized),
  });
  const added = (k) => ({
    burstMs: c.median(rounds.map((r) => r[k].ms - r.noRefresh.ms)),
    p50Ms: c.median(rounds.map((r) => r[k].p50 - r.noRefresh.p50)),
    maxMs: c.median(rounds.map((r) => r[k].max - r.noRefresh.max)),
  });
  return {
    burst,
    rounds,
    noRefresh: summarize('noRefresh'),
    expiredAtOura: { ...summarize('expiredAtOura'), added: added('expiredAtOura') },
    expiresInReached: { ...summarize('expiresInReached'), added: added('expiresInReached') },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 3. paging

function heartQuery(days) {
  const end = addDays(today, -1);
  const start = addDays(end, -(days - 1));
  // What the package sends for these days in UTC: [first midnight, midnight after the last], in 30-day windows.
  return { msg: { start_date: start, end_date: end }, urls: heartrateUrls(sim.url, start, end) };
}

async function paging(main, template) {
  const out = { heartratePageSize: CFG.paging.heartratePageSize };
  const year = heartQuery(CFG.paging.months[12]);
  // RSS is sampled every 5 ms when memory is measured, every 200 ms (nearly free) when time is.
  const runAll = (nr, q, rssSampleMs = 200) => nr.run({ driver: flows.DRIVER, n: 1, concurrency: 1, targets: [{ output: flows.OUT.heartAll, msg: q.msg }], settleMs: 100, rssSampleMs, gcBefore: true, timeoutMs: 600000 });
  const runPage = (nr, q, rssSampleMs = 200) => nr.run({ driver: flows.DRIVER, n: 1, concurrency: 1, until: 'complete', targets: [{ output: flows.OUT.heartPage, msg: q.msg }], settleMs: 100, rssSampleMs, gcBefore: true, timeoutMs: 600000 });
  const runAxios = async (nr, q) => nr.admin('bench/axios-pages', { method: 'POST', body: { urls: q.urls, token: await sim.staticToken(main.client, 'http://127.0.0.1/static') } });

  log('bench: paging, a year of heart rate: warm-up');
  const warm = await runAxios(main.nr, year);
  out.windows = warm.windows;
  out.pages = warm.pages;
  // The bare loop counts a sample on a window's boundary in both windows; the package passes it on once.
  out.bareLoopSamples = warm.docs;
  const rounds = [];
  for (let r = 0; r < CFG.paging.timeRounds; r++) {
    const order = [['axios', runAxios], ['all', runAll], ['page', runPage]];
    const round = {};
    for (let i = 0; i < order.length; i++) {
      const [name, fn] = order[(i + r) % order.length];
      const res = await fn(main.nr, year);
      if (name === 'axios') round.axios = { ms: res.ms, sumMs: res.sumMs, pages: res.pages, docs: res.docs };
      else {
        check(res, `heart rate ${name}`);
        round[name] = { ms: res.ms, docs: res.docs };
      }
    }
    log(`bench:   round ${r + 1}: axios loop ${Math.round(round.axios.sumMs)} ms (${round.axios.pages} pages), oura data 'all' ${Math.round(round.all.ms)} ms, 'page' ${Math.round(round.page.ms)} ms`);
    rounds.push(round);
  }
  out.samples = rounds[0].all.docs;
  out.time = {
    rounds,
    axiosSumMs: c.median(rounds.map((x) => x.axios.sumMs)),
    allMs: c.median(rounds.map((x) => x.all.ms)),
    pageMs: c.median(rounds.map((x) => x.page.ms)),
    allVsAxios: c.median(rounds.map((x) => x.all.ms / x.axios.sumMs)),
    pageVsAxios: c.median(rounds.map((x) => x.page.ms / x.axios.sumMs)),
  };

  // Peak RSS: a fresh Node-RED per measurement, so that one range's heap does not carry over into the next.
  const mem = {};
  for (const [months, days] of Object.entries(CFG.paging.months)) {
    mem[months] = { days, all: [], page: [], axios: [] };
  }
  for (let r = 0; r < CFG.paging.memoryRounds; r++) {
    for (const [months, days] of Object.entries(CFG.paging.months)) {
      const q = heartQuery(days);
      for (const [mode, fn] of [['all', runAll], ['page', runPage]]) {
        const inst = await newInstance(`mem-${months}-${mode}`, template);
        try {
          // One small request first, so that the measured one does not pay for first-use loading.
          await runPage(inst.nr, heartQuery(1));
          const res = check(await fn(inst.nr, q, 5), `heart rate ${mode} ${months} months`);
          mem[months][mode].push({ rssBefore: res.memory.rssBefore, rssPeak: res.memory.rssPeak, growth: res.memory.rssPeak - res.memory.rssBefore, ms: res.ms, docs: res.docs });
          log(`bench:   memory round ${r + 1}, ${months} month(s) '${mode}': peak RSS ${(res.memory.rssPeak / 2 ** 20).toFixed(0)} MiB (+${((res.memory.rssPeak - res.memory.rssBefore) / 2 ** 20).toFixed(0)} MiB), ${res.docs} samples`);
        } finally {
          await dispose(inst);
        }
      }
    }
  }
  out.memory = {};
  for (const [months, m] of Object.entries(mem)) {
    out.memory[months] = {
      days: m.days,
      allPeakMiB: c.median(m.all.map((x) => x.rssPeak)) / 2 ** 20,
      allGrowthMiB: c.median(m.all.map((x) => x.growth)) / 2 ** 20,
      pagePeakMiB: c.median(m.page.map((x) => x.rssPeak)) / 2 ** 20,
      pageGrowthMiB: c.median(m.page.map((x) => x.growth)) / 2 ** 20,
      samples: m.all[0] && m.all[0].docs,
      runs: m,
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// 4. cold start

async function coldStart(pkg) {
  const out = {};
  // Node-RED's start (spawn to "Started flows") with the package installed and without it; an empty flow.
  const bare = path.join(WORK, 'cold-bare-template');
  fs.rmSync(bare, { recursive: true, force: true });
  fs.mkdirSync(bare, { recursive: true });
  fs.writeFileSync(path.join(bare, 'package.json'), '{"name":"node-red-project","version":"0.0.1","private":true,"dependencies":{}}\n');
  const loadFile = path.join(WORK, 'load-times.jsonl');
  const withPkg = [];
  const without = [];
  const loads = [];
  log('bench: cold start');
  for (let r = 0; r < CFG.cold.rounds + 1; r++) {
    for (const [which, template, list] of [['with', pkg.template, withPkg], ['without', bare, without]]) {
      const dir = path.join(WORK, `cold-${which}`);
      fs.rmSync(dir, { recursive: true, force: true });
      const userDir = c.copyUserDir(template, path.join(dir, 'userdir'));
      fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows.emptyFlow()));
      fs.rmSync(loadFile, { force: true });
      const nr = new BenchNodeRed({ name: `cold-${which}`, dir, userDir, env: sim.env() });
      instances.push(nr);
      const ms = await nr.start({ nodeArgs: ['-r', path.join(__dirname, 'lib', 'load-timer.js')], env: { BENCH_LOAD_TIMES: loadFile } });
      await nr.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      if (r === 0) continue; // the first start warms the file system cache
      list.push(ms);
      if (which === 'with') {
        const recs = fs.existsSync(loadFile) ? fs.readFileSync(loadFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
        const sum = (k) => recs.reduce((a, x) => a + (x[k] || 0), 0);
        loads.push({ requireMs: sum('requireMs'), registerMs: sum('registerMs'), files: recs });
      }
    }
  }
  out.nodeRedStartMs = { withPackage: c.median(withPkg), withoutPackage: c.median(without), difference: c.median(withPkg) - c.median(without), raw: { withPkg, without } };
  out.loadInNodeRed = {
    requireMs: c.median(loads.map((x) => x.requireMs)),
    registerMs: c.median(loads.map((x) => x.registerMs)),
    totalMs: c.median(loads.map((x) => x.requireMs + x.registerMs)),
    perFile: loads[0] ? loads[0].files : [],
  };
  // require() of the package's node files in a fresh Node.js, outside Node-RED.
  const plain = [];
  for (let r = 0; r < CFG.cold.rounds; r++) {
    const files = Object.values(JSON.parse(fs.readFileSync(path.join(pkg.packageDir, 'package.json'), 'utf8'))['node-red'].nodes).map((f) => path.join(pkg.packageDir, f));
    const script = `const t=process.hrtime.bigint();for(const f of ${JSON.stringify(files)})require(f);console.log(Number(process.hrtime.bigint()-t)/1e6)`;
    plain.push(Number(c.sh(process.execPath, ['-e', script]).trim()));
  }
  out.requireInPlainNodeMs = c.median(plain);
  out.nodeFiles = Object.keys(JSON.parse(fs.readFileSync(path.join(pkg.packageDir, 'package.json'), 'utf8'))['node-red'].nodes);

  // Installed size: the package itself and everything npm installed beside it for it (its runtime dependencies).
  const nm = path.join(pkg.template, 'node_modules');
  const deps = [];
  const scan = (dir, prefix = '') => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      if (e.name.startsWith('@')) scan(path.join(dir, e.name), `${e.name}/`);
      else deps.push({ name: prefix + e.name, ...c.treeSize(path.join(dir, e.name)) });
    }
  };
  scan(nm);
  const own = deps.find((d) => d.name === c.PKG.name);
  const others = deps.filter((d) => d.name !== c.PKG.name);
  const diskKiB = (p) => Number(c.sh('du', ['-sk', p]).split(/\s+/)[0]);
  out.installed = {
    tarballBytes: pkg.tarballBytes,
    package: { bytes: own.bytes, files: own.files, diskKiB: diskKiB(pkg.packageDir) },
    runtimeDependencies: {
      count: others.length,
      bytes: others.reduce((a, d) => a + d.bytes, 0),
      files: others.reduce((a, d) => a + d.files, 0),
      diskKiB: diskKiB(nm) - diskKiB(pkg.packageDir),
      list: others.sort((a, b) => b.bytes - a.bytes).map((d) => ({ name: d.name, bytes: d.bytes })),
    },
  };
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toString() : '-');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r, j) => {
    const line = r.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ');
    return j === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

function report(res) {
  const lines = [];
  const m = res.machine;
  lines.push(`Machine: ${m.nproc} cores (nproc), ${m.cpu}, ${m.memoryGiB} GiB; Node.js ${m.node}; Node-RED ${m.nodeRed}; ${m.date}`);
  const foreign = Object.entries(res.foreignLoadCores || {});
  if (foreign.length) {
    const busy = foreign.some(([, v]) => v > 0.2);
    lines.push(`Other processes on the machine used ${foreign.map(([k, v]) => `${k} ${f2(v)}`).join(', ')} cores${busy ? ' -- NOT QUIET: timings are noisy, run again on an idle machine' : ' (quiet)'}`);
  }
  const goals = [];
  if (res.perMessage) {
    lines.push('', `1. Per-message cost (${res.perMessage.request}; medians of ${res.config.rounds} rounds; ratio = our time per message / theirs)`);
    const rows = [['concurrency', 'variant', 'msg/s', 'ms/msg', 'CPU us/msg (client)', 'ours / this (time)', 'ours / this (CPU)']];
    for (const [conc, x] of Object.entries(res.perMessage.byConcurrency)) {
      const s = x.summary;
      const r = x.ratios;
      rows.push([conc, 'oura sleep (ours)', f0(s.ours.perSec), f2(s.ours.msPerMsg), f0(s.ours.cpuUsPerMsg), '1.00', '1.00']);
      rows.push([conc, 'core http request', f0(s.coreDefault.perSec), f2(s.coreDefault.msPerMsg), f0(s.coreDefault.cpuUsPerMsg), f2(r.vsCoreDefault), f2(r.cpuVsCoreDefault)]);
      rows.push([conc, 'core http request, keep-alive', f0(s.coreKeepAlive.perSec), f2(s.coreKeepAlive.msPerMsg), f0(s.coreKeepAlive.cpuUsPerMsg), f2(r.vsCoreKeepAlive), f2(r.cpuVsCoreKeepAlive)]);
      rows.push([conc, 'floor: simulator called directly', f0(s.floor.perSec), f2(s.floor.msPerMsg), f0(s.floor.cpuUsPerMsg), f2(r.vsFloor), f2(r.cpuVsFloor)]);
      goals.push({ goal: `per message, ${conc} in flight: ours / core http request <= 1.00`, value: `${f2(r.vsCoreDefault)} (keep-alive: ${f2(r.vsCoreKeepAlive)})`, met: r.vsCoreDefault <= 1 && r.vsCoreKeepAlive <= 1 });
    }
    lines.push(table(rows));
    const d = res.perMessage.inNodeRedProcessWithoutFlow;
    lines.push(`   same request from inside Node-RED's process, no flow, ${d.concurrency} in flight: Node http ${f0(d.http.perSec)}/s, axios ${f0(d.axios.perSec)}/s`);
  }
  if (res.refreshStorm) {
    const s = res.refreshStorm;
    lines.push('', `2. Refresh storm: ${s.burst} messages in flight (medians of ${s.rounds.length} rounds)`);
    const rows = [['case', 'token requests', 'failures', 'burst ms', 'added ms', 'p50 ms', 'max ms', '401s']];
    rows.push(['no refresh', s.noRefresh.tokenRequests.join(','), s.noRefresh.failures, f0(s.noRefresh.burstMs), '-', f1(s.noRefresh.p50Ms), f0(s.noRefresh.maxMs), '-']);
    rows.push(['token expired at Oura (401s)', s.expiredAtOura.tokenRequests.join(','), s.expiredAtOura.failures, f0(s.expiredAtOura.burstMs), f0(s.expiredAtOura.added.burstMs), f1(s.expiredAtOura.p50Ms), f0(s.expiredAtOura.maxMs), s.expiredAtOura.unauthorized.join(',')]);
    rows.push(['expires_in reached (no 401)', s.expiresInReached.tokenRequests.join(','), s.expiresInReached.failures, f0(s.expiresInReached.burstMs), f0(s.expiresInReached.added.burstMs), f1(s.expiresInReached.p50Ms), f0(s.expiresInReached.maxMs), s.expiresInReached.unauthorized.join(',')]);
    lines.push(table(rows));
    const one = [...s.expiredAtOura.tokenRequests, ...s.expiresInReached.tokenRequests].every((t) => t === 1);
    goals.push({ goal: 'refresh storm: exactly 1 token request, 0 failures', value: `token requests ${[...s.expiredAtOura.tokenRequests, ...s.expiresInReached.tokenRequests].join(',')}, failures ${s.expiredAtOura.failures + s.expiresInReached.failures}`, met: one && s.expiredAtOura.failures + s.expiresInReached.failures === 0 });
  }
  if (res.paging) {
    const p = res.paging;
    lines.push('', `3. Paging: a year of heart rate, ${p.samples} samples in ${p.pages} pages of ${p.heartratePageSize}, ${p.windows} windows of at most 30 days (medians of ${p.time.rounds.length} rounds)`);
    lines.push(table([
      ['variant', 'ms', 'vs bare axios loop'],
      ['bare axios page loop (sum of page fetches)', f0(p.time.axiosSumMs), '1.00'],
      ["oura data, output 'all' (one message)", f0(p.time.allMs), f2(p.time.allVsAxios)],
      ["oura data, output 'page' (a message per page)", f0(p.time.pageMs), f2(p.time.pageVsAxios)],
    ]));
    const rows = [['range', 'samples', "'all' peak RSS MiB", "'all' growth MiB", "'page' peak RSS MiB", "'page' growth MiB"]];
    for (const [months, x] of Object.entries(p.memory)) rows.push([`${months} month(s), ${x.days} days`, x.samples, f0(x.allPeakMiB), f0(x.allGrowthMiB), f0(x.pagePeakMiB), f0(x.pageGrowthMiB)]);
    lines.push('', '   peak RSS of a fresh Node-RED per measurement (growth = peak minus RSS before the message)', table(rows));
    goals.push({ goal: "paging: 'all' within 1.2x of the bare axios loop", value: f2(p.time.allVsAxios), met: p.time.allVsAxios <= 1.2 });
    goals.push({ goal: "paging: 'page' within 1.2x of the bare axios loop", value: f2(p.time.pageVsAxios), met: p.time.pageVsAxios <= 1.2 });
    const g = Object.values(p.memory).map((x) => x.pageGrowthMiB);
    goals.push({ goal: "paging: 'page' RSS flat from 1 to 12 months", value: `growth ${g.map(f0).join(' / ')} MiB`, met: g[g.length - 1] - g[0] <= 16 });
  }
  if (res.coldStart) {
    const cs = res.coldStart;
    lines.push('', `4. Cold start (medians of ${cs.nodeRedStartMs.raw.withPkg.length} starts)`);
    lines.push(table([
      ['measure', 'value'],
      [`require + register of the ${cs.nodeFiles.length} node files in Node-RED`, `${f1(cs.loadInNodeRed.totalMs)} ms (require ${f1(cs.loadInNodeRed.requireMs)}, register ${f1(cs.loadInNodeRed.registerMs)})`],
      [`require of the ${cs.nodeFiles.length} node files in a bare Node.js`, `${f1(cs.requireInPlainNodeMs)} ms`],
      ['Node-RED start to "Started flows", with / without the package', `${f0(cs.nodeRedStartMs.withPackage)} / ${f0(cs.nodeRedStartMs.withoutPackage)} ms (+${f0(cs.nodeRedStartMs.difference)})`],
      ['packed tarball', `${f1(cs.installed.tarballBytes / 1024)} KiB`],
      ['package installed', `${f1(cs.installed.package.bytes / 1024)} KiB in ${cs.installed.package.files} files`],
      ['runtime dependencies installed', `${cs.installed.runtimeDependencies.count} packages, ${f1(cs.installed.runtimeDependencies.bytes / 1024)} KiB in ${cs.installed.runtimeDependencies.files} files (${cs.installed.runtimeDependencies.diskKiB} KiB on disk)`],
    ]));
  }
  if (res.sharedStore && !res.sharedStore.skipped) {
    const sh = res.sharedStore;
    lines.push('', `5. Shared token store (${sh.redis}): oura sleep per message with a valid token, file store vs shared store (medians of ${res.config.rounds} rounds; ratio = shared / file)`);
    const rows = [['in flight', 'store', 'msg/s', 'ms/msg', 'CPU us/msg', 'shared / file (time)', 'shared / file (CPU)']];
    for (const [conc, x] of Object.entries(sh.perMessage)) {
      rows.push([conc, 'file (each Node-RED its own copy)', f0(x.file.perSec), f2(x.file.msPerMsg), f0(x.file.cpuUsPerMsg), '1.00', '1.00']);
      rows.push([conc, 'shared (Redis)', f0(x.shared.perSec), f2(x.shared.msPerMsg), f0(x.shared.cpuUsPerMsg), f2(x.ratio), f2(x.cpuRatio)]);
      goals.push({ goal: `shared store per message, ${conc} in flight: shared / file <= 1.10`, value: f2(x.ratio), met: x.ratio <= 1.1 });
    }
    lines.push(table(rows));
    const s = sh.storm;
    lines.push('', `   refresh storm over three replicas: ${s.burst} messages in flight (${s.shares.join(' + ')}), started together (medians of ${s.rounds.length} rounds; burst = the slowest replica's)`);
    const srows = [['case', 'token requests', 'failures', 'reused', 'burst ms', 'added ms', 'p50 ms', 'max ms', '401s']];
    for (const [k, label] of [['noRefresh', 'no refresh'], ['expiredAtOura', 'token expired at Oura (401s)'], ['expiresInReached', 'expires_in reached (no 401)']]) {
      const x = s[k];
      srows.push([label, x.tokenRequests.join(','), x.failures, x.refreshReuse, f0(x.burstMs), x.added ? f0(x.added.burstMs) : '-', f1(x.p50Ms), f0(x.maxMs), k === 'noRefresh' ? '-' : x.unauthorized.join(',')]);
    }
    lines.push(table(srows));
    const renewing = [...s.expiredAtOura.tokenRequests, ...s.expiresInReached.tokenRequests];
    const failures = s.expiredAtOura.failures + s.expiresInReached.failures;
    goals.push({
      goal: 'refresh storm over three replicas: exactly 1 token request, 0 failures, 0 reused',
      value: `token requests ${renewing.join(',')}, failures ${failures}, reused ${s.expiredAtOura.refreshReuse + s.expiresInReached.refreshReuse}`,
      met: renewing.every((t) => t === 1) && failures === 0 && s.expiredAtOura.refreshReuse + s.expiresInReached.refreshReuse === 0,
    });
  }
  if (goals.length) {
    lines.push('', 'Goals');
    lines.push(table([['goal', 'measured', 'met'], ...goals.map((g) => [g.goal, g.value, g.met ? 'yes' : 'NO'])]));
  }
  res.goals = goals;
  return lines.join('\n');
}

async function main() {
  const started = Date.now();
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const results = { machine: c.machine(), package: { name: c.PKG.name, version: c.PKG.version }, config: CFG };
  log(`bench: ${results.machine.nproc} cores, ${results.machine.cpu}, Node.js ${results.machine.node}, Node-RED ${results.machine.nodeRed}`);
  const pkg = c.packAndInstall(log);
  sim = await SimProcess.start({ heartratePageSize: CFG.paging.heartratePageSize, today }, WORK);
  log(`bench: simulator at ${sim.url}`);

  const needMain = ONLY.some((x) => ['permsg', 'storm', 'paging'].includes(x));
  let main;
  if (needMain) {
    const day = addDays(today, -1);
    // The one-page request oura sleep makes for one day (it widens by a day each side and trims).
    const coreUrl = `${sim.url}/v2/usercollection/sleep?start_date=${addDays(day, -1)}&end_date=${addDays(day, 1)}`;
    const port = await c.freePort();
    const client = { clientId: 'bench-main', clientSecret: 'bench-secret-main-0123456789', redirectUris: [`http://127.0.0.1:${port}/oura/auth/callback`, 'http://127.0.0.1/static'] };
    await sim.addClient(client);
    const staticToken = await sim.staticToken(client, 'http://127.0.0.1/static');
    const dir = path.join(WORK, 'main');
    const userDir = c.copyUserDir(pkg.template, path.join(dir, 'userdir'));
    const nr = new BenchNodeRed({ name: 'main', dir, userDir, env: sim.env() });
    instances.push(nr);
    await nr.start({ port });
    await nr.deploy(flows.mainFlow({ client, coreUrl, staticToken }));
    await nr.authorize(sim, 'acc1', client);
    main = { nr, client, coreUrl, staticToken };
  }
  // Other work on the machine during each section, in cores (0 = the machine was ours).
  results.foreignLoadCores = {};
  const section = async (key, name, fn) => {
    const load = new c.ForeignLoad(ourPids);
    results[key] = await fn();
    results.foreignLoadCores[name] = load.read();
  };
  if (ONLY.includes('permsg')) await section('perMessage', 'perMessage', () => perMessage(main));
  if (ONLY.includes('storm')) await section('refreshStorm', 'refreshStorm', () => refreshStorm(main));
  if (ONLY.includes('paging')) await section('paging', 'paging', () => paging(main, pkg.template));
  if (main) {
    const st = await main.nr.state();
    results.mainInstance = { unhandledRejections: st.unhandled, heapUsedAfterGc: st.memory.heapUsed, maxRSS: st.maxRSS };
    await main.nr.stop();
  }
  if (ONLY.includes('shared')) {
    await section('sharedStore', 'sharedStore', () => sharedStore({
      sim, template: pkg.template, work: WORK, instances, extraPids, log, cfg: CFG, day: addDays(today, -1), newInstance,
    }));
  }
  if (ONLY.includes('cold')) await section('coldStart', 'coldStart', () => coldStart(pkg));
  results.durationS = Math.round((Date.now() - started) / 1000);
  const text = report(results);
  console.log(`\n${text}\n`);
  const file = path.join(__dirname, 'results.json');
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`bench: wrote ${path.relative(c.ROOT, file)} (${results.durationS} s)`);
}

main()
  .catch((err) => {
    console.error(`bench: ${err.stack || err}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const nr of instances) await nr.stop().catch(() => undefined);
    if (sim) await sim.stop().catch(() => undefined);
    await c.stopAll();
  });
