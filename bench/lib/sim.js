'use strict';
// The simulator as a child process, driven through its /_sim/ control routes (sim/server.ts).
const path = require('path');
const { ManagedProcess, ROOT, call, callOk } = require('./common');

class SimProcess {
  constructor(url, moiUrl, proc) {
    this.url = url;
    this.moiUrl = moiUrl;
    this.proc = proc;
  }

  /** opts: startSimulator's options (port, clients, accessTokenTtl, pageSize, heartratePageSize, ...). */
  static async start(opts, logDir) {
    const proc = new ManagedProcess({
      name: 'oura simulator',
      command: process.execPath,
      args: [path.join(__dirname, 'sim-child.js'), JSON.stringify({ port: 0, ...opts })],
      logFile: path.join(logDir, 'simulator.log'),
      cwd: ROOT,
      env: { ...process.env },
    });
    const m = await proc.waitForLine(/bench simulator listening on (http:\/\/\S+) \(authorization server (http:\/\/\S+)\)/, 60000);
    return new SimProcess(m[1], m[2], proc);
  }

  get port() {
    return Number(new URL(this.url).port);
  }

  /** The OURA_* variables that point the package at this simulator: its two hosts. */
  env() {
    return { OURA_MOI_URL: this.moiUrl, OURA_API_URL: this.url };
  }

  control(route, body) {
    return callOk(`${this.url}/_sim/${route}`, body === undefined ? {} : { method: 'POST', body });
  }

  addClient(c) {
    return this.control('clients', c);
  }

  setFaults(f) {
    return this.control('faults', f);
  }

  expire() {
    return this.control('expire', {});
  }

  setTtl(seconds) {
    return this.control('ttl', { seconds });
  }

  stats() {
    return this.control('stats');
  }

  resetStats() {
    return this.control('reset-stats', {});
  }

  async consent(authorizeUrl) {
    return (await this.control('consent', { authorizeUrl, accept: true })).location;
  }

  /**
   * A token obtained outside the package (consent + code exchange by hand): what a user would paste into the core
   * `http request` node as a static bearer token.
   */
  async staticToken(client, redirectUri = client.redirectUris[0]) {
    const u = new URL(`${this.moiUrl}/oauth/v2/ext/oauth-authorize`);
    u.searchParams.set('response_type', 'code');
    u.searchParams.set('client_id', client.clientId);
    u.searchParams.set('redirect_uri', redirectUri);
    u.searchParams.set('state', `bench${Date.now()}`);
    const location = new URL(await this.consent(u.toString()));
    const code = location.searchParams.get('code');
    if (!code) throw new Error(`the simulator's consent gave no code: ${location}`);
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: client.clientId, client_secret: client.clientSecret });
    const r = await call(`${this.moiUrl}/oauth/v2/ext/oauth-token`, { method: 'POST', body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    if (r.status !== 200 || !r.json || !r.json.access_token) throw new Error(`code exchange failed: ${r.status} ${r.text}`);
    return r.json.access_token;
  }

  async stop() {
    await this.proc.stop('SIGTERM', 10000);
  }
}

module.exports = { SimProcess };
