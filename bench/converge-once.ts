// One measured run in its own process (so peak RSS is this run's): prints a JSON line of figures.
// usage: tsx bench/converge-once.ts <inventory> <known_hosts> <target_dir> <forks>
import { Connections } from '../lib/connections.ts';
import { loadInventory } from '../lib/inventory.ts';
import { runPlaybook } from '../lib/runner.ts';
import { countCommand, type CommandCounts } from './commands.ts';
import playbook from './loopback-playbook.ts';

const [inventoryFile, knownHostsFile, targetDir, forks] = process.argv.slice(2);
const inventory = loadInventory(inventoryFile, { extraVars: { target_dir: targetDir } });
const connections = new Connections({ knownHostsFile, acceptNewHostKeys: false, connectTimeoutMs: 10_000, attempts: 3 });
const commands: CommandCounts = {};
const started = performance.now();
const summary = await runPlaybook(playbook, { forks: Number(forks) }, {
  inventory,
  transports: connections.get,
  listeners: [(e) => void (e.type === 'command' && countCommand(commands, playbook, e.host, e.play))],
  close: () => connections.closeAll(),
});
const wallMs = performance.now() - started;
const changed = Object.values(summary.hosts).reduce((n, c) => n + c.changed, 0);
const perHost = Object.values(commands).map((perRole) => Object.values(perRole).reduce((a, b) => a + b, 0));
process.stdout.write(
  JSON.stringify({
    hosts: Object.keys(summary.hosts).length,
    exitCode: summary.exitCode,
    changed,
    wallMs,
    commandsPerHost: { min: Math.min(...perHost), max: Math.max(...perHost) },
    commands,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  }) + '\n',
);
process.exit(0);
