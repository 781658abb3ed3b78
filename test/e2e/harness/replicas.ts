// Several Node-REDs sharing one Oura authorization through one Redis (settings.js `ouraAccountTokenStore`): a real
// redis-server per scenario, three user directories with the same flows, credentials and credentialSecret, Redis
// looked at from outside (as another replica or an operator would), and messages sent over HTTP to the replicas with
// every answer kept.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { createClient } from '@redis/client';
import { RedisServer } from '../../redis';
import { expectStatus, request } from './http';
import { NodeRed } from './nodered';
import { SHARED_CREDENTIAL_SECRET } from './settings';
import { SLEEP_NODE_ID, sleepFlow } from './scenario';
import { SimClient, Simulator } from './simulator';
import { clients, simulator } from './world';

export const TAB_ID = 'e2e0000000000a00';
export const ACCOUNT_ID = 'e2e0000000000a01';
export const WEBHOOK_NODE_ID = 'e2e0000000000a02';
export const WEBHOOK_PATH = '/oura/webhook';
export const PREFIX = 'e2e-oura:';

const started: RedisServer[] = [];

/** Every redis-server this mocha run started and has not stopped (the root hooks stop them). */
export async function stopRedisServers(): Promise<void> {
  for (const r of started.splice(0)) await r.stop().catch(() => undefined);
}

/**
 * What each replica runs: the account (Client ID and Secret as credentials), GET /sleep -> oura sleep -> 200 with the
 * documents or, through a Catch, 502 with the error's message; an `oura webhook` node whose messages a function
 * counts, and GET /webhook-messages telling how many this replica's flows received.
 */
export function replicaFlow(client: SimClient): object[] {
  const inTab = (n: any) => ({ ...n, z: TAB_ID, ...(n.id === SLEEP_NODE_ID ? { account: ACCOUNT_ID } : {}) });
  return [
    { id: TAB_ID, type: 'tab', label: 'replicas' },
    {
      id: ACCOUNT_ID, type: 'oura-account', name: 'shared account', scopes: '', tokenUrl: '', redirectUri: '',
      credentials: { clientId: client.clientId, clientSecret: client.clientSecret },
    },
    ...sleepFlow().map(inTab),
    {
      id: WEBHOOK_NODE_ID, z: TAB_ID, type: 'oura webhook', name: '', account: ACCOUNT_ID, path: WEBHOOK_PATH, baseUrl: '', fetch: false, maxAge: '',
      subscribe: false, eventTypes: ['create'], dataTypes: ['daily_sleep'], x: 140, y: 260, wires: [['e2e0000000000a03']],
    },
    {
      id: 'e2e0000000000a03', z: TAB_ID, type: 'function', name: 'count', outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [],
      func: 'global.set("webhookMessages", (global.get("webhookMessages") || 0) + 1);\nglobal.set("lastWebhookEvent", msg.payload);\nreturn null;',
      x: 340, y: 260, wires: [[]],
    },
    { id: 'e2e0000000000a04', z: TAB_ID, type: 'http in', name: 'GET /webhook-messages', url: '/webhook-messages', method: 'get', upload: false, swaggerDoc: '', x: 160, y: 320, wires: [['e2e0000000000a05']] },
    {
      id: 'e2e0000000000a05', z: TAB_ID, type: 'function', name: 'how many', outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [],
      func: 'msg.payload = { count: global.get("webhookMessages") || 0, last: global.get("lastWebhookEvent") || null };\nreturn msg;',
      x: 360, y: 320, wires: [['e2e0000000000a06']],
    },
    { id: 'e2e0000000000a06', z: TAB_ID, type: 'http response', name: '', statusCode: '', headers: {}, x: 540, y: 320, wires: [] },
  ];
}

export interface Replicas {
  sim: Simulator;
  redis: RedisServer;
  client: SimClient;
  /** A, B, C */
  nodes: NodeRed[];
}

/**
 * A redis-server on a free port, and three Node-REDs (not started) whose settings.js point at it with the same
 * explicit credentialSecret; one Oura application whose Redirect URIs are the three replicas' callbacks.
 */
