// A dockerd restart (daemon.json changed, the engine upgraded) rolls over the whole docker play, whatever
// the host's group: one host at a time, the first failure stops the roll and the hosts after it stay
// untouched. Around each restart: refuse unless the rest is healthy (the other etcd members; the other
// dashboards or gateways UP in every LB), drain the host from the LBs, restart, wait until what ran on it
// is healthy again, ready it. A host where none of our containers runs (the docker play runs before the
// stack exists on a fresh site) needs nothing beyond dockerd itself answering.
import { sh } from '../../lib/shell.ts';
import { stackVars } from '../../vars/schema.ts';
import { UnreachableError } from '../../lib/errors.ts';
import { CommandError, type StepContext } from '../../lib/types.ts';
import { curlOn } from '../../ops/admin-api.ts';
import { COMPOSE_LABEL } from '../../ops/docker.ts';
import { LABEL_ROLE } from '../../ops/fingerprint.ts';
import { waitFor } from '../../ops/retry.ts';
import { etcdMember, etcdMembers, etcdScheme } from '../../ops/topology.ts';
import { clusterState, waitMemberHealthy } from '../../ops/etcd.ts';
import { gatewayHealthRead } from '../../ops/gateway-health.ts';
import { lbContexts, rollingChange, serverStats, type RollingGroup } from '../../ops/lb-drain.ts';
import { BACKENDS_OF_GROUP } from '../../ops/layout.ts';
import type { ServerStat } from '../../ops/lb-runtime.ts';
import { inTurn } from './turns.ts';

// ---------------------------------------------------------------- what a host's restart must gate (pure)

/**
 * Every container on the host, running or not: `<our role label>|<compose service>|<name> <status>` per line
 * (status "Up 3 hours", "Exited (0) ..."). The bundles' containers carry compose's labels, not ours.
 */
export const STACK_CONTAINERS_FORMAT = `{{.Label "${LABEL_ROLE}"}}|{{.Label "${COMPOSE_LABEL.service}"}}|{{.Names}} {{.Status}}`;
export const STACK_CONTAINERS = sh`docker ps -a --format ${STACK_CONTAINERS_FORMAT}`;

/** The stack role a container plays: our label (etcd), the bundles' compose services, the guide's etcd name. */
export function stackRoleOf(ours: string, service: string, name: string): string | undefined {
  if (ours) return ours;
  if (/dashboard/.test(service)) return 'dashboard';
  if (/gateway|apisix/.test(service)) return 'gateway';
  if (name === 'etcd') return 'etcd';
  return undefined;
}

export interface StackContainers {
  /** Roles of the running ones: etcd, dashboard, gateway. */
  running: string[];
  /** Any of ours, running or not (what a storage change would hide). */
  any: boolean;
}

export function parseStackContainers(stdout: string): StackContainers {
  const rows = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [labels, status] = l.split(/\s+/);
      const [ours = '', service = '', name = ''] = (labels ?? '').split('|');
      return [stackRoleOf(ours, service, name), status] as const;
    })
    .filter((r): r is [string, string] => r[0] !== undefined);
  return { running: [...new Set(rows.filter((r) => r[1] === 'Up').map((r) => r[0]))], any: rows.length > 0 };
}

export interface RestartGates {
  /** An etcd member runs here: the other members must be healthy before, this one after. */
  etcd: boolean;
  /** LB backends this host serves from a running container: drained around the restart. */
  drain: RollingGroup[];
  /** Health gates after the restart (before the host is readied in the LBs). */
  after: ('etcd' | 'dashboard' | 'gateway')[];
}

export function restartGates(running: string[]): RestartGates {
  const has = (role: string) => running.includes(role);
  return {
    etcd: has('etcd'),
    drain: [...(has('dashboard') ? (['control'] as const) : []), ...(has('gateway') ? (['gateway'] as const) : [])],
    after: (['etcd', 'dashboard', 'gateway'] as const).filter(has),
  };
}

export function describeGates(host: string, g: RestartGates): string {
  const parts = [
    ...(g.etcd ? ['the other etcd members healthy first'] : []),
    ...(g.drain.length ? [`${host} drained from the LBs (${g.drain.join(', ')})`] : []),
    ...(g.after.length ? [`then ${g.after.join(', ')} healthy again`] : ['no stack container runs here: dockerd answering is the gate']),
  ];
  return parts.join('; ');
}

