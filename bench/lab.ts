// The lab section of `npm run bench`: the site playbook on real roles, from bare hosts and converged.
// It recreates the lab's hosts (bare: no Docker, no stack), so it runs only when asked: `npm run bench -- --lab`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadInventory } from '../lib/inventory.ts';
import { nodeId, planRun } from '../lib/plan.ts';
import { seconds } from '../lib/report.ts';
import { criticalPath } from './critical-path.ts';
import type { RunSummary } from '../lib/events.ts';
import site from '../playbooks/site.ts';
import { down, findHost, PATHS, up } from '../lab/index.ts';
import { quote } from '../lib/shell.ts';
import { countLogLines, hostFigures, roleFigures, type CommandCounts } from './commands.ts';
import { firstBatch, measureFloor } from './floor.ts';

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

/**
 * Runs the real CLI, as a user would, keeping its --json report and per-host logs. `terminal`: under a
 * pseudo-terminal (util-linux `script`, 120x40) so the listr2 tree is drawn, as at a user's terminal.
 */
function play(inventory: string, work: string, label: string, terminal = false): Measured {
  const json = join(work, `${label}.json`);
  const runsDir = join(work, `runs-${label}`);
  const argv = [process.execPath, join(root, 'bin', 'play.mjs'), 'site', '-i', inventory, '--json', json, '--runs-dir', runsDir];
  const started = performance.now();
  try {
    if (terminal) {
      const command = `stty cols 120 rows 40; exec ${argv.map(quote).join(' ')}`;
      execFileSync('script', ['-qfec', command, '/dev/null'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    } else {
      execFileSync(argv[0], argv.slice(1), { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    }
  } catch {
    // A failed run still reports; the figures say so through its exit code.
  }
  return { wallMs: performance.now() - started, summary: JSON.parse(readFileSync(json, 'utf8')), runsDir };
}

/** The per-host logs of a run: host -> log. */
function runLogs(runsDir: string): Record<string, string> {
  const [stamp] = readdirSync(runsDir);
  const dir = join(runsDir, stamp);
  return Object.fromEntries(readdirSync(dir).map((file) => [file.replace(/\.log$/, ''), readFileSync(join(dir, file), 'utf8')]));
}

/** Commands per host and role, counted from the per-host logs of the run. */
function commandsPerHost(runsDir: string): CommandCounts {
  const counts: CommandCounts = {};
  for (const [host, log] of Object.entries(runLogs(runsDir))) countLogLines(counts, site, host, log);
  return counts;
}

const commandsFigures = (counts: CommandCounts) => ({ ...hostFigures(counts), ...roleFigures(counts) });

/** After a converge-first that changed something: the restarted consoles take a few seconds of CPU to start. */
const SETTLE_MS = 15_000;

/** Rounds of the converged figures; each printed figure is their median. */
const ROUNDS = 3;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const changed = (m: Measured) => Object.values(m.summary.hosts).reduce((n, c) => n + c.changed, 0);

/**
 * A converged `site` with its output to a pipe and in a terminal, beside the floor measured in the same
 * run (bench/floor.ts). The lab must be up and converged; nothing is recreated.
 */
export async function convergedRows(inventoryFile = PATHS.inventory, work = mkdtempSync(join(tmpdir(), 'gw-bench-'))): Promise<Row[]> {
  const inventory = loadInventory(inventoryFile);
  // Converge first, unmeasured: the lab may rest in another state (the e2e tests leave their own console password).
  const settle = play(inventoryFile, work, 'converge-first');
  // What it changed restarted services (the consoles, after the e2e tests' password): their start's CPU must not
  // fall on the measured rounds, which share the hosts' two cores.
  const settleWait = changed(settle) > 0 ? SETTLE_MS : 0;
  await sleep(settleWait);
  // Each figure is the median of ROUNDS, taken in turn (floor, pipe, terminal, the roles' read), so the noise of
  // a shared 2-core machine falls on all of them alike. The roles' read replays what the first pipe run read:
  // each host's batch of the roles' facts.
  const floors: number[] = [];
  const pipes: Measured[] = [];
  const ttys: Measured[] = [];
  const rolesFloors: number[] = [];
  let batches: Record<string, string> | undefined;
  let connect = { hand: 0, roles: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const floor = await measureFloor(inventory, PATHS.knownHosts, findHost('lb1').ip, 'lab1');
    floors.push(floor.wallMs);
    pipes.push(play(inventoryFile, work, `converged-pipe-${round}`));
    ttys.push(play(inventoryFile, work, `converged-terminal-${round}`, true));
    batches ??= runLogs(pipes[0].runsDir);
    const roles = await measureFloor(inventory, PATHS.knownHosts, findHost('lb1').ip, 'lab1', (h) => (batches![h] ? firstBatch(batches![h]) : undefined));
    rolesFloors.push(roles.wallMs);
    connect = { hand: floor.connectMs, roles: roles.connectMs };
  }
  const floorMs = median(floors);
  const rolesMs = median(rolesFloors);
  const samples = (xs: number[]) => xs.map((x) => seconds(x)).join(', ');
  const times = (runs: Measured[]) => {
    const ms = median(runs.map((m) => m.wallMs));
    const worst = runs.reduce((a, b) => (a.summary.exitCode >= b.summary.exitCode ? a : b));
    return `${seconds(ms)} = ${(ms / floorMs).toFixed(2)}x the floor, ${(ms / rolesMs).toFixed(2)}x the roles' read (runs ${samples(runs.map((m) => m.wallMs))}; exit ${worst.summary.exitCode}, ${Math.max(...runs.map(changed))} changed)`;
  };
  const pipe = pipes[0];
  return [
    {
      label: 'site converged: output to a pipe and in a terminal, beside the floor',
      figures: {
        'converging first': `${seconds(settle.wallMs)} (exit ${settle.summary.exitCode}, ${changed(settle)} changed; not measured${settleWait ? `; then ${seconds(settleWait)} for the restarted services to settle` : ''})`,
        floor: `${seconds(floorMs)} (runs ${samples(floors)}: one batched read per host over one SSH connection each, in parallel, connect ${seconds(connect.hand)}; then etcd health and /get through the LB. The read is written by hand: everything a converged check looks at on the host, bench/floor.ts handRead)`,
        "roles' read": `${seconds(rolesMs)} (runs ${samples(rolesFloors)}: the same, each host's read being the roles' own batch as the first pipe run sent it, connect ${seconds(connect.roles)})`,
        pipe: times(pipes),
        terminal: times(ttys),
        ...commandsFigures(commandsPerHost(pipe.runsDir)),
      },
    },
  ];
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
        ...commandsFigures(commands),
      },
    },
    ...(await convergedRows(inventory, work)),
  ];
}
