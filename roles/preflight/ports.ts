// The TCP ports a host's roles will bind, from its groups and the port variables, and whether the
// process holding one is ours (a rerun must pass while our own stack already runs).
import type { StackVars } from '../../vars/schema.ts';
import { GROUPS } from '../../ops/layout.ts';
import type { Container, Holder, Listener } from './network-facts.ts';

export interface PortClaim {
  port: number;
  /** Group that needs it and the variable that sets it, for messages: "gateway (gateway_http_port)". */
  group: string;
  variable: string;
  /** Bound to loopback only (the LB's stats page by default): must be free, needs no firewall opening. */
  local?: boolean;
}

type PortVar = 'etcd_client_port' | 'etcd_peer_port' | 'dashboard_port' | 'gateway_http_port' | 'gateway_https_port' |
  'gateway_prometheus_port' | 'lb_http_port' | 'lb_https_port' | 'lb_control_port';

/** The port variables of each group (their values and defaults: vars/schema.ts). */
export const PORTS_BY_GROUP: Record<string, PortVar[]> = {
  [GROUPS.etcd]: ['etcd_client_port', 'etcd_peer_port'],
  [GROUPS.control]: ['dashboard_port'],
  [GROUPS.gateway]: ['gateway_http_port', 'gateway_https_port', 'gateway_prometheus_port'],
  [GROUPS.lb]: ['lb_http_port', 'lb_https_port', 'lb_control_port'],
};

/** Ports this host will bind, once each, in group order (the values were checked when the inventory loaded). */
export function claimedPorts(groups: string[], v: Pick<StackVars, PortVar | 'lb_stats_bind'>): PortClaim[] {
  const claims = new Map<number, PortClaim>();
  for (const group of groups) {
    for (const variable of PORTS_BY_GROUP[group] ?? []) {
      const port = v[variable];
      if (!claims.has(port)) claims.set(port, { port, group, variable });
    }
  }
  // The LB's stats page is an `address:port` bind; empty means none.
  const stats = v.lb_stats_bind;
  const statsPort = Number(stats.split(':').pop());
  if (groups.includes(GROUPS.lb) && stats && statsPort && !claims.has(statsPort)) {
    const local = /^(127\.|localhost:|\[::1\]:)/.test(stats);
    claims.set(statsPort, { port: statsPort, group: GROUPS.lb, variable: 'lb_stats_bind', local });
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

/** A listener ss shows without its process (one starting or exiting, or hidden from us). */
export const UNKNOWN_HOLDER = 'unknown process';

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
      .flatMap((l) => (l.holders.length ? l.holders : [{ process: UNKNOWN_HOLDER, pid: 0 }]));
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