/**
 * The other servers of `group`'s backends that are not UP on one LB, when that LB routes to `server`
 * (none when it does not: nothing there depends on the others carrying this host's traffic).
 */
export function peersNotUp(stats: ServerStat[], server: string, group: RollingGroup): string[] {
  const rows = stats.filter((s) => (BACKENDS_OF_GROUP[group] as readonly string[]).includes(s.backend));
  if (!rows.some((s) => s.server === server)) return [];
  return rows.filter((s) => s.server !== server && s.status !== 'UP').map((s) => `${s.backend}/${s.server} ${s.status}`);
}

// ---------------------------------------------------------------- the gates

async function otherMembersHealthy(ctx: StepContext): Promise<void> {
  const me = etcdMember(ctx).name;
  const port = stackVars(ctx).etcd_client_port;
  const scheme = etcdScheme(ctx.vars);
  const others = etcdMembers(ctx.inventory, ctx.vars).filter((m) => m.name !== me).map((m) => `${scheme}://${m.address}:${port}`);
  if (!others.length) return;
  await waitFor(`${ctx.host.name}: the other etcd members healthy before its dockerd restarts`, stackVars(ctx).health_timeout, async () => {
    const s = await clusterState(ctx, others);
    return s.healthy === others.length || `${s.healthy}/${others.length} of the other members healthy`;
  });
}

async function peersUp(ctx: StepContext, group: RollingGroup): Promise<void> {
  await waitFor(`${ctx.host.name}: the other ${BACKENDS_OF_GROUP[group].join('/')} servers UP before its dockerd restarts`, stackVars(ctx).lb_ready_timeout_s, async () => {
    const problems: string[] = [];
    for (const lb of lbContexts(ctx)) {
      // An LB without haproxy yet, or gone, routes nothing; an answer we cannot read is "not yet" (the rule
      // rollingChange drains by).
      const stats = await serverStats(lb).catch((e: unknown) => {
        if (e instanceof CommandError || e instanceof UnreachableError) return undefined;
        throw e;
      });
      if (stats) problems.push(...peersNotUp(stats, ctx.host.name, group).map((p) => `${lb.host.name}: ${p}`));
    }
    return problems.length === 0 || problems.join(', ');
  });
}

async function dashboardPing(ctx: StepContext): Promise<true | string> {
  // /ping, not the role's login check: the docker play may run without the console password.
  const ping = await curlOn(ctx, { url: `http://${ctx.host.address}:${stackVars(ctx).dashboard_port}/ping`, timeoutSec: 5 });
  return (ping.status === 200 && ping.body.trim() === 'pong') || `GET /ping answered ${ping.status} ${ping.body.slice(0, 80)}`;
}

async function healthyAgain(ctx: StepContext, after: RestartGates['after']): Promise<void> {
  const timeout = stackVars(ctx).health_timeout;
  for (const what of after) {
    if (what === 'etcd') await waitMemberHealthy(ctx);
    if (what === 'dashboard') await waitFor(`dashboard on ${ctx.host.name} after the dockerd restart`, timeout, () => dashboardPing(ctx));
    if (what === 'gateway') await waitFor(`gateway on ${ctx.host.name} after the dockerd restart`, timeout, () => gatewayHealthRead(ctx));
  }
}

/**
 * `restart` (which leaves dockerd answering) in this host's turn, behind the gates its running
 * containers need. `gates` comes from what ran before the restart (see `restartGates`).
 */
export async function rollingRestart(ctx: StepContext, gates: RestartGates, restart: () => Promise<void>): Promise<void> {
  await inTurn(ctx, async () => {
    if (gates.etcd) await otherMembersHealthy(ctx);
    for (const group of gates.drain) await peersUp(ctx, group);
    let change = async () => {
      await restart();
      await healthyAgain(ctx, gates.after);
    };
    // Nested: a host in both backends is drained from both before its restart.
    for (const group of gates.drain) {
      const inner = change;
      change = () => rollingChange(ctx, group, inner);
    }
    await change();
  });
}
