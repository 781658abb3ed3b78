// A real Node-RED, started from its CLI as a user would, on a user directory holding the installed package.
import * as fs from 'fs';
import * as path from 'path';
import { ManagedProcess } from './proc';
import { expectStatus, freePort, request, Reply, RequestOptions } from './http';
import { variant } from './env';
import { waitFor } from './wait';
import { AdminUser, SettingsOptions, writeSettings } from './settings';

export interface NodeRedOptions {
  /** scenario name: names the directory under .e2e/<variant>/ */
  name: string;
  settings?: SettingsOptions;
  /** extra environment, e.g. the simulator's OURA_* variables */
  env?: Record<string, string>;
  /** the user directory to copy (default: the variant's template, the package alone) */
  template?: string;
}

/**
 * The editor's rotating tips off, as a user can set them (Settings > View), in the user settings Node-RED keeps in the
 * user directory ("_" is the user when adminAuth is off). Node-RED 5.0.7 starts the tips' timer before it builds the
 * sidebar that shows them; when loading the editor takes over a second (a loaded machine) the timer fires first and
 * the page raises "Cannot read properties of undefined (reading 'html')", which the scenarios count as an editor error.
 */
function withoutEditorTips(userDir: string, adminUsername?: string): void {
  const settings = { editor: { view: { 'view-show-tips': false } } };
  const users: Record<string, unknown> = { _: settings };
  if (adminUsername) users[adminUsername] = settings;
  fs.writeFileSync(path.join(userDir, '.config.users.json'), JSON.stringify(users, null, 4) + '\n');
}

/** Every instance created in this mocha run, for the final scan of logs and user directories. */
export const instances: NodeRed[] = [];

export class NodeRed {
  readonly dir: string;
  readonly userDir: string;
  readonly settingsFile: string;
  readonly logFiles: string[] = [];
  private proc: ManagedProcess | undefined;
  private token: string | undefined;

  private constructor(
    readonly name: string,
    readonly port: number,
    readonly settings: SettingsOptions,
    private readonly env: Record<string, string>,
  ) {
    const v = variant();
    this.dir = path.join(v.workDir, name);
    this.userDir = path.join(this.dir, 'userdir');
    this.settingsFile = path.join(this.dir, 'settings.js');
  }

  /** Prepares a fresh user directory (a copy of the variant's install of the packed tarball) and the settings file. */
  static async create(opts: NodeRedOptions): Promise<NodeRed> {
    const v = variant();
    const nr = new NodeRed(opts.name, await freePort(), opts.settings ?? {}, opts.env ?? {});
    fs.rmSync(nr.dir, { recursive: true, force: true });
    fs.mkdirSync(nr.dir, { recursive: true });
    fs.cpSync(opts.template ?? v.templateUserDir, nr.userDir, { recursive: true, verbatimSymlinks: true });
    writeSettings(nr.settingsFile, nr.settings, v.redJs);
    withoutEditorTips(nr.userDir, nr.settings.adminUser?.username);
    instances.push(nr);
    return nr;
  }

  /** `localhost`, the loopback name Oura's portal accepts in a Redirect URI (Node-RED listens on 127.0.0.1). */
  get baseUrl(): string {
    return `http://localhost:${this.port}`;
  }

  /** The editor's address, with a trailing slash, e.g. http://localhost:1880/admin/ */
  get editorUrl(): string {
    const root = (this.settings.httpAdminRoot ?? '/').replace(/\/?$/, '/');
    return `${this.baseUrl}${root}`;
  }

  /** An admin route relative to httpAdminRoot, e.g. adminUrl('oura/auth/status/x'). */
  adminUrl(route: string): string {
    return this.editorUrl + route.replace(/^\//, '');
  }

  get adminUser(): AdminUser | undefined {
    return this.settings.adminUser;
  }

  get running(): boolean {
    return !!this.proc?.running;
  }

  get process(): ManagedProcess {
    if (!this.proc) throw new Error(`Node-RED ${this.name} has not been started`);
    return this.proc;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`Node-RED ${this.name} is already running`);
    const v = variant();
    const logFile = path.join(this.dir, 'logs', `node-red-${this.logFiles.length + 1}.log`);
    this.logFiles.push(logFile);
    this.token = undefined;
    this.proc = new ManagedProcess({
      name: `Node-RED ${this.name}`,
      command: v.node,
      args: [v.redJs, '-u', this.userDir, '-p', String(this.port), '-s', this.settingsFile],
      logFile,
      cwd: this.dir,
      env: { ...process.env, ...this.env, NODE_ENV: 'production' },
    });
    const proc = this.proc;
    await waitFor(
      () => {
        const out = proc.text();
        if (/Waiting for missing types to be registered/.test(out)) {
          throw new Error(`Node-RED ${this.name} cannot start its flows (a node type did not register):\n${proc.tail(40)}`);
        }
        if (!proc.running) throw new Error(`Node-RED ${this.name} exited during start-up:\n${proc.tail(40)}`);
        return /Server now running at/.test(out) && /\] Started flows/.test(out);
      },
      { timeoutMs: 60000, message: () => `Node-RED ${this.name} did not start within 60 s:\n${proc.tail(40)}` },
    );
    await expectStatus(this.editorUrl, 200);
  }

  /** Stops Node-RED with `signal` (SIGTERM: a clean shutdown, SIGKILL: a crash) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.proc || !this.proc.running) return;
    await this.proc.stop(signal, 15000);
  }

  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }

  /** The bearer token of the admin user (adminAuth only), obtained as the editor and node-red-admin do. */
  async adminToken(): Promise<string | undefined> {
    const user = this.adminUser;
    if (!user) return undefined;
    if (!this.token) {
      const reply = await expectStatus(this.adminUrl('auth/token'), 200, {
        body: { client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: user.username, password: user.password },
      });
      this.token = reply.json<{ access_token: string }>().access_token;
    }
    return this.token;
  }

  /** An admin API call made with the admin user's token when adminAuth is on. */
  async admin(route: string, opts: RequestOptions = {}): Promise<Reply> {
    const token = await this.adminToken();
    const headers = { ...(opts.headers ?? {}) };
    if (token) headers.authorization = `Bearer ${token}`;
    return request(this.adminUrl(route), { ...opts, headers });
  }

  async flows(): Promise<Reply> {
    const reply = await this.admin('flows', { headers: { 'Node-RED-API-Version': 'v2' } });
    if (reply.status !== 200) throw new Error(`GET ${this.adminUrl('flows')}: expected 200, got ${reply.status}: ${reply.text}`);
    return reply;
  }

  /** Replaces the flows through the admin API (a full deploy, as a script or a pipeline does) and waits until they run. */
  async deployFlows(flows: object[]): Promise<void> {
    const mark = this.process.mark();
    const reply = await this.admin('flows', { body: flows, headers: { 'Node-RED-API-Version': 'v1', 'Node-RED-Deployment-Type': 'full' } });
    if (reply.status !== 204 && reply.status !== 200) throw new Error(`POST ${this.adminUrl('flows')}: expected 204, got ${reply.status}: ${reply.text.slice(0, 500)}`);
    await this.process.waitForLine(/\] Started flows/, 30000, mark);
  }

  /** Node-RED's own log text of the current run. */
  log(): string {
    return this.proc?.text() ?? '';
  }

  /** The text of every log file of every run of this instance. */
  allLogs(): string {
    return this.logFiles.filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  }
}
