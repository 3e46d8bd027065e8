// Talking to the etcd cluster from any host of the stack: etcdctl in a member's container with the credentials
// etcd's auth (as observed on that member) asks for, where a member keeps its data, and the health gates every
// rolling change uses.
import { posix } from 'node:path';
import { newNonce } from '../lib/fact-batch.ts';
import { settlingReads, type FactOptions } from '../lib/facts.ts';
import { defineFact, type Fact, type StepContext, type Vars } from '../lib/types.ts';
import { stackVars } from '../vars/schema.ts';
import {
  authProbeCmd,
  clusterReadCmd,
  countHealthy,
  credentialsFor,
  etcdctlCmd,
  parseAuthProbe,
  parseClusterRead,
  parseEndpointStatus,
  type ClusterRead,
  type EtcdAuth,
} from './etcdctl.ts';
import { waitFor } from './retry.ts';
import { etcdClientUrls, etcdMember, etcdMembers, etcdScheme } from './topology.ts';

type HasVars = { vars: Vars };

export const dataDir = (ctx: HasVars): string => stackVars(ctx).etcd_data_dir;
/** Beside the data dir: snapshots, certificates, etcdctl's credentials. */
export const snapshotDir = (ctx: HasVars): string => posix.join(posix.dirname(dataDir(ctx)), 'snapshots');
export const certDir = (ctx: HasVars): string => posix.join(posix.dirname(dataDir(ctx)), 'certs');
export const envFile = (ctx: HasVars): string => posix.join(posix.dirname(dataDir(ctx)), 'etcdctl.env');

export const ownUrl = (ctx: StepContext): string => `${etcdScheme(ctx.vars)}://${etcdMember(ctx).address}:${stackVars(ctx).etcd_client_port}`;

/**
 * Is etcd's auth on, as this host's member answers `user list` without credentials? A fact: read in the etcd
 * role's batch, memoised for the run; the role re-reads it (fresh) on every member after it turns auth on or off.
 * A member that answers neither way (not running yet) makes the read fail, and the next asker reads it again.
 */
export const etcdAuthFact = (ctx: StepContext): Fact<EtcdAuth> => {
  const url = ownUrl(ctx);
  return defineFact({
    name: `etcd auth at ${url}`,
    command: authProbeCmd(url, stackVars(ctx).etcd_tls_enabled ? certDir(ctx) : undefined),
    become: true,
    parse: (r) => parseAuthProbe(r, url),
  });
};

/** etcd's auth as observed on this host's member (from the memo; read once when not there). */
export const etcdAuth = (ctx: StepContext): Promise<EtcdAuth> => ctx.fact(etcdAuthFact(ctx));

/** After the role turned auth on or off: every member's observation is read again, so later calls follow it. */
export async function observeAuthAgain(ctx: StepContext): Promise<void> {
  await Promise.all(
    etcdMembers(ctx.inventory, ctx.vars).map(async (m) => {
      const on = ctx.on(m.host);
      // A member that does not answer now is read again by its next etcdctl call (a failed read is not memoised).
      await on.fact(etcdAuthFact(on), { fresh: true }).catch((e: Error) => ctx.log(`etcd auth on ${m.host} not read again: ${e.message}`));
    }),
  );
}

export interface EtcdctlOptions {
  endpoints?: string[];
  stdin?: string;
  nothrow?: boolean;
  timeoutMs?: number;
}

/**
 * etcdctl in this host's etcd container. The credentials follow the rule in ops/etcdctl.ts (credentialsFor):
 * the stored root credentials exactly when etcd's auth is observed on (etcdAuthFact), none otherwise.
 */
export async function etcdctl(ctx: StepContext, args: string[], opts: EtcdctlOptions = {}) {
  const v = stackVars(ctx);
  const auth = await etcdAuth(ctx);
  const cmd = etcdctlCmd(
    { endpoints: opts.endpoints ?? etcdClientUrls(ctx.inventory, ctx.vars), tls: v.etcd_tls_enabled, envFile: credentialsFor(auth, envFile(ctx)), stdin: opts.stdin !== undefined },
    args,
  );
  const r = await ctx.run(cmd, { become: true, stdin: opts.stdin, nothrow: true, timeoutMs: opts.timeoutMs });
  if (!r.ok && !opts.nothrow) {
    const creds = auth === 'on' ? `with the root credentials in ${envFile(ctx)} (etcd auth is on)` : 'without credentials (etcd auth is off)';
    throw new Error(`etcdctl ${args.join(' ')} on ${ctx.host.name} ${creds} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-400)}`);
  }
  return r;
}

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

/** Healthy endpoints and leaders among `endpoints` (two reads: the docker role's gates, verify's checks). */
export async function clusterState(ctx: StepContext, endpoints?: string[]) {
  const health = await etcdctl(ctx, ['endpoint', 'health'], { endpoints, nothrow: true });
  const status = await etcdctl(ctx, ['endpoint', 'status'], { endpoints, nothrow: true });
  return {
    healthy: countHealthy(`${health.stdout}\n${health.stderr}`),
    leaders: parseEndpointStatus(status.stdout).filter((s) => s.leader).length,
  };
}

/** Per host and run, unknown to the hosts before the read is sent: framing a read's output (lib/fact-batch.ts). */
const readNonces = new Map<string, string>();
const readNonce = (host: string): string => readNonces.get(host) ?? (readNonces.set(host, newNonce()), readNonces.get(host)!);

