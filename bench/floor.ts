// The floors a converged `site` is measured against: what reading the converged state costs at the least.
// One SSH connection per host, all hosts in parallel, one batched read each, then etcd health and the guide's
// /get through the LB. The read is either written by hand (everything a converged check must look at on the host,
// each part the cheapest way) or the roles' own batch as a converged run sent it.
import { HEAD_CHECK } from '../lib/fact-batch.ts';
import { Connections } from '../lib/connections.ts';
import type { Inventory } from '../lib/types.ts';

const bg = (parts: string[]): string => `${parts.map((p) => `{ ${p}; } 2>/dev/null &`).join('\n')}\nwait`;

/** What every host's converged check reads: the system, the firewall, SELinux, the ports, the Docker engine. */
const SYSTEM = [
  'cat /etc/os-release; uname -r; uname -m; nproc; grep MemTotal /proc/meminfo',
  'df -Pm / /var/lib/docker /opt/api7 /usr/local/etcd',
  'timedatectl status | grep -i synchronized',
  'getenforce || echo absent',
  'ss -ltnpH',
  'iptables -S INPUT',
  'docker version --format "{{.Server.Version}}"; cat /etc/docker/daemon.json',
  'docker ps -a --no-trunc --format "{{.ID}} {{.Names}} {{.Image}} {{.Status}} {{.Labels}} {{.Ports}}"',
  'ids=$(docker ps -aq); [ -n "$ids" ] && docker inspect $ids',
];

/** A stack host's bundle, images and the configs the roles write (the bundles unpack to /opt/api7/api7-<ver>-cp|dp). */
const STACK = [
  'docker image ls --no-trunc',
  // A bundle's checksum is kept beside it while the file is unchanged (lib/stat-memo.ts): the least is its stat and memo.
  'stat -L -c "%s %i %y %z" /opt/api7/bundles/*.tar.gz; cat /opt/api7/bundles/*.gatewright-sha256',
  'sha256sum /opt/api7/*/docker-compose*.yaml /opt/api7/*/*_conf/*.yaml',
];

/**
 * The hand-written floor's read of one host: everything a converged check must look at there, each the cheapest
 * way by hand, all side by side in one sh. Groups as the lab's inventory names them. The first etcd member also
 * reads the cluster (health, status, members) in one exec; each member answers the auth probe over HTTP.
 */
export function handRead(inventory: Inventory, host: string): string {
  const inGroup = (g: string) => inventory.group(g).some((h) => h.name === host);
  const address = inventory.hosts.get(host)!.address;
  const parts = [...SYSTEM];
  if (inGroup('etcd') || inGroup('control') || inGroup('gateway')) parts.push(...STACK);
  if (inGroup('etcd')) {
    parts.push('ls -ld /usr/local/etcd/etcd_data /usr/local/etcd/etcd_data/member', `curl -sS -X POST -d '{}' http://${address}:2379/v3/auth/user/list`);
    if (inventory.group('etcd')[0].name === host) {
      const endpoints = inventory.group('etcd').map((h) => `http://${h.address}:2379`).join(',');
      const etcdctl = ['endpoint health', 'endpoint status', 'member list'].map((c) => `etcdctl --endpoints=${endpoints} ${c}`).join('; ');
      parts.push(`docker exec etcd sh -c '${etcdctl}'`);
    }
  }
  if (inGroup('control')) parts.push(`curl -sS http://${address}:9000/ping`);
  if (inGroup('gateway')) parts.push('curl -sS -o /dev/null -w "%{http_code}" http://127.0.0.1:9091/apisix/prometheus/metrics');
  if (inGroup('lb')) {
    parts.push(
      'sha256sum /etc/haproxy/haproxy.cfg; systemctl is-active haproxy; haproxy -v',
      "echo 'show stat' | socat -t 5 - UNIX-CONNECT:/var/lib/haproxy/admin.sock",
    );
  }
  return bg(parts);
}

export interface Floor {
  wallMs: number;
  connectMs: number;
}

/**
 * The floor: every host's read over one connection each, all in parallel, then etcd health and /get through the
 * LB. `readOf` gives a host's one command: handRead, or the roles' own batch as a run sent it.
 */
export async function measureFloor(
  inventory: Inventory,
  knownHostsFile: string,
  lbAddress: string,
  etcdHost: string,
  readOf: (host: string) => string | undefined = (host) => handRead(inventory, host),
): Promise<Floor> {
  const started = performance.now();
  const connections = new Connections({ knownHostsFile, acceptNewHostKeys: false, connectTimeoutMs: 10_000, attempts: 1 });
  try {
    const hosts = [...inventory.hosts.values()];
    const transports = await Promise.all(hosts.map((h) => connections.get(h)));
    const connectMs = performance.now() - started;
    await Promise.all(transports.map((t, i) => {
      const read = readOf(hosts[i].name);
      return read === undefined ? undefined : t.exec(read, { become: true, nothrow: true });
    }));
    const etcd = transports[hosts.findIndex((h) => h.name === etcdHost)];
    const endpoints = inventory.group('etcd').map((h) => `http://${h.address}:2379`).join(',');
    await Promise.all([
      etcd.exec(`docker exec etcd etcdctl --endpoints=${endpoints} endpoint health`, { become: true, nothrow: true }),
      fetch(`http://${lbAddress}/get`, { headers: { host: 'test.com' }, signal: AbortSignal.timeout(10_000) }).then((r) => r.text()),
    ]);
    return { wallMs: performance.now() - started, connectMs };
  } finally {
    await connections.closeAll();
  }
}

/**
 * Pure: a host's first batched read of the roles' facts as a run's log holds it (`<time> <play> $ n=gwfacts-…`,
 * the script's lines after it, up to the `exit N in …` line), undefined when the log has none. Without its head
 * (the run lock's take): replayed, it would take the lock again in the name of a run that has ended.
 */
export function firstBatch(log: string): string | undefined {
  const lines = log.split('\n');
  const start = lines.findIndex((l) => /^\d{4}-\d\d-\d\dT\S+ .+? \$ n=gwfacts-/.test(l));
  if (start < 0) return undefined;
  const script = [lines[start].replace(/^.*? \$ /, '')];
  for (const line of lines.slice(start + 1)) {
    if (/^ {4}exit -?\d+ in /.test(line) || /^\d{4}-\d\d-\d\dT/.test(line)) break;
    script.push(line);
  }
  return withoutHead(script.join('\n'));
}

/** A batch script without its head (lib/fact-batch.ts: from its `head out` line to the check of its exit code). */
export function withoutHead(script: string): string {
  const lines = script.split('\n');
  const start = lines.findIndex((l) => l.startsWith("printf '%s head out"));
  if (start < 0) return script;
  const end = lines.indexOf(HEAD_CHECK, start);
  if (end < 0) throw new Error('a batch head without the check that ends it');
  return [...lines.slice(0, start), ...lines.slice(end + 1)].join('\n');
}
