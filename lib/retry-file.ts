// The hosts a run could not converge, kept for the next one: `.runs/<stamp>/failed` (one host a line), read back
// by `--limit @.runs/<stamp>/failed`, as Ansible's .retry files are.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from './errors.ts';
import type { RunSummary } from './events.ts';

/** Writes `<runDir>/failed` when some host failed or was unreachable; returns its path, or undefined. */
export function writeRetryFile(runDir: string, summary: Pick<RunSummary, 'hosts'>): string | undefined {
  const hosts = Object.entries(summary.hosts).filter(([, c]) => c.failed > 0 || c.unreachable > 0).map(([h]) => h);
  if (!hosts.length) return undefined;
  const file = join(runDir, 'failed');
  writeFileSync(file, `${hosts.join('\n')}\n`, { mode: 0o600 });
  return file;
}

/** `--limit @file`: the file's host names as a pattern (a union); other limits as they are. */
export function expandLimit(limit: string | undefined): string | undefined {
  if (!limit?.startsWith('@')) return limit;
  const file = limit.slice(1);
  if (!existsSync(file)) throw new InputError(`--limit ${limit}: file not found`);
  const names = readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (!names.length) throw new InputError(`--limit ${limit}: the file names no host`);
  return names.join(',');
}
