// The first steps the dashboard and gateway roles share, as the guide does them for either bundle:
// upload and unpack it, load its images (or pull them), copy the etcd client certificates.
import { defineStep, type Step, type StepContext, type Vars } from '../../lib/types.ts';
import { loadBundleImagesStep, planPull, unpackStep, uploadStep } from './bundle.ts';
import { bundleFile, imageSource, planeDir, type Plane } from './layout.ts';
import { ensureTlsFiles, tlsEnabled } from './tls.ts';

export interface PlaneImage {
  plane: Plane;
  /** Variable prefix: dashboard or gateway (`<role>_image_source`). */
  role: string;
  image(vars: Vars): string;
  certsDir(vars: Vars): string;
}

export function planeSteps(p: PlaneImage): Step[] {
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
  ];
}
