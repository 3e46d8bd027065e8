// The member's container as the guide runs it (runSpec -> commands.ts etcdRunCmd), what every member's host
// shows (the survey, from each host's facts), and the work of a member change: start, snapshot, rejoin, move.
import { UnreachableError } from '../../lib/errors.ts';
import type { StepContext } from '../../lib/types.ts';
import { fingerprint } from '../../ops/fingerprint.ts';
import { imageIdOn } from '../../ops/bundle.ts';
import { bindMountSuffix } from '../../facts/selinux.ts';
import { removeContainerCmd } from '../../ops/docker.ts';
import { etcdMember, etcdMembers } from '../../ops/topology.ts';
import { stackVars } from '../../vars/schema.ts';
import { emptyDataDirCmd, etcdRunCmd, etcdSpecInputs, moveDataCmd, pruneSnapshotsCmd, snapshotFile, type EtcdRun } from './commands.ts';
import { parseMemberList } from '../../ops/etcdctl.ts';
import type { MemberSurvey } from './plan.ts';
import { certDir, dataDir, etcdctl, ownUrl, snapshotDir } from '../../ops/etcd.ts';
import { memberFact } from './facts.ts';

/** The guide's `docker run` for this host's member, as data (commands.ts renders it). */
export function runSpec(ctx: StepContext, state: 'new' | 'existing'): EtcdRun {
  const v = stackVars(ctx);
  const me = etcdMember(ctx);
  return {
    image: v.etcd_image,
    name: me.name,
    address: me.address,
    clientPort: v.etcd_client_port,
    peerPort: v.etcd_peer_port,
    initialCluster: etcdMembers(ctx.inventory, ctx.vars).map((m) => `${m.name}=http://${m.address}:${v.etcd_peer_port}`).join(','),
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
export async function startCommands(ctx: StepContext, state: 'new' | 'existing'): Promise<RootCommand[]> {
  return [
    { command: removeContainerCmd('etcd'), become: true, timeoutMs: 60_000 },
    { command: etcdRunCmd(runSpec(ctx, state), await wantedSpec(ctx), await bindMountSuffix(ctx)), become: true },
  ];
}

/** A member whose data sits in its container's old data dir: stop it, move the data, start it on the new dir. */
export async function migrateCommands(ctx: StepContext, from: string): Promise<RootCommand[]> {
  const [remove, run] = await startCommands(ctx, 'existing');
  return [remove, { command: moveDataCmd(from, dataDir(ctx)), become: true, timeoutMs: 600_000 }, run];
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
  const file = snapshotFile(new Date().toISOString().replace(/[:.]/g, '-'));
  await etcdctl(ctx, ['snapshot', 'save', file], { endpoints: [ownUrl(ctx)] });
  await ctx.run(pruneSnapshotsCmd(snapshotDir(ctx), stackVars(ctx).etcd_snapshot_keep), { become: true });
  ctx.log(`etcd snapshot saved on ${ctx.host.name}: ${file.replace(/^\/etcd-snapshots/, snapshotDir(ctx))}`);
}

/** The guide's way back for a member whose data is gone: remove and re-add it through a healthy peer. */
export async function rejoin(ctx: StepContext, peerHost: string): Promise<void> {
  const peer = ctx.on(peerHost);
  const me = etcdMember(ctx);
  const peerUrl = `http://${me.address}:${stackVars(ctx).etcd_peer_port}`;
  const members = parseMemberList((await etcdctl(peer, ['member', 'list'], { endpoints: [ownUrl(peer)] })).stdout);
  const old = members.find((m) => m.name === me.name || m.peerUrls.includes(peerUrl));
  if (old) await etcdctl(peer, ['member', 'remove', old.id], { endpoints: [ownUrl(peer)] });
  await etcdctl(peer, ['member', 'add', me.name, `--peer-urls=${peerUrl}`], { endpoints: [ownUrl(peer)] });
  const [remove, run] = await startCommands(ctx, 'existing');
  const empty: RootCommand = { command: emptyDataDirCmd(dataDir(ctx)), become: true };
  for (const c of [remove, empty, run]) {
    await ctx.run(c.command, { become: true, timeoutMs: c.timeoutMs });
  }
}
