// Pure: remote commands counted per host and per role, and the lines the bench prints for them
// (issue 12's target: at most 2 per role on a host in a converged run, one batched read plus one health read).
import type { Playbook } from '../lib/types.ts';

/** host -> role -> commands. */
export type CommandCounts = Record<string, Record<string, number>>;

/** Counts one command of `host` in `play`, under the role that play runs (plays are named by the playbook). */
export function countCommand(counts: CommandCounts, playbook: Playbook, host: string, play: string): void {
  const role = playbook.plays.find((p) => p.name === play)?.role.name ?? play;
  const perRole = (counts[host] ??= {});
  perRole[role] = (perRole[role] ?? 0) + 1;
}

/** The commands of a run's per-host logs (`<ISO time> <play> $ <command>` lines; a command's own lines follow unprefixed). */
export function countLogLines(counts: CommandCounts, playbook: Playbook, host: string, log: string): void {
  counts[host] ??= {};
  for (const line of log.split('\n')) {
    const m = /^\d{4}-\d\d-\d\dT\S+ (\S+) \$ /.exec(line);
    if (m) countCommand(counts, playbook, host, m[1]);
  }
}

const TARGET_PER_ROLE = 2;

/** `lab1  12 (preflight 2, docker 2, etcd 3 over)`: a line per host. */
export function hostFigures(counts: CommandCounts): Record<string, string> {
  const over = (n: number) => (n > TARGET_PER_ROLE ? ' over' : '');
  const lines = Object.entries(counts).map(([host, perRole]) => {
    const total = Object.values(perRole).reduce((a, b) => a + b, 0);
    return [`  ${host}`, `${total} (${Object.entries(perRole).map(([role, n]) => `${role} ${n}${over(n)}`).join(', ')})`];
  });
  return { 'commands per host (per role)': '', ...Object.fromEntries(lines) };
}

/** Per role, the most commands any one host ran in it: the target at a glance, for 5 hosts or 200. */
export function roleFigures(counts: CommandCounts): Record<string, string> {
  const most: Record<string, number> = {};
  for (const perRole of Object.values(counts)) for (const [role, n] of Object.entries(perRole)) most[role] = Math.max(most[role] ?? 0, n);
  const lines = Object.entries(most).map(([role, n]) => [`  role ${role}`, `${n}${n > TARGET_PER_ROLE ? ' (over)' : ''}`]);
  return { [`most on one host, per role (target <= ${TARGET_PER_ROLE})`]: '', ...Object.fromEntries(lines) };
}
