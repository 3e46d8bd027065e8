// The 3-node etcd cluster, as the guide runs it: the image from its tarball, a data directory per host,
// `docker run --network=host --restart always` with the ETCD_* environment (commands.ts etcdRunCmd). Every read
// is a fact of the role (facts.ts), the health gate's cluster read too: one command per host in a converged run.
// Member changes roll one member at a time behind a snapshot (member.ts and plan.ts: the safety rules).
import { around } from '../../lib/change.ts';
import { ensureDir, ensureFile } from '../../lib/files.ts';
import { defineRole, defineStep, type Change, type StepContext } from '../../lib/types.ts';
import { hostImagesFact, imageIdOn, planImageLoads, pullChange, uploadStep } from '../../ops/bundle.ts';
import { localSha256 } from '../../ops/local-checksum.ts';
import { localManifest } from '../../ops/local-manifest.ts';
import { dataDir, envFile, snapshotDir, certDir } from '../../ops/etcd.ts';
import { ensureTlsFiles } from '../../ops/tls.ts';
import { etcdCredentials } from '../../ops/etcd-credentials.ts';
import { firstHostOfPlay } from '../../ops/topology.ts';
import { stackVars } from '../../vars/schema.ts';
import { authChanges, credentialsFile, rotationChanges, verifyStoredCredentials } from './auth.ts';
import { etcdFacts, manifestCacheFact, tarball } from './facts.ts';
import { healthStep } from './health.ts';
import { memberStep } from './member.ts';
import { membershipStep } from './membership.ts';

export default defineRole({
  name: 'etcd',
  facts: etcdFacts,
  steps: [
    { ...uploadStep('upload the etcd image tarball', tarball), when: fromBundle },
    defineStep({ name: 'load the etcd image', when: fromBundle, plan: planLoad }),
    defineStep({ name: 'pull the etcd image', when: fromRegistry, plan: planPullImage }),
    defineStep({ name: 'etcd image present', plan: imagePresent }),
    defineStep({
      name: 'etcd data and snapshot directories',
      plan: async (ctx) => [
        ...(await ensureDir(ctx, { path: dataDir(ctx), mode: 0o700, become: true })),
        ...(await ensureDir(ctx, { path: snapshotDir(ctx), mode: 0o700, become: true })),
      ],
    }),
    defineStep({ name: 'etcd certificates', when: tlsOn, plan: (ctx) => ensureTlsFiles(ctx, certDir(ctx)) }),
    defineStep({ name: 'etcd root password (rotation)', when: authOn, plan: rotationChanges }),
    defineStep({
      name: 'etcdctl credentials',
      when: authOn,
      plan: (ctx) => ensureFile(ctx, { path: envFile(ctx), content: credentialsFile(etcdCredentials(ctx)!.password), mode: 0o600, become: true, secret: true }),
    }),
    memberStep,
    healthStep,
    membershipStep,
    defineStep({ name: 'etcd auth (root user)', when: firstHostOfPlay, plan: authChanges, verify: verifyStoredCredentials }),
  ],
});

function fromBundle(ctx: StepContext) {
  return stackVars(ctx).etcd_image_source === 'bundle' || 'etcd_image_source is registry';
}
function fromRegistry(ctx: StepContext) {
  return stackVars(ctx).etcd_image_source === 'registry' || 'the image comes from its tarball';
}
function tlsOn(ctx: StepContext) {
  return stackVars(ctx).etcd_tls_enabled || 'etcd_tls_enabled is off';
}
function authOn(ctx: StepContext) {
  return stackVars(ctx).etcd_auth_enabled || 'etcd_auth_enabled is off';
}

/** After a load or a pull the image list is read again: the member step's spec hashes the image's ID. */
const thenImagesAgain = (ctx: StepContext) => (c: Change) =>
  around(c, async (inner) => {
    await inner();
    await ctx.fact(hostImagesFact, { fresh: true });
  });

/** `docker load` of the tarball when an image it holds is not on the host (its manifest cached beside it). */
async function planLoad(ctx: StepContext): Promise<Change[]> {
  const path = tarball.remote(ctx);
  const cache = await ctx.fact(manifestCacheFact(path));
  const local = tarball.local(ctx);
  const sha = await localSha256(local);
  const changes = await planImageLoads(ctx, [{ path, cache }], sha, (ref) => imageIdOn(ctx, ref), () => localManifest(local, sha));
  return changes.map(thenImagesAgain(ctx));
}

async function planPullImage(ctx: StepContext): Promise<Change[]> {
  return (await imageIdOn(ctx, stackVars(ctx).etcd_image)) ? [] : [thenImagesAgain(ctx)(pullChange(stackVars(ctx).etcd_image))];
}

/** Before any member changes: an offline host must never try a pull inside `docker run`. */
async function imagePresent(ctx: StepContext): Promise<Change[]> {
  const ref = stackVars(ctx).etcd_image;
  if (ctx.check || (await imageIdOn(ctx, ref))) return [];
  throw new Error(
    `the etcd image ${ref} is not on ${ctx.host.name} after loading etcd-${stackVars(ctx).etcd_version}.tar.gz: ` +
      `set etcd_image to the tag that tarball holds, or etcd_image_source: registry. Nothing was changed on any member`,
  );
}
