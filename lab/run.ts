// Local commands for the lab (zx): quiet by default, our own engine's socket for every docker call.
import { $ as zx$ } from 'zx';
import { MACHINE } from './topology.ts';

/** zx, quiet: the lab prints its own step lines; failures still throw with stderr. */
export const $ = zx$({ quiet: true, verbose: false });
/** Same, without throwing: the caller reads `exitCode`. */
export const $try = zx$({ quiet: true, verbose: false, nothrow: true });

/** Debian's docker.io CLI (20.10), talking only to the lab's own engine. */
export const DOCKER = ['/usr/bin/docker', '-H', `unix://${MACHINE.socket}`] as const;

/** `docker …` against our engine; throws on failure, returns trimmed stdout. */
export async function docker(...args: string[]): Promise<string> {
  return (await $`${DOCKER} ${args}`).stdout.trim();
}

/** `docker …` that may fail (inspect of a missing object); returns exit code and stdout. */
export async function dockerTry(...args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const r = await $try`${DOCKER} ${args}`;
  return { ok: r.exitCode === 0, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

/** One line per finished step with its duration, so slow steps show up in CI logs. */
export async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    const result = await fn();
    log(`${label} (${seconds(start)})`);
    return result;
  } catch (err) {
    log(`${label} FAILED after ${seconds(start)}`);
    throw err;
  }
}

export function log(line: string): void {
  process.stderr.write(`lab: ${line}\n`);
}

/** Time since `start` (a `performance.now()`), as `12.3 s`. */
export const seconds = (start: number): string => `${((performance.now() - start) / 1000).toFixed(1)} s`;
