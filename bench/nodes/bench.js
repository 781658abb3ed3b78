'use strict';
/**
 * The benchmark's instruments inside a real Node-RED (loaded through settings.nodesDir, never shipped):
 * - `bench driver`: plays the inject node. POST /bench/run makes it send N messages with a fixed number in flight,
 *   round-robin over its outputs; each message carries `_benchId`.
 * - `bench sink`: the end of the flow (kind "out") or behind a Catch node (kind "error"); every arrival is
 *   counted per `_benchId`, so a message that is lost, answered twice or both answered and caught shows up.
 * - GET /bench/state: heap after GC, RSS, max RSS, open sockets, unhandled rejections.
 * - POST /bench/axios-pages: the bare page loop (axios, next_token, 30-day windows) the paging benchmark compares against.
 * - POST /bench/direct: the simulator called from this process without a flow (a floor, for the breakdown).
 * - POST /bench/timing: sets the package's retry timing (fast soak mode).
 */
const http = require('http');
const net = require('net');
const path = require('path');
const { performance } = require('perf_hooks');

const UNHANDLED = Symbol.for('oura-bench.unhandled');

module.exports = function register(RED) {
  if (!process[UNHANDLED]) {
    const list = [];
    process[UNHANDLED] = list;
    // Counted, not fatal: the soak reports every one (Node.js would otherwise crash Node-RED on the first).
    process.on('unhandledRejection', (reason) => {
      list.push(String((reason && reason.stack) || reason).slice(0, 500));
    });
  }
  const unhandled = process[UNHANDLED];
  const drivers = new Map();
  let run;

  const pkgDir = () => path.join(RED.settings.userDir || '.', 'node_modules', '@oura-flows', 'node-red-oura');
  function loadAxios() {
    try {
      return require(require.resolve('axios', { paths: [pkgDir()] }));
    } catch {
      return require('axios');
    }
  }

  function BenchDriver(config) {
    RED.nodes.createNode(this, config);
    this.outputCount = Number(config.outputs) || 1;
    drivers.set(this.id, this);
    this.on('close', () => drivers.delete(this.id));
  }
  RED.nodes.registerType('bench driver', BenchDriver);

  function BenchSink(config) {
    RED.nodes.createNode(this, config);
    const kind = config.kind === 'error' ? 'error' : 'out';
    this.on('input', (msg, send, done) => {
      if (run) run.arrive(msg, kind);
      done();
    });
  }
  RED.nodes.registerType('bench sink', BenchSink);

  /**
   * spec: { driver, n, concurrency, targets: [{ output, msg }], until: 'msg' | 'complete', settleMs, timeoutMs,
   *         rssSampleMs, gcBefore }
   * A message is finished at its first arrival ('msg'), or at its last page (msg.complete) or an error ('complete').
   */
  function startRun(spec) {
    const driver = drivers.get(spec.driver);
    if (!driver) return Promise.reject(new Error(`no bench driver ${spec.driver}`));
    if (run) return Promise.reject(new Error('a run is already under way'));
    const n = spec.n;
    const targets = spec.targets;
    const untilComplete = spec.until === 'complete';
    const outs = new Uint32Array(n);
    const errs = new Uint32Array(n);
    const finishedAt = new Float64Array(n);
    const sentAt = new Float64Array(n);
    const errorKinds = new Map();
    let sent = 0;
    let finished = 0;
    let stray = 0;
    let bad = 0;
    let docs = 0;
    let late = 0;
    const runId = `${Date.now()}-${Math.random().toString(16).slice(2)}`;
    if (spec.gcBefore && global.gc) {
      global.gc();
      global.gc();
    }
    const memBefore = process.memoryUsage();
    let cpu0;
    let rssPeak = memBefore.rss;
    const sampler = setInterval(() => {
      const r = process.memoryUsage.rss();
      if (r > rssPeak) rssPeak = r;
    }, spec.rssSampleMs || 20);

    return new Promise((resolve) => {
      let t0;
      let tEnd;
      let timer;
      const sendOne = () => {
        const id = sent++;
        const t = targets[id % targets.length];
        const msg = { ...t.msg, _benchId: id, _benchRun: runId };
        const arr = new Array(driver.outputCount).fill(null);
        arr[t.output] = msg;
        sentAt[id] = performance.now();
        driver.send(arr);
      };
      const finish = (timedOut) => {
        clearTimeout(timer);
        tEnd = tEnd || performance.now();
        const cpu = process.cpuUsage(cpu0);
        setTimeout(() => {
          clearInterval(sampler);
          const r = process.memoryUsage.rss();
          if (r > rssPeak) rssPeak = r;
          run = undefined;
          let lost = 0;
          let duplicates = 0;
          let both = 0;
          const lat = [];
          for (let i = 0; i < n; i++) {
            const o = outs[i];
            const e = errs[i];
            if (!untilComplete) {
              if (o + e === 0) lost++;
              else if (o + e > 1) duplicates++;
              if (o && e) both++;
            } else if (!finishedAt[i]) lost++;
            if (finishedAt[i]) lat.push(finishedAt[i] - sentAt[i]);
          }
          lat.sort((a, b) => a - b);
          const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))] : null);
          let outputs = 0;
          let errors = 0;
          for (let i = 0; i < n; i++) {
            outputs += outs[i];
            errors += errs[i];
          }
          const ms = tEnd - t0;
          resolve({
            n,
            concurrency: spec.concurrency,
            sent,
            ms,
            perSec: (finished / ms) * 1000,
            cpuMs: (cpu.user + cpu.system) / 1000,
            cpuUsPerMsg: (cpu.user + cpu.system) / Math.max(1, finished),
            timedOut,
            outputs,
            errors,
            lost,
            duplicates,
            answeredAndCaught: both,
            late,
            stray,
            bad,
            docs,
            latency: { p50: pct(50), p95: pct(95), p99: pct(99), max: lat.length ? lat[lat.length - 1] : null, mean: lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : null },
            errorKinds: Object.fromEntries([...errorKinds.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20)),
            memory: { rssBefore: memBefore.rss, heapBefore: memBefore.heapUsed, rssPeak, maxRSS: process.resourceUsage().maxRSS * 1024 },
          });
        }, spec.settleMs || 0);
      };
      run = {
        arrive(msg, kind) {
          const id = msg._benchId;
          if (msg._benchRun !== runId || typeof id !== 'number' || id < 0 || id >= n) {
            stray++;
            return;
          }
          const before = outs[id] + errs[id];
          if (kind === 'out') {
            outs[id]++;
            if (msg.statusCode !== undefined && msg.statusCode !== 200) bad++;
            if (Array.isArray(msg.payload)) docs += msg.payload.length;
            else if (msg.payload && Array.isArray(msg.payload.data)) docs += msg.payload.data.length;
          } else {
            errs[id]++;
            const text = String((msg.error && msg.error.message) || 'error').replace(/\d+/g, '#').slice(0, 120);
            errorKinds.set(text, (errorKinds.get(text) || 0) + 1);
          }
          let terminal;
          if (untilComplete) terminal = !finishedAt[id] && (kind === 'error' || msg.complete === true);
          else terminal = before === 0;
          if (!terminal) {
            if (tEnd) late++;
            return;
          }
          finishedAt[id] = performance.now();
          finished++;
          if (sent < n) sendOne();
          else if (finished === n) finish(false);
        },
      };
      t0 = performance.now();
      cpu0 = process.cpuUsage();
      timer = setTimeout(() => finish(true), spec.timeoutMs || 600000);
      const first = Math.min(n, spec.concurrency);
      for (let i = 0; i < first; i++) sendOne();
    });
  }

  function body(req) {
    if (req.body && typeof req.body === 'object') return Promise.resolve(req.body);
    return new Promise((resolve, reject) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
        } catch (err) {
          reject(err);
        }
      });
      req.on('error', reject);
    });
  }

  const route = (fn) => (req, res) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .then((out) => res.json(out), (err) => res.status(500).json({ error: String((err && err.stack) || err) }));
  };

  RED.httpAdmin.post('/bench/run', route(async (req) => startRun(await body(req))));

  RED.httpAdmin.get('/bench/state', route(async (req) => {
    if (req.query.gc && global.gc) {
      for (let i = 0; i < 3; i++) {
        global.gc();
        await new Promise((r) => setImmediate(r));
      }
    }
    const port = Number(req.query.port) || 0;
    const sockets = process._getActiveHandles().filter((h) => h instanceof net.Socket && !h.destroyed);
    const resources = {};
    for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] || 0) + 1;
    return {
      memory: process.memoryUsage(),
      maxRSS: process.resourceUsage().maxRSS * 1024,
      resources,
      sockets: sockets.length,
      socketsTo: port ? sockets.filter((s) => s.remotePort === port).length : undefined,
      unhandled: unhandled.length,
      unhandledSamples: unhandled.slice(0, 5),
      gc: !!global.gc,
    };
  }));

  // The bare loop: axios GET, JSON, next_token, until the last page of each window (bench/lib/heartrate.js); nothing kept.
  RED.httpAdmin.post('/bench/axios-pages', route(async (req) => {
    const { urls, token, maxPages = 5000 } = await body(req);
    const axios = loadAxios();
    const headers = { Authorization: `Bearer ${token}` };
    let pages = 0;
    let docs = 0;
    let sumMs = 0;
    const rss0 = process.memoryUsage.rss();
    let rssPeak = rss0;
    const t0 = performance.now();
    for (const url of urls) {
      let next = null;
      for (;;) {
        const u = next ? `${url}&next_token=${encodeURIComponent(next)}` : url;
        const t = performance.now();
        const r = await axios.get(u, { headers });
        sumMs += performance.now() - t;
        if (r.status !== 200 || !r.data || !Array.isArray(r.data.data)) throw new Error(`page ${pages}: ${r.status}`);
        pages++;
        docs += r.data.data.length;
        next = r.data.next_token;
        const rss = process.memoryUsage.rss();
        if (rss > rssPeak) rssPeak = rss;
        if (!next) break;
        if (pages >= maxPages) throw new Error('too many pages');
      }
    }
    return { windows: urls.length, pages, docs, sumMs, ms: performance.now() - t0, rssBefore: rss0, rssPeak };
  }));

  // The floor from inside Node-RED's process: N requests, `concurrency` in flight, no flow.
  RED.httpAdmin.post('/bench/direct', route(async (req) => {
    const { url, token, n, concurrency, client = 'http' } = await body(req);
    const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    let once;
    let agent;
    if (client === 'axios') {
      const axios = loadAxios();
      once = async () => {
        const r = await axios.get(url, { headers });
        if (r.status !== 200) throw new Error(String(r.status));
      };
    } else {
      agent = new http.Agent({ keepAlive: true });
      once = () => new Promise((resolve, reject) => {
        http.get(url, { headers, agent }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if (res.statusCode !== 200) reject(new Error(String(res.statusCode)));
            else resolve();
          });
        }).on('error', reject);
      });
    }
    let next = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (next < n) {
        next++;
        await once();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const ms = performance.now() - t0;
    if (agent) agent.destroy();
    return { n, ms, perSec: (n / ms) * 1000 };
  }));

  RED.httpAdmin.post('/bench/timing', route(async (req) => {
    const b = await body(req);
    const { timing } = require(path.join(pkgDir(), 'nodes', 'lib', 'retry.js'));
    for (const k of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs', 'maxRetries']) if (typeof b[k] === 'number') timing[k] = b[k];
    if (typeof b.sleepScale === 'number') {
      const scale = b.sleepScale;
      timing.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.round(ms * scale)).unref());
    }
    return { baseDelayMs: timing.baseDelayMs, maxDelayMs: timing.maxDelayMs, maxRetryAfterMs: timing.maxRetryAfterMs, maxRetries: timing.maxRetries };
  }));
};
