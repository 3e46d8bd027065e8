// Runs etcdctl and docker on the etcd hosts for the role: survey every member, start one, snapshot,
// rejoin a member that lost its data, move one to a new data dir, and the health gates.
import { posix } from 'node:path';
import type { StepContext, Vars } from '../../lib/types.ts';
import { fingerprint } from '../../ops/fingerprint.ts';
import { imageId } from '../../ops/bundle.ts';
import { bindMountSuffix } from '../../facts/selinux.ts';
import { removeContainerCmd } from '../../ops/docker.ts';
import { waitFor } from '../../ops/retry.ts';
import { etcdClientUrls, etcdMember, etcdMembers, etcdScheme } from '../../ops/topology.ts';
import { bool, num, optStr, str } from '../../ops/vars.ts';
import { emptyDataDirCmd, etcdRunCmd, etcdSpecInputs, moveDataCmd, parseSurvey, pruneSnapshotsCmd, snapshotFile, surveyCmd, type EtcdRun } from './commands.ts';
import { AUTH_REFUSED, countHealthy, etcdctlCmd, parseEndpointStatus, parseMemberList } from '../../ops/etcdctl.ts';
import type { MemberSurvey } from './plan.ts';
import { certDir, dataDir, etcdctl, ownUrl, snapshotDir } from '../../ops/etcd.ts';

export const etcdImage = (v: Vars): string => optStr(v, 'etcd_image') ?? `bitnami/etcd:${str(v, 'etcd_version')}`;
export function runSpec(ctx: StepContext, state: 'new' | 'existing'): EtcdRun {
  const v = ctx.vars;
  const me = etcdMember(ctx);
  const peer = num(v, 'etcd_peer_port');
  return {
    image: etcdImage(v),
    name: me.name,
    address: me.address,
    clientPort: num(v, 'etcd_client_port'),
    peerPort: peer,
    initialCluster: etcdMembers(ctx.inventory, v).map((m) => `${m.name}=http://${m.address}:${peer}`).join(','),
    token: str(v, 'etcd_cluster_token'),
    state,
    dataDir: dataDir(v),
    snapshotDir: snapshotDir(v),
    certDir: bool(v, 'etcd_tls_enabled') ? certDir(v) : undefined,
    v2: bool(v, 'etcd_enable_v2'),
  };
}

export const wantedSpec = async (ctx: StepContext): Promise<string> =>
  fingerprint(etcdSpecInputs(runSpec(ctx, 'new'), await imageId(ctx, etcdImage(ctx.vars))));

/** One survey read; a hung dockerd must not hang the run. */
const SURVEY_TIMEOUT_MS = 20_000;
const SURVEY_TRIES = 2;

/** What one member's host shows. A failed, timed-out or unreadable survey is a row too: known: false. */
export async function surveyMember(ctx: StepContext, host: string): Promise<MemberSurvey> {
  const on = ctx.on(host);
  const me = etcdMember(on);
  const cmd = surveyCmd(dataDir(on.vars), me.address, num(on.vars, 'etcd_client_port'));
  let error = '';
  for (let i = 0; i < SURVEY_TRIES; i++) {
    if (i) await new Promise((ok) => setTimeout(ok, 2000));
    try {
      const r = await on.run(cmd, { become: true, nothrow: true, timeoutMs: SURVEY_TIMEOUT_MS });
      if (r.ok) return { host, known: true, ...parseSurvey(r.stdout) };
      const why = (r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ');
      error = r.code === -1 ? `its survey (data dir, docker ps, client port) timed out after ${SURVEY_TIMEOUT_MS / 1000} s` : `its survey failed (exit ${r.code}): ${why}`;
    } catch (e) {
      error = `its survey failed: ${e instanceof Error ? e.message : String(e)}`;
    }
    on.log(`etcd survey of ${host}, try ${i + 1}: ${error}`);
  }
  return { host, known: false, error };
}

/** Every member's state, read once per play before any member changes. */
export const survey = (ctx: StepContext): Promise<MemberSurvey[]> =>
  ctx.play.once('etcd survey', () => Promise.all(etcdMembers(ctx.inventory, ctx.vars).map((m) => surveyMember(ctx, m.host))));

/** Replaces this host's etcd container with the wanted one. */
export async function startMember(ctx: StepContext, state: 'new' | 'existing'): Promise<void> {
  await ctx.run(removeContainerCmd('etcd'), { become: true, timeoutMs: 60_000 });
  await ctx.run(etcdRunCmd(runSpec(ctx, state), await wantedSpec(ctx), await bindMountSuffix(ctx)), { become: true });
}

/** `etcdctl snapshot save` on a running member, into <data_dir>/../snapshots. */
export async function takeSnapshot(ctx: StepContext): Promise<void> {
  const file = snapshotFile(new Date().toISOString().replace(/[:.]/g, '-'));
  await etcdctl(ctx, ['snapshot', 'save', file], { endpoints: [ownUrl(ctx)] });
  await ctx.run(pruneSnapshotsCmd(snapshotDir(ctx.vars), num(ctx.vars, 'etcd_snapshot_keep')), { become: true });
  ctx.log(`etcd snapshot saved on ${ctx.host.name}: ${file.replace(/^\/etcd-snapshots/, snapshotDir(ctx.vars))}`);
}

/** The guide's way back for a member whose data is gone: remove and re-add it through a healthy peer. */
export async function rejoin(ctx: StepContext, peerHost: string): Promise<void> {
  const peer = ctx.on(peerHost);
  const me = etcdMember(ctx);
  const peerUrl = `http://${me.address}:${num(ctx.vars, 'etcd_peer_port')}`;
  const members = parseMemberList((await etcdctl(peer, ['member', 'list'], { endpoints: [ownUrl(peer)] })).stdout);
  const old = members.find((m) => m.name === me.name || m.peerUrls.includes(peerUrl));
  if (old) await etcdctl(peer, ['member', 'remove', old.id], { endpoints: [ownUrl(peer)] });
  await etcdctl(peer, ['member', 'add', me.name, `--peer-urls=${peerUrl}`], { endpoints: [ownUrl(peer)] });
  await ctx.run(removeContainerCmd('etcd'), { become: true, timeoutMs: 60_000 });
  await ctx.run(emptyDataDirCmd(dataDir(ctx.vars)), { become: true });
  await startMember(ctx, 'existing');
}

/** A member whose data sits in its container's old data dir: stop it, move the data, start it on the new dir. */
export async function migrate(ctx: StepContext, from: string): Promise<void> {
  await ctx.run(removeContainerCmd('etcd'), { become: true, timeoutMs: 60_000 });
  await ctx.run(moveDataCmd(from, dataDir(ctx.vars)), { become: true, timeoutMs: 600_000 });
  ctx.log(`etcd member ${ctx.host.name}: data moved from ${from} to ${dataDir(ctx.vars)}`);
  await startMember(ctx, 'existing');
}

export const authEnableCmds = {
  probe: ['user', 'list'],
  roleAdd: ['role', 'add', 'root'],
  userAdd: ['user', 'add', 'root', '--interactive=false'],
  passwd: ['user', 'passwd', 'root', '--interactive=false'],
  grant: ['user', 'grant-role', 'root', 'root'],
  enable: ['auth', 'enable'],
  disable: ['auth', 'disable'],
};

export const credentialsFile = (password: string): string => `ETCDCTL_USER=root:${password}\n`;