/**
 * Every endpoint's health and status and the member list in one command, as a fact (with credentials, also whether
 * they are root's): the etcd role's one health read per host. `files`: the credentials etcdctl sends.
 */
export const clusterReadFact = (ctx: StepContext, files: string | undefined): Fact<ClusterRead> => {
  const nonce = readNonce(ctx.host.name);
  return defineFact({
    name: `etcd cluster read from ${ctx.host.name}${files ? ' with credentials' : ''}`,
    command: clusterReadCmd({ endpoints: etcdClientUrls(ctx.inventory, ctx.vars), tls: stackVars(ctx).etcd_tls_enabled, envFile: files }, nonce),
    become: true,
    parse: (r) => parseClusterRead(r, files !== undefined, nonce),
  });
};

/**
 * The cluster read the reader's batch takes as it starts (clusterReader), with the credentials the vars expect
 * (auth on when etcd_auth_enabled). The gates use it only when the observed auth asks for the same credentials
 * (the credentials rule); otherwise, and after any change in the run, they read again.
 */
export const expectedClusterReadFact = (ctx: StepContext): Fact<ClusterRead> =>
  clusterReadFact(ctx, credentialsFor(stackVars(ctx).etcd_auth_enabled ? 'on' : 'off', envFile(ctx)));

/** The cluster as this host's member answers now: `current` takes the run's read while nothing changed since. */
export async function readCluster(ctx: StepContext, opts: FactOptions = {}): Promise<ClusterRead> {
  return ctx.fact(clusterReadFact(ctx, credentialsFor(await etcdAuth(ctx), envFile(ctx))), opts);
}

/**
 * The play's cluster reader: its first host not found unreachable. The read is of every endpoint, so while nothing
 * changed in the run one read answers every member's gate: only the reader's batch takes it.
 */
export const clusterReader = (ctx: Pick<StepContext, 'play' | 'unreachable' | 'host'>): string =>
  ctx.play.hosts.find((h) => !ctx.unreachable(h.name))?.name ?? ctx.host.name;

/**
 * A gate's read: while it takes the run's read (`current`), the reader's (the batch read when nothing changed),
 * else its own; a new read (`fresh`) is always its own.
 */
function gateRead(ctx: StepContext, opts: FactOptions): Promise<ClusterRead> {
  const reader = clusterReader(ctx);
  if (opts.fresh || reader === ctx.host.name) return readCluster(ctx, opts);
  return readCluster(ctx.on(reader), opts).catch(() => readCluster(ctx, opts));
}

/**
 * The gate: every endpoint healthy and exactly one leader. Gives the read that passed. `notJoined` names group
 * hosts the cluster does not have (a join refused this run: nothing serves there): they are not waited for.
 */
export async function waitClusterHealthy(ctx: StepContext, notJoined: () => ReadonlySet<string> = () => new Set()): Promise<ClusterRead> {
  const group = etcdMembers(ctx.inventory, ctx.vars);
  let passed!: ClusterRead;
  let lost: string[] = [];
  const read = settlingReads((opts) => gateRead(ctx, opts));
  await waitFor(`etcd cluster (checked from ${ctx.host.name})`, stackVars(ctx).health_timeout, async () => {
    const s = await read();
    const members = group.filter((m) => !notJoined().has(m.host));
    const n = members.length;
    passed = s;
    if (s.healthy === n && s.leaders === 1) return true;
    lost = knownLosses(ctx, members, s);
    return lost.length > 0 || `${s.healthy}/${n} endpoints healthy, ${s.leaders} leader(s)${s.why ? `: ${s.why}` : ''}`;
  });
  if (lost.length) {
    ctx.warn(`etcd serves with ${passed.healthy}/${passed.healthy + lost.length} members: ${lost.join(', ')} unreachable in this run (quorum holds; a run once they are back converges them)`);
  }
  return passed;
}

/**
 * The members down only because their hosts are found unreachable in this run, when the rest keep quorum and a
 * leader: a known loss the stack is built to survive (what builds on etcd goes on), not a failure of the cluster.
 * [] when anything else is wrong.
 */
export function knownLosses(ctx: Pick<StepContext, 'unreachable'>, members: { host: string; address: string }[], s: Pick<ClusterRead, 'healthyEndpoints' | 'leaders' | 'healthy'>): string[] {
  const down = members.filter((m) => !s.healthyEndpoints.some((url) => url.includes(`//${m.address}:`)));
  const quorum = Math.floor(members.length / 2) + 1;
  if (!down.length || s.leaders !== 1 || s.healthy < quorum || !down.every((m) => ctx.unreachable(m.host))) return [];
  return down.map((m) => m.host);
}

/** Inside a rolling change: this member healthy and the cluster led, before the next member goes. */
export function waitMemberHealthy(ctx: StepContext): Promise<void> {
  return waitFor(`etcd member ${ctx.host.name}`, stackVars(ctx).health_timeout, async () => {
    const own = await clusterState(ctx, [ownUrl(ctx)]);
    const all = await clusterState(ctx);
    return (own.healthy === 1 && all.leaders === 1) || `member healthy: ${own.healthy === 1}, ${all.leaders} leader(s)`;
  });
}
