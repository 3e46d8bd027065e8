// What the e2e files share: the real CLI with its --json report, a command on a lab host, the console password.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { findHost, PATHS, sshOptions } from '../../lab/index.ts';
import type { StepResult } from '../../lib/types.ts';

export interface Report {
  exitCode: number;
  results: (StepResult & { data?: Record<string, unknown> })[];
  errors: { host: string; play: string; step: string; message: string; unreachable: boolean }[];
}

/** The console password 20-stack deploys with and 30-lb-verify redeploys with: the two must agree. */
export const DASHBOARD_PASSWORD = 'e2e-Dashboard-pw';

const run = promisify(execFile);

/**
 * `play(playbook, ...flags)` runs `npx tsx lib/cli.ts <playbook> -i inventory/lab.yaml --json <file>` plus
 * `flags` (and `always` flags, e.g. a password var) and returns the report whatever the exit code.
 */
export function cliRunner(name: string, always: string[] = []): (playbook: string, ...flags: string[]) => Promise<Report> {
  const dir = mkdtempSync(join(tmpdir(), `gw-e2e-${name}-`));
  let runs = 0;
  return async (playbook, ...flags) => {
    const json = join(dir, `${++runs}-${playbook}.json`);
    const args = ['tsx', 'lib/cli.ts', playbook, '-i', PATHS.inventory, '--json', json, ...always, ...flags];
    const code = await run('npx', args, { maxBuffer: 64 << 20 }).then(
      () => 0,
      (e: { code?: number }) => e.code ?? -1,
    );
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    expect(report.exitCode).toBe(code);
    return report;
  };
}

/** A command on a lab host as ops over plain OpenSSH (sudo inside when needed); `input` is its stdin. */
export function onHost(host: string, command: string, input?: string): { code: number; out: string } {
  const r = spawnSync('ssh', [...sshOptions(), `ops@${findHost(host).ip}`, command], { encoding: 'utf8', timeout: 60_000, input });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`.trim() };
}
