/**
 * A real redis-server (Debian's package) for the tests of the shared token store, on a free port, with nothing kept
 * on disk. Outside CI a machine without redis-server skips those tests with a message; in CI (CI set) it fails.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as net from 'net';

/** A logger that says nothing, for the tests' own Redis connections. */
export const quiet = { warn: () => undefined };

export const REDIS_BIN = process.env.REDIS_SERVER || 'redis-server';

export function redisAvailable(): boolean {
  return spawnSync(REDIS_BIN, ['--version'], { encoding: 'utf8' }).status === 0;
}

/** In a mocha `before`: skip (outside CI) or fail (in CI) when there is no redis-server. */
export function requireRedis(ctx: Mocha.Context): void {
  if (redisAvailable()) return;
  if (process.env.CI) throw new Error(`${REDIS_BIN} is required in CI: install Debian's redis-server package`);
  console.log(`      (skipped: ${REDIS_BIN} is not installed; apt-get install redis-server to run the shared-store tests)`);
  ctx.skip();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  private proc?: ChildProcess;
  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const r = new RedisServer(await freePort());
    await r.run();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id while it runs (the benchmark counts its CPU as its own). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts the server (again, empty) on the same port. */
  async run(): Promise<void> {
    const proc = spawn(REDIS_BIN, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer) => {
        out += d.toString();
        if (/Ready to accept connections/.test(out)) {
          proc.stdout?.off('data', onData);
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    });
  }

  /** SIGSTOP: the server keeps its connections but answers nothing. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    this.proc = undefined;
    p.kill('SIGCONT');
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGKILL');
    await exited;
  }
}
