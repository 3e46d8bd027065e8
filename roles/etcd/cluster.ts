// The member's container as the guide runs it (runSpec -> commands.ts etcdRunCmd), what every member's host
// shows (the survey, from each host's facts), and the work of a member change: start, snapshot, rejoin, move.
import { UnreachableError } from '../../lib/errors.ts';
import type { StepContext } from '../../lib/types.ts';
import { fingerprint } from '../../ops/fingerprint.ts';
import { imageIdOn } from '../../ops/bundle.ts';
import { bindMountSuffix } from '../../facts/selinux.ts';
import { removeContainerCmd } from '../../ops/docker.ts';
import { ETCD_CONTAINER } from '../../ops/layout.ts';
import { etcdMember, etcdMembers, etcdPeerUrl } from '../../ops/topology.ts';
import { stackVars } from '../../vars/schema.ts';
import {
  answeredEndpoints,
  emptyDataDirCmd,
  endpointStatusCmd,
  etcdRunCmd,
  etcdSpecInputs,
  moveDataCmd,
  pruneSnapshotsCmd,
  restartCmd,
  restartMigratedCmd,
  snapshotFile,
  snapshotSaveCmd,
  stopMemberCmd,
  type EtcdRun,
} from './commands.ts';
import { countHealthy, credentialsFor, parseMemberList, type MemberLine } from '../../ops/etcdctl.ts';
import type { MemberSurvey, OutsideAnswer } from './plan.ts';
import { certDir, dataDir, envFile as etcdEnvFile, etcdAuth, etcdctl, ownUrl, snapshotDir } from '../../ops/etcd.ts';
import { memberFact } from './facts.ts';
import { joinInitialCluster, joinRefusal, memberAt, type Joiner } from './join.ts';

/**
 * The guide's `docker run` for this host's member, as data (commands.ts renders it). The initial cluster is the
 * group's, unless a joining member is given the live member list plus itself.
 */
export function runSpec(ctx: StepContext, state: 'new' | 'existing', initialCluster?: string): EtcdRun {
  const v = stackVars(ctx);
  const me = etcdMember(ctx);
  return {
    image: v.etcd_image,
    name: me.name,
    address: me.address,
    clientPort: v.etcd_client_port,
    peerPort: v.etcd_peer_port,
    initialCluster: initialCluster ?? etcdMembers(ctx.inventory, ctx.vars).map((m) => `${m.name}=${etcdPeerUrl(m, ctx.vars)}`).join(','),
    token: v.etcd_cluster_token,
    state,
    dataDir: dataDir(ctx),
    snapshotDir: snapshotDir(ctx),
    certDir: v.etcd_tls_enabled ? certDir(ctx) : undefined,
    v2: v.etcd_enable_v2,
  };
}

/** The spec label the member's container must carry: image (and its ID), environment, mounts. */
export const wantedSpec = async (ctx: StepContext): Promise<string> =>
  fingerprint(etcdSpecInputs(runSpec(ctx, 'new'), await imageIdOn(ctx, stackVars(ctx).etcd_image)));

/** A command of a member change, as root. */
export interface RootCommand {
  command: string;
  become: true;
  timeoutMs?: number;
}

/** Replaces this host's etcd container with the wanted one: the commands, as data. */
export async function startCommands(ctx: StepContext, state: 'new' | 'existing', initialCluster?: string): Promise<RootCommand[]> {
  return [
    { command: removeContainerCmd(ETCD_CONTAINER), become: true, timeoutMs: 60_000 },
    { command: etcdRunCmd(runSpec(ctx, state, initialCluster), await wantedSpec(ctx), await bindMountSuffix(ctx)), become: true },
  ];
}

/**
 * A member whose data sits in its container's old data dir: stop it (the container stays until the data has
 * moved), move the data, then replace the container with one on the new dir.
 */
export async function migrateCommands(ctx: StepContext, from: string): Promise<RootCommand[]> {
  const [remove, run] = await startCommands(ctx, 'existing');
  return [{ command: stopMemberCmd, become: true, timeoutMs: 60_000 }, { command: moveDataCmd(from, dataDir(ctx)), become: true, timeoutMs: 600_000 }, remove, run];
}

/** The way back when a recreate or a migration is cut short (a failure, a forced interrupt): see commands.ts. */
export async function wayBack(ctx: StepContext, kind: 'recreate' | 'migrate'): Promise<RootCommand[]> {
  const [remove, run] = await startCommands(ctx, 'existing');
  const command = kind === 'recreate' ? restartCmd(run.command) : restartMigratedCmd(dataDir(ctx), remove.command, run.command);
  return [{ command, become: true, timeoutMs: 60_000 }];
}

const SURVEY_TRIES = 2;

/** What one member's host shows (its facts; `fresh` reads them again). A host that could not be read is a row too: known: false. */
export async function surveyMember(ctx: StepContext, host: string, fresh = false): Promise<MemberSurvey> {
  const on = ctx.on(host);
  let error = '';
  for (let i = 0; i < SURVEY_TRIES; i++) {
    if (i) await new Promise((ok) => setTimeout(ok, 2000));
    try {
      return { host, known: true, ...(await on.fact(memberFact(on), { fresh: fresh || i > 0 })) };
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      error = e instanceof UnreachableError || why.startsWith('its survey') ? why : `its survey failed: ${why}`;
    }
    on.log(`etcd survey of ${host}, try ${i + 1}: ${error}`);
  }
  return { host, known: false, error };
}

