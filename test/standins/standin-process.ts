// Runs a bundled stand-in as a child process the way an image does: `node <bundle>` from the bundle's
// own directory, with a clean environment (no NODE_PATH, no NODE_OPTIONS loaders from the test runner).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const started = new Set<StandinProcess>();

export class StandinProcess {
  output = '';
  readonly exit: Promise<number | null>;

  constructor(readonly name: string, private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the output matches; rejects if the process exits first or time runs out. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (!this.running) throw new Error(`${this.name} exited (${this.child.exitCode}) before printing ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.output}`);
      await sleep(50);
    }
  }

  /** SIGTERM, then SIGKILL if it has not gone after `graceMs`; resolves to the exit code. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exit;
      clearTimeout(timer);
    }
    started.delete(this);
    return this.exit;
  }

  /** Resident memory in MiB, from /proc. */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
  }
}

export function startStandin(bundle: string, args: string[], env: Record<string, string> = {}): StandinProcess {
  const child = spawn(process.execPath, [bundle, ...args], {
    cwd: path.dirname(bundle),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new StandinProcess(path.basename(bundle, '.cjs'), child);
  started.add(proc);
  return proc;
}

/** Stops every stand-in the tests started and has not stopped yet. */
export async function stopAllStandins(): Promise<void> {
  await Promise.all([...started].map((p) => p.stop(3_000)));
}