export async function setUpReplicas(name: string, refreshDeadlineSeconds: number): Promise<Replicas> {
  const sim = await simulator();
  const redis = await RedisServer.start();
  started.push(redis);
  const settings = { credentialSecret: SHARED_CREDENTIAL_SECRET, ouraAccountTokenStore: { url: redis.url, prefix: PREFIX, refreshDeadlineSeconds } };
  const nodes: NodeRed[] = [];
  for (const replica of ['a', 'b', 'c']) nodes.push(await NodeRed.create({ name: `${name}-${replica}`, settings, env: sim.env() }));
  const client: SimClient = {
    clientId: `e2e-${name}-${randomBytes(4).toString('hex')}`,
    clientSecret: `cs-${randomBytes(24).toString('base64url')}`,
    redirectUris: nodes.map((n) => n.adminUrl('oura/auth/callback')),
    portal: 'new',
  };
  await sim.addClient(client);
  clients.push(client);
  return { sim, redis, client, nodes };
}

/**
 * The account dialog's Authorize, through its admin routes (no browser): start, accept on the simulator's consent page,
 * and the redirect to `nr`'s callback. Returns the callback page's text.
 */
export async function authorizeThroughApi(nr: NodeRed, sim: Simulator, client: SimClient): Promise<string> {
  const started = await expectStatus(nr.adminUrl('oura/auth/start'), 200, {
    body: { id: ACCOUNT_ID, clientId: client.clientId, useStoredSecret: true, redirectUri: nr.adminUrl('oura/auth/callback'), scopes: '', tokenUrl: '' },
  });
  const location = await sim.consent(started.json<{ authorizeUrl: string }>().authorizeUrl);
  if (!location.startsWith(nr.adminUrl('oura/auth/callback'))) throw new Error(`the consent redirected to ${location}, not to ${nr.name}'s callback`);
  return (await expectStatus(location, 200)).text;
}

/** The same flows and credentials in another user directory, as a replica is provisioned (same credentialSecret). */
export function copyFlows(from: NodeRed, to: NodeRed): void {
  for (const file of ['flows.json', 'flows_cred.json']) {
    const src = path.join(from.userDir, file);
    if (!fs.existsSync(src)) throw new Error(`${src} does not exist: deploy the flows in ${from.name} first`);
    fs.copyFileSync(src, path.join(to.userDir, file));
  }
}

/** The few commands the scenarios use, as @redis/client (v5) offers them. */
export interface RedisCommands {
  set(key: string, value: string, opts?: { NX?: boolean; PX?: number }): Promise<unknown>;
  get(key: string): Promise<string | null>;
  keys(pattern: string): Promise<string[]>;
  type(key: string): Promise<string>;
  hGetAll(key: string): Promise<Record<string, string>>;
  sendCommand(args: string[]): Promise<unknown>;
}

/** Runs `fn` with a connection of its own to Redis (closed afterwards), as an operator's redis-cli would. */
export async function withRedis<T>(redis: RedisServer, fn: (c: RedisCommands) => Promise<T>): Promise<T> {
  const c = createClient({ url: redis.url, socket: { reconnectStrategy: false } });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c as unknown as RedisCommands);
  } finally {
    c.destroy();
  }
}

/** Every key under the replicas' prefix with its type and value (hashes as objects), for checks and the leak scan. */
export async function redisContents(redis: RedisServer): Promise<Record<string, unknown>> {
  return withRedis(redis, async (c) => {
    const out: Record<string, unknown> = {};
    for (const key of (await c.keys('*')).sort()) {
      const type = await c.type(key);
      out[key] = type === 'hash' ? await c.hGetAll(key) : type === 'string' ? await c.get(key) : `(${type})`;
    }
    return out;
  });
}

/** The account's record in Redis ({version, data}), if there is one. */
export async function storedRecord(redis: RedisServer): Promise<Record<string, string> | undefined> {
  const h = await withRedis(redis, (c) => c.hGetAll(`${PREFIX}tokens:${ACCOUNT_ID}`));
  return h && h.version !== undefined ? h : undefined;
}

