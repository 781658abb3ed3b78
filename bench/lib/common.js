'use strict';
// Shared helpers of the benchmark and the soak: paths, statistics, a control HTTP client without keep-alive,
// the machine's description, and the packed package installed into a Node-RED user directory.
const { spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
/** Scratch space (git-ignored): the packed tarball, user directories, logs. */
const TMP = path.join(ROOT, 'bench', 'tmp');
const RED_JS = path.join(ROOT, 'node_modules', 'node-red', 'red.js');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

// The e2e harness is TypeScript: load it (and the simulator) the way mocha does.
require('ts-node').register({ transpileOnly: true, project: path.join(ROOT, 'tsconfig.json') });
const { ManagedProcess, stopAll } = require('../../test/e2e/harness/proc');
const { freePort } = require('../../test/e2e/harness/http');
const { waitFor } = require('../../test/e2e/harness/wait');

function median(xs) {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const round = (x, d = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

/**
 * One HTTP request on its own connection (agent: false), so that the control traffic of the benchmark never
 * leaves keep-alive sockets in Node-RED or the simulator. JSON in, JSON (or text) out.
 */
function call(url, { method, body, headers = {}, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h = { ...headers, Connection: 'close' };
    let data;
    if (body !== undefined) {
      data = typeof body === 'string' ? body : JSON.stringify(body);
      if (typeof body !== 'string') h['Content-Type'] = h['Content-Type'] || 'application/json';
      h['Content-Length'] = Buffer.byteLength(data);
    }
    const req = http.request(u, { method: method || (data === undefined ? 'GET' : 'POST'), headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method || 'GET'} ${u.origin}${u.pathname}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** Like call(), but fails unless the status is 2xx; returns the JSON body. */
async function callOk(url, opts) {
  const r = await call(url, opts);
  if (r.status < 200 || r.status >= 300) throw new Error(`${(opts && opts.method) || (opts && opts.body !== undefined ? 'POST' : 'GET')} ${url}: ${r.status} ${r.text.slice(0, 500)}`);
  return r.json;
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function machine() {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = (/^model name\s*:\s*(.*)$/m.exec(cpuinfo) || [])[1] || os.cpus()[0]?.model || 'unknown';
  let nproc = os.cpus().length;
  try {
    nproc = Number(sh('nproc', []).trim()) || nproc;
  } catch {
    // keep os.cpus()
  }
  const red = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/node-red/package.json'), 'utf8')).version;
  return {
    nproc,
    cpu: model.trim(),
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    nodeRed: red,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
  };
}

/** Bytes and files below a directory (apparent sizes, symlinks not followed). */
function treeSize(dir) {
  let bytes = 0;
  let files = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) {
        bytes += fs.statSync(full).size;
        files += 1;
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return { bytes, files };
}

/**
 * `npm pack` (its prepare script builds src/ and sim/) and `npm install <tarball>` into a fresh Node-RED user
 * directory, as a user installs the package. Returns the template user directory.
 */
function packAndInstall(log = console.log) {
  const packDir = path.join(TMP, 'pack');
  fs.rmSync(packDir, { recursive: true, force: true });
  fs.mkdirSync(packDir, { recursive: true });
  log('bench: npm pack (builds the package)');
  const out = sh('npm', ['pack', '--json', '--pack-destination', packDir]);
  const info = JSON.parse(out.slice(out.search(/^\[\s*$/m)));
  const tarball = path.join(packDir, info[0].filename);
  const template = path.join(TMP, 'template-userdir');
  fs.rmSync(template, { recursive: true, force: true });
  fs.mkdirSync(template, { recursive: true });
  fs.writeFileSync(path.join(template, 'package.json'), `${JSON.stringify({ name: 'node-red-project', version: '0.0.1', private: true, dependencies: {} }, null, 2)}\n`);
  log(`bench: npm install ${path.relative(ROOT, tarball)} into ${path.relative(ROOT, template)}`);
  sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: template });
  const installed = path.join(template, 'node_modules', PKG.name);
  if (!fs.existsSync(path.join(installed, 'package.json'))) throw new Error(`npm install did not install ${PKG.name}`);
  return { template, tarball, tarballBytes: fs.statSync(tarball).size, packageDir: installed };
}

/** Copies a template user directory (with its node_modules) to a fresh one. */
function copyUserDir(template, dest) {
  fs.rmSync(dest, { recursive: true, force: true });
  fs.cpSync(template, dest, { recursive: true, verbatimSymlinks: true });
  return dest;
}

/**
 * CPU used on this machine by processes other than ours (the benchmark, the simulator, Node-RED), in cores, between
 * start() and read(): other work on the machine (another test run, a build) makes the timings noisy, so the report
 * says how much there was. Linux /proc only; elsewhere NaN.
 */
class ForeignLoad {
  constructor(pids) {
    this.pids = pids;
    this.t0 = this.snapshot();
  }

  snapshot() {
    try {
      const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      const idle = cpu[3] + (cpu[4] || 0);
      const total = cpu.reduce((a, b) => a + b, 0);
      const ours = new Map();
      for (const pid of this.pids()) {
        try {
          const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
          // This process also counts the children it has reaped (cutime, cstime): Node-REDs that ended, npm, du.
          ours.set(pid, Number(f[11]) + Number(f[12]) + (pid === process.pid ? Number(f[13]) + Number(f[14]) : 0));
        } catch {
          // the process ended
        }
      }
      return { busy: total - idle, ours, at: process.hrtime.bigint() };
    } catch {
      return undefined;
    }
  }

  /** Cores busy with other processes since start() (children that ended were reaped into this process's cutime). */
  read() {
    const t1 = this.snapshot();
    if (!this.t0 || !t1) return NaN;
    const seconds = Number(t1.at - this.t0.at) / 1e9;
    const hz = 100;
    let ours = 0;
    for (const [pid, j] of t1.ours) ours += j - (this.t0.ours.get(pid) || 0);
    // A child that ended was reaped into our cutime with all its time: take out what it had used before start().
    for (const [pid, j] of this.t0.ours) if (!t1.ours.has(pid)) ours -= j;
    return Math.max(0, (t1.busy - this.t0.busy - ours) / hz / seconds);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = {
  ROOT, TMP, RED_JS, PKG, ManagedProcess, stopAll, freePort, waitFor,
  median, percentile, round, ForeignLoad, call, callOk, sh, machine, treeSize, packAndInstall, copyUserDir, sleep,
};
