// `status`: each host, its address, its state and what runs on it (sshd, dockerd, containers).
import { existsSync, readFileSync } from 'node:fs';
import { HOSTS, MACHINE } from './topology.ts';
import { engineResponds, enginePid } from './engine.ts';
import { hostInfo } from './hosts.ts';
import { isCut } from './firewall.ts';
import { dockerTry } from './run.ts';

export interface HostStatus {
  name: string;
  ip: string;
  state: string;
  init?: string;
  cut: boolean;
  runs: string[];
}

// One exec per host: which daemons run, and the nested engine's containers when it is up.
const PROBE = `for p in systemd sshd dockerd; do pgrep -x $p >/dev/null && printf '%s\\n' $p; done
pgrep -f '[/]opt/upstream/upstream' >/dev/null && echo upstream
pgrep -x dockerd >/dev/null && docker ps --format 'container:{{.Names}}' 2>/dev/null
true`;

export async function hostStatuses(): Promise<HostStatus[]> {
  return Promise.all(
    HOSTS.map(async (host) => {
      const info = await hostInfo(host);
      const runs = info.state === 'running' ? (await dockerTry('exec', host.name, 'sh', '-c', PROBE)).stdout.split('\n').filter(Boolean) : [];
      return { name: host.name, ip: host.ip, state: info.state, init: info.init, cut: await isCut(host.ip), runs };
    }),
  );
}

export function formatStatus(rows: HostStatus[]): string {
  const lines = rows.map((r) => {
    const state = r.cut ? `${r.state},cut` : r.state;
    const daemons = r.runs.filter((x) => !x.startsWith('container:'));
    const containers = r.runs.filter((x) => x.startsWith('container:')).map((x) => x.slice(10));
    const runs = [...daemons, ...(containers.length ? [`containers: ${containers.join(' ')}`] : [])].join(', ');
    return `${r.name.padEnd(10)} ${r.ip.padEnd(11)} ${state.padEnd(14)} ${(r.init ?? '').padEnd(8)} ${runs || '-'}`;
  });
  return [`${'host'.padEnd(10)} ${'address'.padEnd(11)} ${'state'.padEnd(14)} ${'init'.padEnd(8)} runs`, ...lines].join('\n');
}

export async function status(): Promise<string> {
  const pid = enginePid();
  if (!pid || !(await engineResponds())) return `lab is down (no engine on ${MACHINE.socket})`;
  const rss = labRssMiB();
  return `engine: dockerd pid ${pid} on ${MACHINE.socket}${rss === undefined ? '' : `; hosts use ${rss} MiB RSS`}\n${formatStatus(await hostStatuses())}`;
}

/** Anonymous memory of everything in our cgroup (v1 memory controller, or v2 unified). */
export function labRssMiB(): number | undefined {
  for (const [file, key] of [[`/sys/fs/cgroup/memory/${MACHINE.cgroupParent}/memory.stat`, 'total_rss'], [`/sys/fs/cgroup/${MACHINE.cgroupParent}/memory.stat`, 'anon']]) {
    if (!existsSync(file)) continue;
    const bytes = Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync(file, 'utf8'))?.[1]);
    if (bytes) return Math.round(bytes / 2 ** 20);
  }
  return undefined;
}
