// `npm run bench`: figures, never assertions. One section per environment; the lab can add its own.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { roleFigures } from './commands.ts';
import { labWorkspace, startSshdLab } from './sshd.ts';
import { convergedRows, labRows, type Row } from './lab.ts';

type Section = { title: string; rows: () => Promise<Row[]> };

const root = join(import.meta.dirname, '..');

function measure(inventory: string, knownHosts: string, target: string, forks: number) {
  const out = execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'bench', 'converge-once.ts'), inventory, knownHosts, target, String(forks)], { cwd: root });
  return JSON.parse(out.toString().trim().split('\n').pop()!);
}

/** A converged rerun of the fixture playbook on N loopback sshd hosts (the first run converges). */
async function loopback(count: number, first: number, forks = 10): Promise<Row> {
  const lab = await startSshdLab({ count, first });
  try {
    const ws = labWorkspace(lab);
    const converge = measure(ws.inventory, lab.knownHostsFile, ws.target, forks);
    const rerun = measure(ws.inventory, lab.knownHostsFile, ws.target, forks);
    return {
      label: `${count} hosts, --forks ${forks}`,
      figures: {
        'first run': `${(converge.wallMs / 1000).toFixed(2)} s (${converge.changed} changed, exit ${converge.exitCode})`,
        'converged rerun': `${(rerun.wallMs / 1000).toFixed(2)} s (${rerun.changed} changed, exit ${rerun.exitCode})`,
        'ssh commands per host': rerun.commandsPerHost.min === rerun.commandsPerHost.max ? `${rerun.commandsPerHost.min}` : `${rerun.commandsPerHost.min}-${rerun.commandsPerHost.max}`,
        ...roleFigures(rerun.commands),
        'runner peak RSS': `${rerun.peakRssMiB.toFixed(0)} MiB`,
        'runner CPU': `${rerun.cpuSeconds.toFixed(2)} s (user + system, whole process)`,
      },
    };
  } finally {
    await lab.stop();
  }
}

const convergedOnly = process.argv.includes('--lab-converged');
const sections: Section[] = convergedOnly ? [] : [
  {
    title: 'Loopback sshd (127.0.0.x:2222), playbook bench/loopback-playbook.ts',
    rows: async () => [await loopback(5, 100), await loopback(50, 150), await loopback(200, 1025, 40)],
  },
];

// The lab section recreates the lab's hosts (the site from bare hosts), so it runs only when asked;
// --lab-converged measures a converged site on the lab as it is (pipe, terminal, floor), recreating nothing.
if (process.argv.includes('--lab')) {
  sections.push({ title: 'Lab (10.77.0.0/24), playbooks/site.ts with the real roles', rows: labRows });
} else if (convergedOnly) {
  sections.push({ title: 'Lab (10.77.0.0/24) as it is, converged site', rows: () => convergedRows() });
} else {
  console.log('(lab figures: `npm run bench -- --lab` recreates the lab and runs the site from bare hosts; `--lab-converged` measures the converged lab as it is)');
}

for (const section of sections) {
  console.log(`\n## ${section.title}\n`);
  for (const row of await section.rows()) {
    console.log(`${row.label}`);
    for (const [k, v] of Object.entries(row.figures)) console.log(`  ${k.padEnd(22)} ${v}`);
  }
}
