// The TCP ports a host's roles will bind, from its groups and the port variables, and whether the
// process holding one is ours (a rerun must pass while our own stack already runs).
import type { Vars } from '../../lib/types.ts';
import type { Container, Holder, Listener } from './network-facts.ts';

export interface PortClaim {
  port: number;
  /** Group that needs it and the variable that sets it, for messages: "gateway (gateway_http_port)". */
  group: string;
  variable: string;
  /** Bound to loopback only (the LB's stats page by default): must be free, needs no firewall opening. */
  local?: boolean;
}

// Defaults match the roles' own defaults (docs/ARCHITECTURE.md, "Variables").
export const PORTS_BY_GROUP: Record<string, [variable: string, fallback: number][]> = {
  etcd: [
    ['etcd_client_port', 2379],
    ['etcd_peer_port', 2380],
  ],
  control: [['dashboard_port', 9000]],
  gateway: [
    ['gateway_http_port', 80],
    ['gateway_https_port', 443],
    ['gateway_prometheus_port', 9091],
  ],
  lb: [
    ['lb_http_port', 80],
    ['lb_https_port', 443],
    ['lb_control_port', 9000],
  ],
};

// The LB's stats page is an `address:port` bind (roles/lb: lb_stats_bind); empty means none.
const LB_STATS_BIND = '127.0.0.1:8404';

/** Ports this host will bind, once each, in group order. */
export function claimedPorts(groups: string[], vars: Vars): PortClaim[] {
  const claims = new Map<number, PortClaim>();
  for (const group of groups) {
    for (const [variable, fallback] of PORTS_BY_GROUP[group] ?? []) {
      const port = Number(vars[variable] ?? fallback);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`${variable} must be a TCP port (1-65535), got ${JSON.stringify(vars[variable])}`);
      }
      if (!claims.has(port)) claims.set(port, { port, group, variable });
    }
  }
  const stats = String(vars.lb_stats_bind ?? LB_STATS_BIND);
  const statsPort = Number(stats.split(':').pop());
  if (groups.includes('lb') && stats && statsPort && !claims.has(statsPort)) {
    const local = /^(127\.|localhost:|\[::1\]:)/.test(stats);
    claims.set(statsPort, { port: statsPort, group: 'lb', variable: 'lb_stats_bind', local });
  }
  return [...claims.values()];
}

/** Label our roles put on their containers (Kamal-style ownership); any value counts. */
export const OWN_CONTAINER_LABEL = 'io.gatewright.role';
/** Container names (etcd, the guide's `docker run --name etcd`) and compose services (the bundles' `api7-dashboard`,
 * `api7-gateway`, in whatever folder they were started) of the guide's stack: ours, not port conflicts. */
export const OWN_CONTAINER_NAMES = ['etcd', 'api7-dashboard', 'api7-gateway', 'apisix-dashboard', 'apisix', 'haproxy'];
/** Processes the stack runs outside containers (etcd from a package, the LB's haproxy). */
export const OWN_PROCESSES = ['etcd', 'haproxy'];

/** Compose's service label: a bundle's container (named by compose from its folder) is found by its service. */
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

const isOwnContainer = (c: Container, ownNames: string[]): boolean =>
  OWN_CONTAINER_LABEL in c.labels || ownNames.includes(c.name) || ownNames.includes(c.labels[COMPOSE_SERVICE_LABEL] ?? '');

export interface PortConflict {
  claim: PortClaim;
  /** "nginx (pid 123)" or "container web (pid 77)". */
  holders: string[];
}

/** Claimed ports held by something that is not ours. */
export function portConflicts(
  claims: PortClaim[],
  listeners: Listener[],
  containers: Container[],
  ownNames: string[] = OWN_CONTAINER_NAMES,
): PortConflict[] {
  const byId = new Map(containers.map((c) => [c.id, c]));
  const ours = (h: Holder, port: number): boolean => {
    if (OWN_PROCESSES.includes(h.process)) return true;
    const container = h.containerId ? byId.get(h.containerId) : undefined;
    if (container) return isOwnContainer(container, ownNames);
    // docker-proxy forwards a published port: ours when one of our containers publishes it.
    if (h.process === 'docker-proxy') {
      return containers.some((c) => c.published.includes(port) && isOwnContainer(c, ownNames));
    }
    return false;
  };
  const conflicts: PortConflict[] = [];
  for (const claim of claims) {
    const holders = listeners
      .filter((l) => l.port === claim.port)
      .flatMap((l) => (l.holders.length ? l.holders : [{ process: 'unknown process', pid: 0 }]));
    if (holders.length === 0 || holders.some((h) => ours(h, claim.port))) continue;
    // One line per program (nginx's master and workers share the socket): its lowest pid names it.
    const first = new Map<string, Holder>();
    for (const h of [...holders].sort((a, b) => a.pid - b.pid)) {
      const key = `${h.process}/${h.containerId ?? ''}`;
      if (!first.has(key)) first.set(key, h);
    }
    conflicts.push({ claim, holders: [...first.values()].map((h) => describeHolder(h, byId)) });
  }
  return conflicts;
}

function describeHolder(h: Holder, byId: Map<string, Container>): string {
  const container = h.containerId ? byId.get(h.containerId) : undefined;
  const where = container ? ` in container ${container.name}` : '';
  return h.pid ? `${h.process} (pid ${h.pid})${where}` : h.process;
}