/** How many connections Redis has from clients, and how many of them listen on a channel (pub/sub). */
export async function redisConnections(redis: RedisServer): Promise<{ clients: number; subscribers: number }> {
  const lines = String(await withRedis(redis, (c) => c.sendCommand(['CLIENT', 'LIST']))).trim().split('\n');
  // Our own connection, which asks, is in the list too.
  return { clients: lines.length - 1, subscribers: lines.filter((l) => / sub=[1-9]/.test(l)).length };
}

// ---------------------------------------------------------------------------------------------------------------
// Messages over HTTP

export interface Answer {
  replica: string;
  /** when it was sent and answered (ms, this process's clock) */
  sentAt: number;
  answeredAt: number;
  /** the HTTP status, or 0 when no answer came within the timeout (a lost message) */
  status: number;
  text: string;
  kind: 'output' | 'catch' | 'lost' | 'other';
}

/**
 * GET /sleep on a replica: 'output' is 200 with sleep documents (the flow's output), 'catch' is 502 with the Catch's
 * message, 'lost' is no answer within `timeoutMs`. Nothing here fails: the caller counts.
 */
export async function askSleep(nr: NodeRed, timeoutMs = 60000): Promise<Answer> {
  const sentAt = Date.now();
  let status = 0;
  let text = '';
  try {
    const reply = await request(`${nr.baseUrl}/sleep`, { timeoutMs });
    status = reply.status;
    text = reply.text;
  } catch (err) {
    text = String((err as Error).message);
  }
  return { replica: nr.name, sentAt, answeredAt: Date.now(), status, text, kind: classify(status, text) };
}

function classify(status: number, text: string): Answer['kind'] {
  if (status === 0) return 'lost';
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return 'other';
  }
  if (status === 200 && Array.isArray(body) && body.length > 0 && body.every((d: any) => d && typeof d.id === 'string' && typeof d.day === 'string')) return 'output';
  if (status === 502 && body && typeof body.error === 'string' && body.error.length > 20) return 'catch';
  return 'other';
}

/** The Catch's message of a 502 answer. */
export function caughtMessage(a: Answer): string {
  return JSON.parse(a.text).error;
}

/** A short account of answers for an assertion's message: how many of each kind per replica, and a sample of the odd ones. */
export function describeAnswers(answers: Answer[]): string {
  const counts: Record<string, Record<string, number>> = {};
  for (const a of answers) {
    counts[a.replica] ??= {};
    counts[a.replica][a.kind] = (counts[a.replica][a.kind] ?? 0) + 1;
  }
  const odd = answers.filter((a) => a.kind !== 'output').slice(0, 5).map((a) => `${a.replica} ${a.status}: ${a.text.slice(0, 300)}`);
  return `${JSON.stringify(counts)}${odd.length ? `; e.g. ${odd.join(' | ')}` : ''}`;
}

/** A message to every replica every `everyMs` (as inject nodes or users would), until stop(); every answer is kept. */
export class Traffic {
  private readonly pending = new Set<Promise<Answer>>();
  readonly answers: Answer[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly nodes: NodeRed[], private readonly everyMs: number) {}

  start(): void {
    const tick = () => {
      for (const nr of this.nodes) {
        const p = askSleep(nr);
        this.pending.add(p);
        void p.then((a) => {
          this.answers.push(a);
          this.pending.delete(p);
        });
      }
    };
    tick();
    this.timer = setInterval(tick, this.everyMs);
  }

  /** Whether every replica answered with data to a message sent after `since`. */
  recoveredSince(since: number): boolean {
    return this.nodes.every((nr) => this.answers.some((a) => a.replica === nr.name && a.sentAt >= since && a.kind === 'output'));
  }

  /** Stops sending and waits for the answer (or the timeout) of every message sent. */
  async stop(): Promise<Answer[]> {
    clearInterval(this.timer);
    while (this.pending.size) await Promise.all([...this.pending]);
    return this.answers;
  }

  get sent(): number {
    return this.answers.length + this.pending.size;
  }
}
