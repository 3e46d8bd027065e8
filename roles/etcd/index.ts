// The 3-node etcd cluster, as the guide runs it: the image from its tarball, a data directory per host,
// `docker run --network=host --restart always` with the ETCD_* environment. Idempotent by a spec label;
// changes roll one member at a time behind a snapshot (member.ts: the safety rules).
import { posix } from 'node:path';
import { ensureDir, ensureFile } from '../../lib/files.ts';
import { defineRole, defineStep, type StepContext } from '../../lib/types.ts';
import { authChanges, rotationChanges, verifyStoredCredentials } from './auth.ts';
import { imageId, localSha256, planImageLoads, planPull, uploadStep } from '../../ops/bundle.ts';
import { STACK_DEFAULTS } from '../../ops/defaults.ts';
import { imageSource } from '../../ops/layout.ts';
import { ensureTlsFiles, etcdCredentials, tlsEnabled } from '../../ops/tls.ts';
import { firstHostOfPlay } from '../../ops/topology.ts';
import { bool, str } from '../../ops/vars.ts';
import { credentialsFile, etcdImage } from './cluster.ts';
import { certDir, dataDir, envFile, snapshotDir, waitClusterHealthy } from '../../ops/etcd.ts';
import { memberStep } from './member.ts';
import { membershipStep } from './membership.ts';

const tarball = {
  local: (ctx: StepContext) => posix.join(str(ctx.vars, 'api7_bundle_dir'), `etcd-${str(ctx.vars, 'etcd_version')}.tar.gz`),
  remote: (ctx: StepContext) => posix.join(str(ctx.vars, 'api7_install_dir'), 'bundles', `etcd-${str(ctx.vars, 'etcd_version')}.tar.gz`),
};
const fromBundle = (ctx: StepContext) => imageSource(ctx.vars, 'etcd') === 'bundle' || 'etcd_image_source is registry';

export default defineRole({
  name: 'etcd',
  defaults: { ...STACK_DEFAULTS },
  steps: [
    { ...uploadStep('upload the etcd image tarball', tarball), when: fromBundle },
    defineStep({
      name: 'load the etcd image',
      when: fromBundle,
      plan: async (ctx) => planImageLoads(ctx, [tarball.remote(ctx)], await localSha256(tarball.local(ctx))),
    }),
    defineStep({
      name: 'pull the etcd image',
      when: (ctx) => imageSource(ctx.vars, 'etcd') === 'registry' || 'the image comes from its tarball',
      plan: (ctx) => planPull(ctx, etcdImage(ctx.vars)),
    }),
    defineStep({
      name: 'etcd image present',
      // Before any member changes: an offline host must never try a pull inside `docker run`.
      async plan(ctx) {
        const ref = etcdImage(ctx.vars);
        if (ctx.check || (await imageId(ctx, ref))) return [];
        throw new Error(
          `the etcd image ${ref} is not on ${ctx.host.name} after loading etcd-${str(ctx.vars, 'etcd_version')}.tar.gz: ` +
            `set etcd_image to the tag that tarball holds, or etcd_image_source: registry. Nothing was changed on any member`,
        );
      },
    }),
    defineStep({
      name: 'etcd data and snapshot directories',
      plan: async (ctx) => [
        ...(await ensureDir(ctx, { path: dataDir(ctx.vars), mode: 0o700, become: true })),
        ...(await ensureDir(ctx, { path: snapshotDir(ctx.vars), mode: 0o700, become: true })),
      ],
    }),
    defineStep({
      name: 'etcd certificates',
      when: (ctx) => tlsEnabled(ctx.vars) || 'etcd_tls_enabled is off',
      plan: (ctx) => ensureTlsFiles(ctx, certDir(ctx.vars)),
    }),
    defineStep({
      name: 'etcd root password (rotation)',
      when: (ctx) => bool(ctx.vars, 'etcd_auth_enabled') || 'etcd_auth_enabled is off',
      plan: rotationChanges,
    }),
    defineStep({
      name: 'etcdctl credentials',
      when: (ctx) => bool(ctx.vars, 'etcd_auth_enabled') || 'etcd_auth_enabled is off',
      plan: (ctx) =>
        ensureFile(ctx, { path: envFile(ctx.vars), content: credentialsFile(etcdCredentials(ctx)!.password), mode: 0o600, become: true, secret: true }),
    }),
    memberStep,
    defineStep({
      name: 'etcd cluster healthy',
      plan: async () => [],
      verify: (ctx) => (ctx.check ? Promise.resolve() : waitClusterHealthy(ctx)),
    }),
    membershipStep,
    defineStep({
      name: 'etcd auth (root user)',
      when: firstHostOfPlay,
      plan: authChanges,
      verify: verifyStoredCredentials,
    }),
  ],
});
