/**
 * The connection to Redis for the shared token store: the official client, loaded only when a store is configured,
 * one connection for commands and one of its own for pub/sub. A command waits for the connection while it is being made
 * (right after a start, or while reconnecting), is never queued beyond its deadline, and gives up after a short time
 * when Redis cannot be reached or does not answer (a paused server), so a caller can wait and say so instead of hanging. The URL's password never reaches a log or a message.
 */
import { OuraError } from '../errors';
import { t } from '../i18n';

/** Redis could not be reached or did not answer: the caller waits, and tells the user it does. */
export class StoreUnavailableError extends OuraError {
  constructor(message: string, status = t('oura.status.redisUnavailable'), code = 'OURA_STORE_UNAVAILABLE') {
    super(message, status, code);
  }
}

/** Redis holds something this Node-RED cannot decrypt (another credentialSecret): waiting will not help. */
export class StoreUnreadableError extends OuraError {
  constructor(message: string) {
    super(message, t('oura.status.sharedTokensUnreadable'), 'OURA_STORE_UNREADABLE');
  }
}

export const COMMAND_TIMEOUT_MS = 2000;

/** The URL without its password (or user name), for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return t('oura.store.unreadableUrl');
  }
}

/** The few commands the store uses, as @redis/client (v5) offers them. */
export interface RedisLike {
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  duplicate(): RedisLike;
  eval(script: string, opts: { keys: string[]; arguments: string[] }): Promise<unknown>;
  hGetAll(key: string): Promise<Record<string, string>>;
  set(key: string, value: string, opts?: Record<string, unknown>): Promise<unknown>;
  get(key: string): Promise<string | null>;
  getDel(key: string): Promise<string | null>;
  del(key: string | string[]): Promise<number>;
  exists(key: string): Promise<number>;
  pExpire(key: string, ms: number): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  destroy?(): void;
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  isReady: boolean;
}

export interface Logger {
  warn(msg: string): void;
  error?(msg: string): void;
  debug?(msg: string): void;
}

/** A pair of connections that reconnect by themselves; `ready` tells whether commands can go through now. */
export class RedisConnection {
  readonly cmd: RedisLike;
  readonly sub: RedisLike;
  private lastLoggedAt = 0;
  private closed = false;
  /** Commands waiting for the connection: one 'ready' listener for all of them, however many there are. */
  private readonly readyWaiters = new Set<() => void>();

  constructor(readonly url: string, private readonly log: Logger, factory?: (opts: Record<string, unknown>) => RedisLike) {
    const create = factory ?? loadClientFactory();
    this.cmd = create({
      url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 5000,
        // Keep trying, at most every 5 s: Redis coming back must heal everything by itself.
        reconnectStrategy: (retries: number) => Math.min(200 * (retries + 1), 5000),
      },
    });
    this.sub = this.cmd.duplicate();
    this.cmd.on('ready', () => {
      for (const w of [...this.readyWaiters]) w();
    });
    for (const [c, what] of [[this.cmd, 'commands'], [this.sub, 'pub/sub']] as const) {
      c.on('error', (err: Error) => this.noteError(what, err));
      c.on('ready', () => this.log.debug?.(`[oura] ${t('oura.store.redisConnected', { what, url: redactUrl(url) })}`));
    }
  }

  get ready(): boolean {
    return !this.closed && this.cmd.isReady;
  }

  /** Connects both; failures are retried by the client itself (and logged), never thrown here. */
  start(): void {
    for (const c of [this.cmd, this.sub]) c.connect().catch((err: Error) => this.noteError('connect', err));
  }

  /** Until the command connection is ready, at most `ms`. */
  private whenReady(ms: number): Promise<void> {
    if (this.cmd.isReady) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.readyWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref?.();
      this.readyWaiters.add(done);
    });
  }

  /** A command with a deadline: a paused or unreachable Redis becomes a StoreUnavailableError. */
  async call<T>(what: string, run: (c: RedisLike) => Promise<T>, timeoutMs = COMMAND_TIMEOUT_MS): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(t('oura.store.closed'));
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        // Right after a start the connection is still being made: wait for it, but never send once the caller gave up.
        this.whenReady(timeoutMs).then(() => {
          if (this.closed || Date.now() >= deadline) throw new Error(t('oura.store.notConnectedWithinMs', { ms: timeoutMs }));
          return run(this.cmd);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(t('oura.store.noAnswerWithinMs', { ms: timeoutMs }))), timeoutMs);
          timer.unref?.();
        }),
      ]);
    } catch (err) {
      if (err instanceof OuraError) throw err;
      throw new StoreUnavailableError(t('oura.store.noAnswer', { url: redactUrl(this.url), what, message: scrub((err as Error)?.message, this.url) }));
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [this.sub, this.cmd]) {
      try {
        if (c.destroy) c.destroy();
        else await (c.close?.() ?? c.quit?.());
      } catch {
        // already gone
      }
    }
  }

  /** At most one warning every 30 s: a Redis that stays down must not flood the log. */
  private noteError(what: string, err: Error): void {
    if (this.closed) return;
    const now = Date.now();
    const text = `[oura] ${t('oura.store.redisError', { what, url: redactUrl(this.url), message: scrub(err?.message, this.url) })}`;
    if (now - this.lastLoggedAt > 30_000) {
      this.lastLoggedAt = now;
      this.log.warn(text);
    } else {
      this.log.debug?.(text);
    }
  }
}

/** Error texts of a client may repeat the URL: never its password. */
function scrub(message: string | undefined, url: string): string {
  let text = String(message ?? t('oura.store.unknownError'));
  try {
    const pw = new URL(url).password;
    if (pw) text = text.split(pw).join('***').split(decodeURIComponent(pw)).join('***');
  } catch {
    // not a URL: nothing of it can be in the text
  }
  return text.split(url).join(redactUrl(url));
}

function loadClientFactory(): (opts: Record<string, unknown>) => RedisLike {
  // Loaded here, only when a shared store is configured: without one the package never touches Redis.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { createClient } = require('@redis/client') as { createClient(opts: Record<string, unknown>): RedisLike };
  return createClient;
}
