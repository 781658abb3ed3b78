// Child processes for the e2e suite: each runs in its own process group (so a kill reaches everything it
// started), tees its output into a log file, and lets tests wait for a log line instead of sleeping.
import { spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { waitFor } from './wait';

const live = new Set<ManagedProcess>();

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  private child: ChildProcess;
  private output = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  constructor(opts: SpawnOptions) {
    this.name = opts.name;
    this.logFile = opts.logFile;
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const log = fs.openSync(opts.logFile, 'a');
    fs.writeSync(log, `--- ${new Date().toISOString()} ${opts.command} ${opts.args.join(' ')}\n`);
    this.child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true, // own process group: kill(-pid) reaches grandchildren too
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
      fs.writeSync(log, chunk);
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.output += `\n[spawn error] ${err.message}\n`;
        this.exitInfo = this.exitInfo ?? { code: -1, signal: null };
        live.delete(this);
        fs.closeSync(log);
        resolve();
      });
      this.child.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        fs.writeSync(log, `--- exited code=${code} signal=${signal}\n`);
        fs.closeSync(log);
        resolve();
      });
    });
    live.add(this);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Everything the process printed so far (stdout and stderr interleaved). */
  text(): string {
    return this.output;
  }

  /** Position to pass to waitForLine so that only output printed after now counts. */
  mark(): number {
    return this.output.length;
  }

  count(pattern: RegExp): number {
    const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
    return (this.output.match(re) ?? []).length;
  }

  /** Waits until `pattern` appears in the output after `from`; fails early if the process exits. */
  async waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    await waitFor(
      () => {
        match = this.output.slice(from).match(pattern);
        if (match) return true;
        if (!this.running) {
          throw new Error(`${this.name} exited (${JSON.stringify(this.exitInfo)}) before printing ${pattern}:\n${this.tail()}`);
        }
        return false;
      },
      { timeoutMs, intervalMs: 50, message: () => `${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.tail()}` },
    );
    return match!;
  }

  tail(lines = 30): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  /** Sends `signal` to the whole process group and waits for the exit; escalates to SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      signalGroup(this.pid, signal);
      const timer = new Promise<'timeout'>((resolve) => {
        const t = setTimeout(() => resolve('timeout'), graceMs);
        t.unref();
      });
      if ((await Promise.race([this.exited.then(() => 'exited' as const), timer])) === 'timeout') {
        signalGroup(this.pid, 'SIGKILL');
        await this.exited;
        throw new Error(`${this.name} ignored ${signal} for ${graceMs} ms and was killed`);
      }
    }
    // The leader is gone; make sure nothing else in its group survives.
    signalGroup(this.pid, 'SIGKILL');
    return this.exitInfo!;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

/** Kills every process group this suite started and that is still alive (used by the root hooks and on exit). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop('SIGKILL', 5000).catch(() => undefined)));
}

process.on('exit', () => {
  for (const p of live) signalGroup(p.pid, 'SIGKILL');
});
