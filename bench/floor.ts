// The floors a converged `site` is measured against: what reading the converged state costs at the least.
// One SSH connection per host, all hosts in parallel, one batched read each, then etcd health and the guide's
// /get through the LB. The read is either a small hand-written one (engine, the stack's containers, the configs
// the roles write, the LB) or the roles' own batch as a converged run sent it (everything the roles look at).
import { Connections } from '../lib/connections.ts';
import type { Inventory } from '../lib/types.ts';

/** Everything a converged check looks at on one host, in one POSIX sh round trip. */
export const BATCHED_READ = [
  'docker version --format "{{.Server.Version}}" 2>/dev/null',
  'docker ps -a --format "{{.Names}} {{.Image}} {{.Status}} {{.Labels}}" 2>/dev/null',
  'ids=$(docker ps -aq 2>/dev/null); [ -n "$ids" ] && docker inspect $ids >/dev/null 2>&1',
  'cat /etc/docker/daemon.json 2>/dev/null',
  // The bundles unpack to /opt/api7/api7-<ver>-cp|dp (the guide's folders).
  'sha256sum /opt/api7/*/docker-compose*.yaml /opt/api7/*/*_conf/*.yaml /etc/haproxy/haproxy.cfg 2>/dev/null',
  // A bundle's checksum is kept beside it while the file is unchanged (lib/stat-memo.ts): the least is its stat and memo.
  'stat -L -c "%s %i %y %z" /opt/api7/bundles/*.tar.gz 2>/dev/null; cat /opt/api7/bundles/*.gatewright-sha256 2>/dev/null',
  'ls -ld /usr/local/etcd/etcd_data 2>/dev/null',
  'uname -r; nproc; head -1 /proc/meminfo',
  'true',
].join('; ');

export interface Floor {
  wallMs: number;
  connectMs: number;
}

/**
 * The floor: every host's read over one connection each, all in parallel, then etcd health and /get through the
 * LB. `readOf` gives a host's one command: BATCHED_READ, or the roles' own batch as a run sent it.
 */
export async function measureFloor(
  inventory: Inventory,
  knownHostsFile: string,
  lbAddress: string,
  etcdHost: string,
  readOf: (host: string) => string | undefined = () => BATCHED_READ,
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
 * the script's lines after it, up to the `exit N in …` line), undefined when the log has none.
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
  return script.join('\n');
}
