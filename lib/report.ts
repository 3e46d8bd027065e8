// After the run: the recap, the --json report, and the per-host logs in .runs/<stamp>/.
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostCounts, Listener, RunEvent, RunSummary } from './events.ts';

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Ansible counts a changed step as ok too (ok=12 changed=3 is twelve steps, three of which changed); the
 * runner counts them apart, so the recap and --json add them up as Ansible does: scripts read them alike.
 */
export const ansibleCounts = (c: HostCounts): HostCounts => ({ ...c, ok: c.ok + c.changed });

/** Ansible's PLAY RECAP: `lab1 : ok=12 changed=0 unreachable=0 failed=0 skipped=1`, then the wall time. */
export function recapLines(summary: RunSummary): string[] {
  const names = Object.keys(summary.hosts);
  const width = Math.max(0, ...names.map((n) => n.length));
  const lines = ['PLAY RECAP' + (summary.check ? ' (check mode: nothing was changed)' : '')];
  for (const name of names) {
    const c = ansibleCounts(summary.hosts[name]);
    lines.push(`${name.padEnd(width)} : ok=${c.ok} changed=${c.changed} unreachable=${c.unreachable} failed=${c.failed} skipped=${c.skipped}`);
  }
  if (summary.interrupted) lines.push(`interrupted by ${summary.interrupted}: work not started was skipped; what steps had taken down was put back`);
  lines.push(`wall time ${seconds(summary.durationMs)}`);
  return lines;
}

/** Every failure, together, at the end (a host's failure never hides another's). */
export function errorLines(summary: RunSummary): string[] {
  if (summary.errors.length === 0) return [];
  return [
    `ERRORS (${summary.errors.length})`,
    ...summary.errors.map((e) => `${e.host} ${e.unreachable ? 'UNREACHABLE' : 'FAILED'} in ${e.play}${e.step ? ` › ${e.step}` : ''}: ${e.message}`),
  ];
}

/** What the run warns about (ctx.warn), once each, after the errors and before the recap. */
export function warningLines(summary: RunSummary): string[] {
  const warnings = summary.warnings ?? [];
  if (warnings.length === 0) return [];
  return [`WARNINGS (${warnings.length})`, ...warnings.map((w) => `${w.host} in ${w.play}: ${w.message}`)];
}

export function jsonReport(summary: RunSummary): object {
  return {
    playbook: summary.playbook,
    check: summary.check,
    startedAt: summary.startedAt,
    durationMs: summary.durationMs,
    exitCode: summary.exitCode,
    ...(summary.interrupted ? { interrupted: summary.interrupted } : {}),
    hosts: Object.fromEntries(Object.entries(summary.hosts).map(([name, c]) => [name, ansibleCounts(c)])),
    nodes: summary.nodes,
    results: summary.results,
    errors: summary.errors,
    warnings: summary.warnings ?? [],
  };
}

export function writeJsonReport(file: string, summary: RunSummary): void {
  writeFileSync(file, JSON.stringify(jsonReport(summary), null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

export const runStamp = (d = new Date()): string => d.toISOString().replace(/[:.]/g, '-');

/**
 * Writes `<dir>/<host>.log` (0600, dir 0700): every command, exit code and output, already redacted. The dir is
 * made with the first line (a run refused before it started, its lock held elsewhere, leaves none).
 */
export function runLog(dir: string): Listener {
  const opened = new Set<string>();
  const write = (host: string, text: string) => {
    const file = join(dir, `${host.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`);
    if (!opened.has(file)) {
      if (!opened.size) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        chmodSync(dir, 0o700);
      }
      writeFileSync(file, '', { mode: 0o600, flag: 'a' });
      chmodSync(file, 0o600);
      opened.add(file);
    }
    appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
  };
  return (e: RunEvent) => {
    const time = () => e.at ?? new Date().toISOString();
    switch (e.type) {
      case 'node:start':
        return write(e.host, `${time()} == play ${e.play}`);
      case 'command': {
        const on = e.target === e.host ? '' : ` (on ${e.target})`;
        const indent = (s: string) => s.replace(/\n$/, '').split('\n').map((l) => `    ${l}`).join('\n');
        // The play in the line: a host's plays can interleave, and the bench counts commands per host and play.
        let text = `${time()} ${e.play} $ ${e.command}${on}\n    exit ${e.code} in ${seconds(e.durationMs)}`;
        if (e.stdout) text += `\n  stdout:\n${indent(e.stdout)}`;
        if (e.stderr) text += `\n  stderr:\n${indent(e.stderr)}`;
        return write(e.host, text);
      }
      case 'log':
        return write(e.host, `${time()} # ${e.step}: ${e.line}`);
      case 'step:end': {
        const r = e.result;
        return write(r.host, `${time()} -- ${r.play} › ${r.step}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
      }
      case 'node:end':
        return write(e.host, `${time()} == ${e.play}: ${e.status}${e.reason ? ` (${e.reason})` : ''}`);
      default:
        return;
    }
  };
}
