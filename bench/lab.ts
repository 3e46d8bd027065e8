// The lab section of `npm run bench`: the site playbook on real roles, from bare hosts and converged.
// It recreates the lab's hosts (bare: no Docker, no stack), so it runs only when asked: `npm run bench -- --lab`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../lib/inventory.ts';
import { nodeId, planRun } from '../lib/plan.ts';
import { seconds } from '../lib/report.ts';
import { criticalPath } from './critical-path.ts';
import type { RunSummary } from '../lib/events.ts';
import site from '../playbooks/site.ts';
import { down, up } from '../lab/index.ts';

export interface Row {
  label: string;
  figures: Record<string, string>;
}

const root = join(import.meta.dirname, '..');

interface Measured {
  wallMs: number;
  summary: RunSummary;
  runsDir: string;
}

/** Runs the real CLI, as a user would, keeping its --json report and per-host logs. */
function play(inventory: string, work: string, label: string): Measured {
  const json = join(work, `${label}.json`);
  const runsDir = join(work, `runs-${label}`);
  const started = performance.now();
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'lib', 'cli.ts'), 'site', '-i', inventory, '--json', json, '--runs-dir', runsDir], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    // A failed run still reports; the figures say so through its exit code.
  }
  return { wallMs: performance.now() - started, summary: JSON.parse(readFileSync(json, 'utf8')), runsDir };
}

/** Commands per host, counted from the per-host logs (each command is one `$ ` line). */
function commandsPerHost(runsDir: string): Record<string, number> {
  const [stamp] = readdirSync(runsDir);
  const dir = join(runsDir, stamp);
  const counts: Record<string, number> = {};
  for (const file of readdirSync(dir)) {
    counts[file.replace(/\.log$/, '')] = readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => /^\S+ \$ /.test(l)).length;
  }
  return counts;
}

export async function labRows(): Promise<Row[]> {
  await down();
  const { inventory } = await up();
  const work = mkdtempSync(join(tmpdir(), 'gw-bench-'));
  const bare = play(inventory, work, 'bare');
  const rerun = play(inventory, work, 'rerun');

  const perRole: Record<string, string> = {};
  for (const n of bare.summary.nodes) {
    const longest = Math.max(...bare.summary.nodes.filter((m) => m.play === n.play).map((m) => m.durationMs));
    perRole[`  ${n.play} (slowest host)`] = seconds(longest);
  }
  const durations = new Map(bare.summary.nodes.map((n) => [nodeId(n.play, n.host), n.durationMs]));
  const plan = planRun(site, loadInventory(inventory));
  const critical = criticalPath(plan.nodes, (node) => durations.get(node.id) ?? 0);
  const commands = commandsPerHost(rerun.runsDir);
  const changed = (m: Measured) => Object.values(m.summary.hosts).reduce((n, c) => n + c.changed, 0);

  return [
    {
      label: 'site from bare hosts (lab recreated: no Docker, no stack)',
      figures: { 'wall time': `${seconds(bare.wallMs)} (exit ${bare.summary.exitCode}, ${changed(bare)} changed)`, ...perRole },
    },
    {
      label: 'critical path the dependency graph allows (from the bare run)',
      figures: { total: seconds(critical.totalMs), path: critical.path.map((n) => `${n.id} ${seconds(durations.get(n.id) ?? 0)}`).join(' → ') },
    },
    {
      label: 'site converged rerun',
      figures: {
        'wall time': `${seconds(rerun.wallMs)} (exit ${rerun.summary.exitCode}, ${changed(rerun)} changed)`,
        'ssh commands per host': Object.entries(commands).map(([h, c]) => `${h}=${c}`).join(' '),
      },
    },
  ];
}
