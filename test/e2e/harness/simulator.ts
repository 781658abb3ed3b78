// The project's Oura simulator (build/sim/cli.js), started as a separate process and driven through its /_sim/ routes.
import * as fs from 'fs';
import * as path from 'path';
import { ManagedProcess } from './proc';
import { expectStatus, freePort } from './http';
import { repoRoot } from './env';

// The simulator's own types: the harness drives the same simulator over HTTP, so it shares them.
export type { SimClient, SimStats } from '../../../sim/server';
import type { SimClient, SimStats } from '../../../sim/server';
import type { Subscription } from '../../../sim/webhooks';

export class Simulator {
  private constructor(
    /** The API host (OURA_API_URL). */
    readonly url: string,
    /** The authorization server (OURA_MOI_URL). */
    readonly moiUrl: string,
    private readonly proc: ManagedProcess,
  ) {}

  static async start(logDir: string): Promise<Simulator> {
    const cli = path.join(repoRoot, 'build/sim/cli.js');
    if (!fs.existsSync(cli)) {
      throw new Error(`${cli} is missing: the simulator is built by \`npm run build\` (sim/ -> build/sim/)`);
    }
    const port = await freePort();
    const proc = new ManagedProcess({
      name: 'oura simulator',
      command: process.execPath,
      args: [cli, '--port', String(port), '--moi-port', String(await freePort()), '--host', '127.0.0.1'],
      logFile: path.join(logDir, 'simulator.log'),
      env: { ...process.env },
      cwd: repoRoot,
    });
    const match = await proc.waitForLine(/Oura simulator listening on (http:\/\/\S+) \(authorization server (http:\/\/\S+)\)/, 20000);
    return new Simulator(match[1].replace(/\/$/, ''), match[2].replace(/\/$/, ''), proc);
  }

  /** The current server's consent page. */
  get authorizeUrl(): string {
    return `${this.moiUrl}/oauth/v2/ext/oauth-authorize`;
  }

  /** The OURA_* variables that point the package at this simulator: the two hosts, nothing else, as a user would. */
  env(): Record<string, string> {
    return { OURA_MOI_URL: this.moiUrl, OURA_API_URL: this.url };
  }

  async addClient(client: SimClient): Promise<void> {
    await expectStatus(`${this.url}/_sim/clients`, '2xx', { method: 'POST', body: client });
  }

  async stats(): Promise<SimStats> {
    const stats = (await expectStatus(`${this.url}/_sim/stats`, 200)).json<SimStats>();
    // The restart checks compare these counters: a missing one must not compare equal by accident.
    for (const key of ['tokenRequests', 'codeExchanges', 'refreshes', 'refreshReuse', 'revocations'] as const) {
      if (typeof stats[key] !== 'number') throw new Error(`GET /_sim/stats has no number ${key}: ${JSON.stringify(stats)}`);
    }
    return stats;
  }

  /** The last day the simulator has data for: tests ask for days before it, whatever the date. */
  async today(): Promise<string> {
    return (await expectStatus(`${this.url}/_sim/info`, 200)).json<{ today: string }>().today;
  }

  async resetStats(): Promise<void> {
    await expectStatus(`${this.url}/_sim/reset-stats`, '2xx', { method: 'POST', body: {} });
  }

  /** Every access token issued so far answers 401 from now on: the next data request forces a refresh. */
  async expireAccessTokens(): Promise<void> {
    await expectStatus(`${this.url}/_sim/expire`, '2xx', { method: 'POST', body: {} });
  }

  /**
   * What the user's browser does on Oura's consent page, without a browser: follows `authorizeUrl`, accepts, and
   * returns the address Oura redirects to (the callback, with the code and state).
   */
  async consent(authorizeUrl: string): Promise<string> {
    return (await expectStatus(`${this.url}/_sim/consent`, 200, { body: { authorizeUrl, accept: true } })).json<{ location: string }>().location;
  }

  /** Posts `event` to `callbackUrl` signed as Oura signs it (HMAC of timestamp + body with the Client Secret); the callback's answer. */
  async sendEvent(callbackUrl: string, event: object, secret: string): Promise<{ status: number; body: string }> {
    return (await expectStatus(`${this.url}/_sim/event`, 200, { body: { callbackUrl, event, secret } })).json<{ status: number; body: string }>();
  }

  /** The webhook subscriptions the simulator holds, of every application, as Oura would list them. */
  async webhooks(): Promise<Subscription[]> {
    return (await expectStatus(`${this.url}/_sim/webhooks`, 200)).json<Subscription[]>();
  }

  async secrets(): Promise<string[]> {
    return (await expectStatus(`${this.url}/_sim/secrets`, 200)).json<string[]>();
  }

  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM', 5000);
  }
}
