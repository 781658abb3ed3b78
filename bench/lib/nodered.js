'use strict';
// A real Node-RED (node_modules/node-red, started from red.js as a user starts it) on a user directory holding the
// packed package, with the benchmark's driver and sink nodes (bench/nodes) loaded through `nodesDir`.
const fs = require('fs');
const path = require('path');
const { ManagedProcess, RED_JS, call, callOk, freePort, waitFor } = require('./common');

const CREDENTIAL_SECRET = 'bench-credential-secret-6c1d3b0f';

function writeSettings(file, extra = {}) {
  const settings = {
    flowFile: 'flows.json',
    uiHost: '127.0.0.1',
    credentialSecret: CREDENTIAL_SECRET,
    nodesDir: [path.join(__dirname, '..', 'nodes')],
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { tours: false, projects: { enabled: false } },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    ...extra,
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `// written by bench/lib/nodered.js\nmodule.exports = ${JSON.stringify(settings, null, 2)};\n`);
}

class BenchNodeRed {
  /**
   * dir: this instance's scratch directory; userDir: a user directory with the package installed (or none);
   * env: e.g. the simulator's OURA_* variables.
   */
  constructor({ name, dir, userDir, env = {}, settings = {}, nodeArgs = ['--expose-gc'] }) {
    this.name = name;
    this.dir = dir;
    this.userDir = userDir;
    this.env = env;
    this.nodeArgs = nodeArgs;
    this.settingsFile = path.join(dir, 'settings.js');
    this.runs = 0;
    writeSettings(this.settingsFile, settings);
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts Node-RED and waits for "Started flows"; returns the milliseconds from spawn to that line. */
  async start({ port, nodeArgs = this.nodeArgs, env = {} } = {}) {
    this.port = port || this.port || (await freePort());
    this.runs += 1;
    const t0 = process.hrtime.bigint();
    this.proc = new ManagedProcess({
      name: `Node-RED ${this.name}`,
      command: process.execPath,
      args: [...nodeArgs, RED_JS, '-u', this.userDir, '-p', String(this.port), '-s', this.settingsFile],
      logFile: path.join(this.dir, 'logs', `node-red-${this.runs}.log`),
      cwd: this.dir,
      env: { ...process.env, ...this.env, ...env, NODE_ENV: 'production' },
    });
    const proc = this.proc;
    let startedAt;
    await waitFor(() => {
      const out = proc.text();
      if (/Waiting for missing types to be registered/.test(out)) throw new Error(`Node-RED ${this.name}: a node type did not register:\n${proc.tail(40)}`);
      if (!proc.running) throw new Error(`Node-RED ${this.name} exited during start-up:\n${proc.tail(40)}`);
      if (/\] Started flows/.test(out) && /Server now running at/.test(out)) {
        startedAt = startedAt || process.hrtime.bigint();
        return true;
      }
      return false;
    }, { timeoutMs: 90000, intervalMs: 5, message: () => `Node-RED ${this.name} did not start within 90 s:\n${proc.tail(40)}` });
    return Number(startedAt - t0) / 1e6;
  }

  async stop() {
    if (this.proc && this.proc.running) await this.proc.stop('SIGTERM', 15000);
  }

  admin(route, opts) {
    return callOk(`${this.url}/${route.replace(/^\//, '')}`, opts);
  }

  /** Replaces the flows (full deploy) and waits until they run. */
  async deploy(flows) {
    const mark = this.proc.mark();
    const r = await call(`${this.url}/flows`, { method: 'POST', body: flows, headers: { 'Node-RED-Deployment-Type': 'full' } });
    if (r.status !== 204 && r.status !== 200) throw new Error(`POST /flows: ${r.status} ${r.text.slice(0, 500)}`);
    await this.proc.waitForLine(/\] Started flows/, 30000, mark);
  }

  /** The authorization a user does in the account dialog: start, accept on the simulator's page, the callback. */
  async authorize(sim, accountId, client) {
    const start = await this.admin('oura/auth/start', {
      method: 'POST',
      body: { id: accountId, clientId: client.clientId, clientSecret: client.clientSecret, redirectUri: `${this.url}/oura/auth/callback`, scopes: '' },
    });
    const location = await sim.consent(start.authorizeUrl);
    const r = await call(location);
    if (r.status !== 200) throw new Error(`callback ${location}: ${r.status} ${r.text.slice(0, 300)}`);
    const status = await this.admin(`oura/auth/status/${accountId}`);
    if (!status.authorized) throw new Error(`account ${accountId} is not authorized after the callback: ${JSON.stringify(status)}`);
    return status;
  }

  /** Runs a batch of messages through the flow (see bench/nodes/bench.js, POST /bench/run). */
  run(spec) {
    return this.admin('bench/run', { method: 'POST', body: spec });
  }

  state(gc = true) {
    return this.admin(`bench/state${gc ? '?gc=1' : ''}`);
  }

  log() {
    return this.proc ? this.proc.text() : '';
  }
}

module.exports = { BenchNodeRed, CREDENTIAL_SECRET };
