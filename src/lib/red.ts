/**
 * The parts of Node-RED's API the package uses, typed narrowly so both 4.1 and 5.x fit.
 */
import type { IncomingMessage, ServerResponse } from 'http';

export interface Req extends IncomingMessage {
  body?: unknown;
  query: Record<string, unknown>;
  params: Record<string, string>;
}
export interface Res extends ServerResponse {
  status(code: number): Res;
  json(body: unknown): Res;
  send(body: string): Res;
  set(name: string, value: string): Res;
}
export type Handler = (req: Req, res: Res, next?: (err?: unknown) => void) => void;

export interface RedNode {
  id: string;
  type: string;
  name?: string;
  _alias?: string;
  credentials?: Record<string, unknown>;
  on(event: 'input', cb: (msg: any, send: (msg: any) => void, done: (err?: Error) => void) => void): void;
  on(event: 'close', cb: ((removed: boolean, done: () => void) => void) | (() => void)): void;
  status(s: { fill?: string; shape?: string; text?: string } | Record<string, never>): void;
  error(err: unknown, msg?: unknown): void;
  warn(msg: unknown): void;
  log(msg: unknown): void;
  debug(msg: unknown): void;
  send(msg: unknown): void;
  context(): { get(key: string, store?: string): any; set(key: string, value: unknown, store?: string): void };
}

export interface RED {
  nodes: {
    createNode(node: any, config: any): void;
    registerType(type: string, ctor: any, opts?: any): void;
    getNode(id: string): any;
    getCredentials(id: string): Record<string, unknown> | undefined;
    addCredentials(id: string, creds: Record<string, unknown>): void | Promise<void>;
    eachNode(cb: (n: { id: string; type: string }) => void): void;
  };
  httpAdmin: { get(path: string, ...h: Handler[]): void; post(path: string, ...h: Handler[]): void };
  auth: { needsPermission(p: string): Handler };
  settings: Record<string, any> & { get?(k: string): any };
  events?: { on(event: string, cb: (...args: any[]) => void): void; removeListener?(event: string, cb: (...args: any[]) => void): void };
  util?: { generateId?(): string; cloneMessage?<T>(msg: T): T };
  log: { warn(m: string): void; info(m: string): void; debug(m: string): void; error(m: string): void };
  _(key: string, subs?: Record<string, unknown>): string;
}

/** What a data call needs to know about its account: its key and its deployed client. */
export interface AccountHandle {
  key: string;
  credentials(): { clientId: string; clientSecret: string; tokenUrl?: string };
}

/** The `oura-account` config node as flow nodes see it. */
export interface OuraAccountNode extends RedNode {
  scopes: string;
  tokenUrl: string;
  redirectUri: string;
  handle: AccountHandle;
}
