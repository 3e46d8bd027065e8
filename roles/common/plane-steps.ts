// What the dashboard and gateway roles share, as the guide does it for either bundle: upload and unpack
// it, load its images (or pull them), copy the etcd client certificates, write the conf file, and the
// compose service that mounts it.
import { posix } from 'node:path';
import { ensureDir, ensureFile } from '../../lib/files.ts';
import { defineStep, type Step, type StepContext, type Vars } from '../../lib/types.ts';
import { imageId, loadBundleImagesStep, planPull, unpackStep, uploadStep } from './bundle.ts';
import { sha256 } from './fingerprint.ts';
import { bundleFile, imageSource, planeDir, type Plane } from './layout.ts';
import type { RollingGroup } from '../lb/drain.ts';
import type { ComposeDeploy } from './service.ts';
import { ensureTlsFiles, tlsEnabled } from './tls.ts';

export interface PlaneService {
  plane: Plane;
  /** Role label and variable prefix: dashboard or gateway (`<role>_image_source`). */
  role: string;
  /** Compose service, container and project name. */
  container: string;
  image(vars: Vars): string;
  /** The conf file on the host and where the container reads it. */
  confFile(vars: Vars): string;
  confPath: string;
  certsDir(vars: Vars): string;
  certsPath: string;
  conf(ctx: StepContext): string;
  /** The conf holds a password: 0600 and never shown in a diff. */
  confSecret(ctx: StepContext): boolean;
  /** The LB backends its hosts sit in: control (dashboards) or gateway. */
  lbGroup: RollingGroup;
  health(ctx: StepContext): Promise<true | string>;
}

/** From the bundle to the conf file: everything before compose. */
export function planeSteps(p: PlaneService): Step[] {
  const dir = (ctx: StepContext) => planeDir(ctx.vars, p.plane);
  const fromBundle = (ctx: StepContext) => imageSource(ctx.vars, p.role) === 'bundle' || `${p.role}_image_source is registry`;
  return [
    { ...uploadStep(`upload the ${p.plane} bundle`, bundleFile(p.plane)), when: fromBundle },
    { ...unpackStep(`unpack the ${p.plane} bundle`, bundleFile(p.plane), dir), when: fromBundle },
    { ...loadBundleImagesStep(`load the ${p.plane} images`, bundleFile(p.plane), dir), when: fromBundle },
    defineStep({
      name: `pull the ${p.role} image`,
      when: (ctx) => imageSource(ctx.vars, p.role) === 'registry' || 'images come from the bundle',
      plan: (ctx) => planPull(ctx, p.image(ctx.vars)),
    }),
    defineStep({
      name: 'etcd client certificates',
      when: (ctx) => tlsEnabled(ctx.vars) || 'etcd_tls_enabled is off',
      plan: (ctx) => ensureTlsFiles(ctx, p.certsDir(ctx.vars)),
    }),
    defineStep({
      name: `${p.role} ${posix.basename(p.confPath)}`,
      async plan(ctx) {
        const path = p.confFile(ctx.vars);
        const secret = p.confSecret(ctx);
        return [
          ...(await ensureDir(ctx, { path: posix.dirname(path), mode: 0o755, become: true })),
          ...(await ensureFile(ctx, { path, content: p.conf(ctx), mode: secret ? 0o600 : 0o644, become: true, secret })),
        ];
      },
    }),
  ];
}

/** The compose service: its spec covers the image ID and the conf it mounts. */
export function planeCompose(p: PlaneService): ComposeDeploy {
  return {
    role: p.role,
    project: p.container,
    dir: (ctx) => planeDir(ctx.vars, p.plane),
    lbGroup: p.lbGroup,
    health: p.health,
    async inputs(ctx) {
      const mounts: [string, string][] = [[p.confFile(ctx.vars), p.confPath]];
      if (tlsEnabled(ctx.vars)) mounts.push([p.certsDir(ctx.vars), p.certsPath]);
      const image = p.image(ctx.vars);
      return {
        service: { name: p.container, role: p.role, image, mounts },
        imageId: await imageId(ctx, image),
        contentShas: [sha256(p.conf(ctx))],
      };
    },
  };
}
