// Who is where: the etcd members, their client URLs, the prefixes of each edition. Pure reads of the
// inventory, shared by the etcd, dashboard and gateway roles.
import type { Host, Inventory, StepContext, Vars } from '../lib/types.ts';
import { stackVars } from '../vars/schema.ts';
import { GROUPS } from './layout.ts';

export interface EtcdMember {
  host: string;
  /** ETCD_NAME: the guide's api7-etcd-<N> in inventory order, unless the host's `etcd_name` says otherwise. */
  name: string;
  address: string;
}

function memberOf(h: Host, i: number): EtcdMember {
  const v = stackVars({ vars: h.vars });
  return { host: h.name, name: v.etcd_name ?? `api7-etcd-${i + 1}`, address: v.etcd_address ?? h.address };
}

export const etcdMembers = (inv: Inventory, vars: Vars): EtcdMember[] =>
  inv.group(GROUPS.etcd).map(memberOf);

/** `ctx`'s host as an etcd member (it must be in the etcd group). */
export function etcdMember(ctx: { host: Host; inventory: Inventory; vars: Vars }): EtcdMember {
  const m = etcdMembers(ctx.inventory, ctx.vars).find((x) => x.host === ctx.host.name);
  if (!m) throw new Error(`${ctx.host.name} is not in the etcd group ${GROUPS.etcd}`);
  return m;
}

/** http://address:2380: how the cluster knows a member (peers always speak plain http, as the guide runs them). */
export const etcdPeerUrl = (m: EtcdMember, vars: Vars): string => `http://${m.address}:${stackVars({ vars }).etcd_peer_port}`;

export const etcdScheme = (vars: Vars): string => (stackVars({ vars }).etcd_tls_enabled ? 'https' : 'http');

/** http(s)://address:2379 for every member. */
export const etcdClientUrls = (inv: Inventory, vars: Vars): string[] =>
  etcdMembers(inv, vars).map((m) => `${etcdScheme(vars)}://${m.address}:${stackVars({ vars }).etcd_client_port}`);

/** Where the control plane keeps its data: /api7 (guide) or /apisix (APISIX 3). */
export const dashboardPrefix = (vars: Vars): string => (stackVars({ vars }).api7_edition === 'api7' ? '/api7' : '/apisix');

/** Where a gateway reads routes: /api7/<cluster_id> (guide) or /apisix. */
export function gatewayPrefix(vars: Vars): string {
  const v = stackVars({ vars });
  return v.api7_edition === 'api7' ? `/api7/${v.cluster_id}` : '/apisix';
}

/** Addresses of a group's hosts, or [] when the inventory has no such group. */
export function groupAddresses(inv: Inventory, group: string): string[] {
  return inv.groups.has(group) ? inv.group(group).map((h) => h.address) : [];
}

/** Upstream nodes (hosts of group `upstream`, port `upstream_port`) of the probe and smoke routes. */
export function upstreamNodes(ctx: StepContext): string[] {
  const v = stackVars(ctx);
  return groupAddresses(ctx.inventory, v.upstream_group).map((a) => `${a}:${v.upstream_port}`);
}

/**
 * The first control host: the console controlPlane asks first, so the reads for it (the console login, the smoke
 * check) ride in that host's batch.
 */
export const isFirstControlHost = (ctx: StepContext): boolean => ctx.inventory.group(GROUPS.control)[0]?.name === ctx.host.name;

/**
 * `when` of work done once per play: the play's first host still alive does it, the others skip naming that
 * host; if it fails or is unreachable before it is done, the next host does it (lib/play-shared.ts).
 */
export const firstHostOfPlay = (ctx: StepContext): Promise<true | string> => ctx.play.lead();
