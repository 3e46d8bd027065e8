// What the etcd role reads of a host, all in the role's one batched read as it starts (lib/fact-batch.ts):
// this host's member (data dir, etcd containers, client port), etcd's auth as its member answers, the folders,
// the images, the uploaded tarball, with auth on the stored credentials, and the cluster as the health gate reads
// it. Steps take them from the memo.
import { posix } from 'node:path';
import { dirFact, fileFact } from '../../lib/files.ts';
import { sh } from '../../lib/shell.ts';
import { defineFact, type Fact, type StepContext } from '../../lib/types.ts';
import { hostImagesFact, remoteShaFact } from '../../ops/bundle.ts';
import { manifestCache, readCacheCmd } from '../../ops/docker.ts';
import { clusterReader, dataDir, envFile, etcdAuthFact, expectedClusterReadFact, snapshotDir } from '../../ops/etcd.ts';
import { etcdMember } from '../../ops/topology.ts';
import { stackVars } from '../../vars/schema.ts';
import { parseSurvey, surveyCmd, type SurveyFacts } from './commands.ts';

/** The etcd image tarball: on the controller, and where it is uploaded on the host. */
export const tarball = {
  local: (ctx: StepContext) => posix.join(stackVars(ctx).api7_bundle_dir, `etcd-${stackVars(ctx).etcd_version}.tar.gz`),
  remote: (ctx: StepContext) => posix.join(stackVars(ctx).api7_install_dir, 'bundles', `etcd-${stackVars(ctx).etcd_version}.tar.gz`),
};

/** A hung dockerd must not hang the run: the survey is killed on the host after this long. */
export const SURVEY_TIMEOUT_S = 20;

/**
 * This host's member as the survey reads it. A survey that failed, timed out or printed something odd throws
 * (cluster.ts turns that into an unknown row): unknown is never "nothing there".
 */
export const memberFact = (ctx: StepContext): Fact<SurveyFacts> => {
  const cmd = surveyCmd(dataDir(ctx), etcdMember(ctx).address, stackVars(ctx).etcd_client_port);
  return defineFact({
    name: `etcd member survey ${dataDir(ctx)}`,
    command: sh`timeout ${SURVEY_TIMEOUT_S} sh -c ${cmd}`,
    become: true,
    parse(r) {
      if (r.code === 124 || r.code === -1) throw new Error(`its survey (data dir, docker ps, client port) timed out after ${SURVEY_TIMEOUT_S} s`);
      if (r.code !== 0) throw new Error(`its survey failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
      return parseSurvey(r.stdout);
    },
  });
};

/** The cached manifest.json of the uploaded tarball ('' when none yet): a cache, so an unreadable one is re-made. */
export const manifestCacheFact = (path: string): Fact<string> =>
  defineFact({ name: `manifest cache ${path}`, command: readCacheCmd(manifestCache(path)), become: true, parse: (r) => r.stdout });

/** The stored root credentials (0600, secret): read only while auth is wanted. */
export const envFileFact = (ctx: StepContext) => fileFact(envFile(ctx), true);

export function etcdFacts(ctx: StepContext): Fact<unknown>[] {
  const v = stackVars(ctx);
  return [
    memberFact(ctx),
    etcdAuthFact(ctx),
    dirFact(dataDir(ctx), true),
    dirFact(snapshotDir(ctx), true),
    hostImagesFact,
    ...(v.etcd_image_source === 'bundle' ? [remoteShaFact(tarball.remote(ctx)), manifestCacheFact(tarball.remote(ctx))] : []),
    ...(v.etcd_auth_enabled ? [envFileFact(ctx)] : []),
    // The health gates' read, taken now by one member: a converged run needs no other (a failure is read again).
    ...(clusterReader(ctx) === ctx.host.name ? [expectedClusterReadFact(ctx)] : []),
  ] as Fact<unknown>[];
}
