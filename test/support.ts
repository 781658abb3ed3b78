/**
 * Shared set-up for node tests: a real Node-RED runtime (node-red-node-test-helper) in front of the
 * project's Oura simulator, a fresh user directory per test, and helpers that do what a user does in
 * the editor (start an authorization, accept on Oura's page, land on the callback).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { strict as assert } from 'assert';
import { startSimulator, Simulator, SimOptions } from '../sim/server';
import * as tokens from '../src/lib/store/tokens';
import * as pending from '../src/lib/oauth/pending';
import { resetDiscovery } from '../src/lib/oauth/discovery';
import { stopSharedStore } from '../src/lib/store/shared-setup';
import { timing } from '../src/lib/retry';
import { TODAY } from './clock';

// eslint-disable-next-line @typescript-eslint/no-var-requires
export const helper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));

export const accountNode = require('../src/oura-account');
export const sleepNode = require('../src/oura-sleep');

export const CLIENT_ID = 'test-client';
export const CLIENT_SECRET = 'test-secret-0123456789';
export const REDIRECT = 'http://localhost:1880/oura/auth/callback';
/** An app of Oura's old portal: only the legacy token URL accepts it. */
export const LEGACY_APP = { clientId: 'test-legacy-client', clientSecret: 'test-legacy-secret-0123456789', redirectUris: [REDIRECT], portal: 'old' as const };

export interface Env {
  sim: Simulator;
  userDir: string;
  /** Every delay the client asked to sleep, in ms (tests never really wait). */
  sleeps: number[];
}

const savedTiming = { ...timing };
const OURA_ENV = ['OURA_MOI_URL', 'OURA_API_URL', 'OURA_AUTHORIZE_URL', 'OURA_TOKEN_URL', 'OURA_REVOKE_URL'];

/** `settings`: more of Node-RED's settings (e.g. `ouraAccountTokenStore`); `credentialSecret: null` leaves it out. */
export async function setUp(opts: SimOptions = {}, settings: Record<string, unknown> = {}): Promise<Env> {
  const sim = await startSimulator({
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT] }, LEGACY_APP],
    // The same days of data whatever the date: tests name their days from TODAY (test/clock.ts).
    today: TODAY,
    ...opts,
  });
  // Only the two hosts, as a user would: every endpoint is found at its real path under them.
  for (const k of OURA_ENV) delete process.env[k];
  Object.assign(process.env, sim.env());
  resetDiscovery();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oura-nr-'));
  const all: Record<string, unknown> = { userDir, credentialSecret: 'test-credential-secret', ...settings };
  if (all.credentialSecret === null) delete all.credentialSecret;
  helper.settings(all);
  const sleeps: number[] = [];
  timing.sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  tokens.resetMemory();
  pending.clearAll();
  await new Promise<void>((resolve, reject) => helper.startServer((err: unknown) => (err ? reject(err) : resolve())));
  return { sim, userDir, sleeps };
}

export async function tearDown(env: Env | undefined): Promise<void> {
  await helper.unload();
  await stopSharedStore();
  await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  Object.assign(timing, savedTiming);
  tokens.resetMemory();
  pending.clearAll();
  if (env) {
    await env.sim.close();
    fs.rmSync(env.userDir, { recursive: true, force: true });
  }
  for (const k of OURA_ENV) delete process.env[k];
  resetDiscovery();
}

export function accountConfig(id = 'acc1', extra: Record<string, unknown> = {}) {
  return { id, type: 'oura-account', name: 'Me', scopes: '', tokenUrl: '', redirectUri: REDIRECT, ...extra };
}

export function creds(extra: Record<string, unknown> = {}) {
  return { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...extra };
}