/** Every member's state, taken once per play before any member changes (each host's own read when it has one). */
export const survey = (ctx: StepContext): Promise<MemberSurvey[]> =>
  ctx.play.once('etcd survey', () => Promise.all(etcdMembers(ctx.inventory, ctx.vars).map((m) => surveyMember(ctx, m.host))));

/** `etcdctl snapshot save` on a running member, into <data_dir>/../snapshots. */
export async function takeSnapshot(ctx: StepContext): Promise<void> {
  const v = stackVars(ctx);
  const file = snapshotFile(new Date().toISOString().replace(/[:.]/g, '-'));
  const envFile = credentialsFor(await etcdAuth(ctx), etcdEnvFile(ctx));
  const cmd = snapshotSaveCmd({ image: v.etcd_image, endpoint: ownUrl(ctx), snapshotDir: snapshotDir(ctx), file, certDir: v.etcd_tls_enabled ? certDir(ctx) : undefined, envFile });
  const r = await ctx.run(cmd, { become: true, nothrow: true });
  if (!r.ok) {
    const creds = envFile ? `with the root credentials in ${envFile} (etcd auth is on)` : 'without credentials (etcd auth is off)';
    throw new Error(`etcdctl snapshot save of ${ctx.host.name}'s member ${creds} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-400)}`);
  }
  await ctx.run(pruneSnapshotsCmd(snapshotDir(ctx), v.etcd_snapshot_keep), { become: true });
  ctx.log(`etcd snapshot saved on ${ctx.host.name}: ${file.replace(/^\/etcd-snapshots/, snapshotDir(ctx))}`);
}

/** The cluster's members as `peer` (a running member) lists them. */
export async function memberList(ctx: StepContext, peer: string): Promise<MemberLine[]> {
  const on = ctx.on(peer);
  return parseMemberList((await etcdctl(on, ['member', 'list'], { endpoints: [ownUrl(on)] })).stdout);
}

/** Every member of the etcd group as a joining member would be: host, name, peer URL (inventory order). */
export const joiners = (ctx: StepContext): Joiner[] =>
  etcdMembers(ctx.inventory, ctx.vars).map((m) => ({ host: m.host, name: m.name, peerUrl: etcdPeerUrl(m, ctx.vars) }));

const JOINED = 'etcd member joined';

/**
 * The guide's way in for a member without data, through a healthy peer: its old member (same peer URL, if any)
 * removed, the member added, then started empty with `existing` and the live member list. Checked again on the
 * list read now; every other listed member must answer `endpoint health` (members outside the group too). `back`
 * gets the member's start once it is added, so a cut-short join still starts it.
 */
export async function rejoin(ctx: StepContext, peerHost: string, back: { commands?: RootCommand[] }): Promise<void> {
  const peer = ctx.on(peerHost);
  const me = joiners(ctx).find((j) => j.host === ctx.host.name)!;
  const members = await memberList(ctx, peerHost);
  const mine = memberAt(members, me.peerUrl);
  const joined = ctx.play.state.get(JOINED) as string | undefined;
  const refusal = joinRefusal(members, me, mine ? undefined : (joined ?? me.host));
  if (refusal) throw new Error(refusal);
  const others = members.filter((m) => m !== mine).map((m) => m.clientUrls[0] ?? `(no client URL: ${m.id})`);
  if (others.length) {
    const r = await etcdctl(peer, ['endpoint', 'health'], { endpoints: others, nothrow: true, timeoutMs: 30_000 });
    if (countHealthy(`${r.stdout}\n${r.stderr}`) !== others.length) {
      throw new Error(`not adding etcd member ${me.name} (${me.host}): not every member of the cluster answers \`endpoint health\` (${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0] || `exit ${r.code}`}). Nothing was changed`);
    }
  }
  if (!mine) ctx.play.state.set(JOINED, me.host);
  if (mine) await etcdctl(peer, ['member', 'remove', mine.id], { endpoints: [ownUrl(peer)] });
  await etcdctl(peer, ['member', 'add', me.name, `--peer-urls=${me.peerUrl}`], { endpoints: [ownUrl(peer)] });
  const [remove, run] = await startCommands(ctx, 'existing', joinInitialCluster(members, me));
  back.commands = [remove, { command: emptyDataDirCmd(dataDir(ctx)), become: true }, run];
  for (const c of back.commands) await ctx.run(c.command, { become: true, timeoutMs: c.timeoutMs });
}

/** `endpoint status` of `endpoints` from this etcd host (no member runs here yet: a throwaway container). */
export async function askEndpoints(ctx: StepContext, endpoints: string[]): Promise<OutsideAnswer> {
  const v = stackVars(ctx);
  const cmd = endpointStatusCmd({ image: v.etcd_image, endpoints, certDir: v.etcd_tls_enabled ? certDir(ctx) : undefined });
  try {
    const r = await ctx.run(cmd, { become: true, nothrow: true, timeoutMs: 90_000 });
    return { from: ctx.host.name, answered: answeredEndpoints(r.stdout), why: (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] || `exit ${r.code}` };
  } catch (e) {
    return { from: ctx.host.name, answered: [], why: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}
