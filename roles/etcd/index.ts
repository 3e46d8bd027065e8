// The 3-node etcd cluster, as the guide runs it: the image from its tarball, a data directory per host,
// `docker run --network=host --restart always` with the ETCD_* environment. Idempotent by a spec label;
// changes roll one member at a time behind a snapshot; a member that lost its data rejoins.
import { posix } from 'node:path';
import { ensureDir, ensureFile } from '../../lib/files.ts';
import { defineRole, defineStep, type Change, type StepContext } from '../../lib/types.ts';
import { localSha256, planImageLoads, planPull, uploadStep } from '../common/bundle.ts';
import { STACK_DEFAULTS } from '../common/defaults.ts';
import { imageSource } from '../common/layout.ts';
import { ensureTlsFiles, etcdCredentials, tlsEnabled } from '../common/tls.ts';
import { etcdMembers, firstHostOfPlay } from '../common/topology.ts';
import { bool, str } from '../common/vars.ts';
import {
  authEnableCmds,
  certDir,
  credentialsFile,
  dataDir,
  envFile,
  etcdctl,
  etcdImage,
  ownUrl,
  rejoin,
  snapshotDir,
  startMember,
  survey,
  takeSnapshot,
  waitClusterHealthy,
  waitMemberHealthy,
  wantedSpec,
} from './cluster.ts';
import { AUTH_REFUSED, etcdctlCmd } from './commands.ts';
import { planMember, snapshotSources, type MemberAction } from './plan.ts';

const tarball = {
  local: (ctx: StepContext) => posix.join(str(ctx.vars, 'api7_bundle_dir'), `etcd-${str(ctx.vars, 'etcd_version')}.tar.gz`),
  remote: (ctx: StepContext) => posix.join(str(ctx.vars, 'api7_install_dir'), 'bundles', `etcd-${str(ctx.vars, 'etcd_version')}.tar.gz`),
};
const fromBundle = (ctx: StepContext) => imageSource(ctx.vars, 'etcd') === 'bundle' || 'etcd_image_source is registry';

/**
 * etcd_auth_enabled was turned off while etcd still has auth on. Disable it with the root credentials the role
 * stored on the host, here in the etcd play: the dashboards and gateways, which wait for this play, are rewritten
 * without credentials only once etcd no longer asks for them. Without usable credentials the play fails and
 * leaves every config as it is.
 */
function authDisableChange(ctx: StepContext, probeError: string): Change[] {
  if (!AUTH_REFUSED.test(probeError)) {
    // In --check on hosts not yet converged etcd may not run at all: there is no auth to turn off.
    if (ctx.check) return [];
    throw new Error(`cannot tell whether etcd auth is on at ${ownUrl(ctx)}: ${probeError.trim().slice(-300)}`);
  }
  return [
    {
      summary: 'disable etcd auth (etcd_auth_enabled is off), with the root credentials stored on the host',
      async apply() {
        // etcdctl() falls back to the stored credentials while etcd still asks for them.
        const r = await etcdctl(ctx, authEnableCmds.disable, { endpoints: [ownUrl(ctx)], nothrow: true });
        if (!r.ok) {
          throw new Error(
            `etcd has auth on but etcd_auth_enabled is off, and the root credentials in ${envFile(ctx.vars)} could not disable it ` +
              `(exit ${r.code}). Set etcd_auth_enabled: true with etcd_root_password, or run \`etcdctl auth disable\` as root.`,
          );
        }
      },
    },
  ];
}

/** The change a member's action needs; rolling ones hold the play-wide lock until the member is healthy. */
async function memberChange(ctx: StepContext, action: MemberAction): Promise<Change[]> {
  const rows = await survey(ctx);
  const members = etcdMembers(ctx.inventory, ctx.vars).length;
  const othersUp = rows.filter((r) => r.host !== ctx.host.name && r.container?.running && r.hasData).length;
  // A member may have gone down since the survey: the first that can take it.
  const snapshotFirst = async () => {
    const errors: string[] = [];
    for (const src of snapshotSources(rows, ctx.host.name)) {
      try {
        return await takeSnapshot(ctx.on(src));
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    }
    if (errors.length) throw new Error(`no running member could take a snapshot before the change:\n${errors.join('\n')}`);
  };
  switch (action.kind) {
    case 'none':
      return [];
    case 'bootstrap':
      // Every member starts at once: a new cluster forms when a majority is up.
      return [{ summary: `start etcd member ${ctx.host.name} (new cluster)`, apply: () => startMember(ctx, 'new') }];
    case 'recreate':
      return [
        {
          summary: `recreate etcd member ${ctx.host.name} (${action.reason}), one member at a time`,
          apply: () =>
            ctx.play.exclusive('etcd member', async () => {
              await snapshotFirst();
              await startMember(ctx, 'existing');
              // Alone it cannot be healthy: wait only when a majority can be up with it.
              if (othersUp + 1 > members / 2) await waitMemberHealthy(ctx);
            }),
        },
      ];
    case 'rejoin':
      return [
        {
          summary: `etcd member ${ctx.host.name} has no data: remove and re-add it through ${action.peer}`,
          apply: () =>
            ctx.play.exclusive('etcd member', async () => {
              await snapshotFirst();
              await rejoin(ctx, action.peer);
              await waitMemberHealthy(ctx);
            }),
        },
      ];
  }
}

export default defineRole({
  name: 'etcd',
  defaults: { ...STACK_DEFAULTS, etcd_data_dir: '/usr/local/etcd/etcd_data', etcd_cluster_token: 'api7-etcd-cluster', etcd_snapshot_keep: 5 },
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
      name: 'etcdctl credentials',
      when: (ctx) => bool(ctx.vars, 'etcd_auth_enabled') || 'etcd_auth_enabled is off',
      plan: (ctx) =>
        ensureFile(ctx, { path: envFile(ctx.vars), content: credentialsFile(etcdCredentials(ctx)!.password), mode: 0o600, become: true, secret: true }),
    }),
    defineStep({
      name: 'etcd member',
      async plan(ctx) {
        return memberChange(ctx, planMember(await survey(ctx), ctx.host.name, await wantedSpec(ctx)));
      },
    }),
    defineStep({
      name: 'etcd cluster healthy',
      plan: async () => [],
      verify: (ctx) => (ctx.check ? Promise.resolve() : waitClusterHealthy(ctx)),
    }),
    defineStep({
      name: 'etcd auth (root user)',
      when: firstHostOfPlay,
      async plan(ctx) {
        // Without credentials `user list` works only while auth is off.
        const probe = etcdctlCmd({ endpoints: [ownUrl(ctx)], tls: tlsEnabled(ctx.vars) }, authEnableCmds.probe);
        const open = await ctx.run(probe, { become: true, nothrow: true });
        if (!bool(ctx.vars, 'etcd_auth_enabled')) return open.ok ? [] : authDisableChange(ctx, open.stderr || open.stdout);
        if (!open.ok) return [];
        const password = etcdCredentials(ctx)!.password;
        return [
          {
            summary: 'create etcd user root (password from stdin) and enable auth',
            async apply() {
              await etcdctl(ctx, authEnableCmds.roleAdd, { nothrow: true });
              const added = await etcdctl(ctx, authEnableCmds.userAdd, { stdin: `${password}\n`, nothrow: true });
              if (!added.ok) await etcdctl(ctx, authEnableCmds.passwd, { stdin: `${password}\n` });
              await etcdctl(ctx, authEnableCmds.grant);
              await etcdctl(ctx, authEnableCmds.enable);
            },
          },
        ];
      },
    }),
  ],
});