/** A flow: account + oura sleep -> helper (output) and a catch -> helper (errors). */
export function sleepFlow(nodeProps: Record<string, unknown> = {}, accountId = 'acc1') {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    accountConfig(accountId),
    { id: 'sleep1', z: 'tab', type: 'oura sleep', account: accountId, wires: [['out']], ...nodeProps },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

/** Node-RED 4 tells flow nodes from config nodes by their position: give every flow node one. */
export function placed<T>(flow: T[]): T[] {
  return flow.map((n) => {
    const node = n as Record<string, unknown>;
    return node.z && node.x === undefined ? ({ x: 100, y: 100, ...node } as T) : n;
  });
}

export function load(flow: unknown[], credentials: Record<string, unknown> = { acc1: creds() }): Promise<void> {
  const catchNode = require('@node-red/nodes/core/common/25-catch.js');
  return helper.load([accountNode, sleepNode, catchNode], placed(flow), credentials);
}

/** POST /oura/auth/start as the dialog does; returns the authorize URL. */
export async function startAuth(id = 'acc1', body: Record<string, unknown> = {}): Promise<string> {
  const res = await helper.request().post('/oura/auth/start').send({
    id, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT, scopes: '', ...body,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.authorizeUrl;
}

/** What the browser does after Accept: follow Oura's redirect to our callback (admin app). */
export async function callback(location: string) {
  const u = new URL(location);
  return helper.request().get(`/oura/auth/callback${u.search}`);
}

/** The whole consent dance for an account. */
export async function authorize(env: Env, id = 'acc1', opts: { scopes?: string[]; body?: Record<string, unknown> } = {}) {
  const url = await startAuth(id, opts.body);
  const location = await env.sim.consent(url, { accept: true, scopes: opts.scopes });
  const res = await callback(location);
  assert.equal(res.status, 200, res.text);
  return res;
}

/**
 * Routes what reaches the helper nodes to whoever sent the message, by _msgid. One listener per helper
 * node for its whole life: Node-RED's nodes keep 'input' handlers in their own list, where adding and
 * removing one-shot listeners per message is not reliable.
 */
type Waiter = { onOut?: (m: any) => void; onError?: (m: any) => void; onDone?: (m: any) => void };
const waiters = new Map<string, Waiter>();
const wired = new WeakSet<object>();

function wire(id: string, pick: (w: Waiter) => ((m: any) => void) | undefined): void {
  const node = helper.getNode(id);
  if (!node || wired.has(node)) return;
  wired.add(node);
  node.on('input', (m: any) => {
    const w = waiters.get(m._msgid);
    const cb = w && pick(w);
    if (cb) cb(m);
  });
}

/** Sends `msg` into a node; `w` hears what comes out of 'out', 'caught' and 'completed'. */
export function inject(nodeId: string, msg: Record<string, unknown>, w: Waiter): () => void {
  wire('out', (x) => x.onOut);
  wire('caught', (x) => x.onError);
  wire('completed', (x) => x.onDone);
  const id = `t${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
  waiters.set(id, w);
  helper.getNode(nodeId).receive({ ...msg, _msgid: id });
  return () => waiters.delete(id);
}

/** Sends a message and resolves with the output message or rejects with what the Catch node got. */
export function ask(msg: Record<string, unknown> = {}, nodeId = 'sleep1'): Promise<any> {
  return new Promise((resolve, reject) => {
    const forget = inject(nodeId, msg, {
      onOut: (m) => {
        forget();
        resolve(m);
      },
      onError: (m) => {
        forget();
        reject(Object.assign(new Error(m.error?.message), { msg: m }));
      },
    });
  });
}

/** Resolves with the error a message ends in (fails if it produced an output instead). */
export async function askError(msg: Record<string, unknown> = {}, nodeId = 'sleep1'): Promise<{ message: string; msg: any }> {
  try {
    const m = await ask(msg, nodeId);
    assert.fail(`expected an error, got an output with ${JSON.stringify(m.payload).slice(0, 200)}`);
  } catch (err) {
    if ((err as { msg?: unknown }).msg === undefined) throw err;
    return { message: (err as Error).message, msg: (err as { msg: unknown }).msg };
  }
}

/** Records every status the node shows from now on. */
export function watchStatus(nodeId = 'sleep1'): Array<{ fill?: string; shape?: string; text?: string }> {
  const seen: Array<{ fill?: string; shape?: string; text?: string }> = [];
  helper.getNode(nodeId).on('call:status', (call: { args: any[] }) => seen.push(call.args[0]));
  return seen;
}

/** Asserts that none of the simulator's secrets appear in a text. */
export function assertNoSecrets(sim: Simulator, text: string, where: string): void {
  for (const s of sim.issuedSecrets()) {
    if (s && s.length >= 8) assert.ok(!text.includes(s), `a secret leaked into ${where}`);
  }
}
