// Talking to the etcd cluster from any host of the stack: etcdctl in a member's container (credentials from the
// 0600 env file when auth is on), where a member keeps its data, and the health gates every rolling change uses.
import { posix } from 'node:path';
import type { StepContext, Vars } from '../lib/types.ts';
import { AUTH_REFUSED, countHealthy, etcdctlCmd, parseEndpointStatus } from './etcdctl.ts';
import { waitFor } from './retry.ts';
import { etcdClientUrls, etcdMember, etcdMembers, etcdScheme } from './topology.ts';
import { bool, num, str } from './vars.ts';

export const dataDir = (v: Vars): string => str(v, 'etcd_data_dir');
/** Beside the data dir: snapshots, certificates, etcdctl's credentials. */
export const snapshotDir = (v: Vars): string => posix.join(posix.dirname(dataDir(v)), 'snapshots');
export const certDir = (v: Vars): string => posix.join(posix.dirname(dataDir(v)), 'certs');
export const envFile = (v: Vars): string => posix.join(posix.dirname(dataDir(v)), 'etcdctl.env');

/** etcdctl in this host's etcd container; credentials (when auth is on) from the 0600 env file. */
export async function etcdctl(ctx: StepContext, args: string[], opts: { endpoints?: string[]; stdin?: string; nothrow?: boolean; timeoutMs?: number } = {}) {
  const base = { endpoints: opts.endpoints ?? etcdClientUrls(ctx.inventory, ctx.vars), tls: bool(ctx.vars, 'etcd_tls_enabled'), stdin: opts.stdin !== undefined };
  const run = (withAuth: boolean) =>
    ctx.run(etcdctlCmd({ ...base, envFile: withAuth ? envFile(ctx.vars) : undefined }, args), { become: true, stdin: opts.stdin, nothrow: true, timeoutMs: opts.timeoutMs });
  const wanted = bool(ctx.vars, 'etcd_auth_enabled');
  let r = await run(wanted);
  // Before the role has turned auth on, etcd refuses credentials.
  if (!r.ok && /authentication is not enabled/.test(r.stderr)) r = await run(false);
  // After the vars turned auth off but before the role has disabled it, etcd still asks for the stored ones.
  if (!r.ok && !wanted && AUTH_REFUSED.test(r.stderr + r.stdout)) r = await run(true);
  if (!r.ok && !opts.nothrow) {
    throw new Error(`etcdctl ${args.join(' ')} on ${ctx.host.name} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-400)}`);
  }
  return r;
}

export const ownUrl = (ctx: StepContext): string =>
  `${etcdScheme(ctx.vars)}://${etcdMember(ctx).address}:${num(ctx.vars, 'etcd_client_port')}`;

/** Is `host`'s member healthy right now? Asked of its own container (bounded), so a hung host counts as not. */
export async function memberHealth(ctx: StepContext, host: string): Promise<{ host: string; healthy: boolean; why: string }> {
  try {
    const on = ctx.on(host);
    const r = await etcdctl(on, ['endpoint', 'health'], { endpoints: [ownUrl(on)], nothrow: true, timeoutMs: 30_000 });
    const healthy = r.ok && countHealthy(`${r.stdout}\n${r.stderr}`) === 1;
    return { host, healthy, why: healthy ? 'healthy' : (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] || `exit ${r.code}` };
  } catch (e) {
    return { host, healthy: false, why: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

/** Every other member's health, asked at once. */
export const othersHealth = (ctx: StepContext) =>
  Promise.all(etcdMembers(ctx.inventory, ctx.vars).filter((m) => m.host !== ctx.host.name).map((m) => memberHealth(ctx, m.host)));

/** Healthy endpoints and leaders among `endpoints`. */
export async function clusterState(ctx: StepContext, endpoints?: string[]) {
  const health = await etcdctl(ctx, ['endpoint', 'health'], { endpoints, nothrow: true });
  const status = await etcdctl(ctx, ['endpoint', 'status'], { endpoints, nothrow: true });
  return {
    healthy: countHealthy(`${health.stdout}\n${health.stderr}`),
    leaders: parseEndpointStatus(status.stdout).filter((s) => s.leader).length,
  };
}

/** The gate: every endpoint healthy and exactly one leader. */
export function waitClusterHealthy(ctx: StepContext): Promise<void> {
  const n = etcdMembers(ctx.inventory, ctx.vars).length;
  return waitFor(`etcd cluster (checked from ${ctx.host.name})`, num(ctx.vars, 'health_timeout'), async () => {
    const s = await clusterState(ctx);
    return (s.healthy === n && s.leaders === 1) || `${s.healthy}/${n} endpoints healthy, ${s.leaders} leader(s)`;
  });
}

/** Inside a rolling change: this member healthy and the cluster led, before the next member goes. */
export function waitMemberHealthy(ctx: StepContext): Promise<void> {
  return waitFor(`etcd member ${ctx.host.name}`, num(ctx.vars, 'health_timeout'), async () => {
    const own = await clusterState(ctx, [ownUrl(ctx)]);
    const all = await clusterState(ctx);
    return (own.healthy === 1 && all.leaders === 1) || `member healthy: ${own.healthy === 1}, ${all.leaders} leader(s)`;
  });
}

