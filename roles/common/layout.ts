// Where a bundle lives on a host: /opt/api7/bundles/<file>, unpacked as the guide does into its own folder
// /opt/api7/api7-<version>-<cp|dp>/ (compose derives the project, network and container names from it).
import { posix } from 'node:path';
import type { StepContext, Vars } from '../../lib/types.ts';
import type { BundleFile } from './bundle.ts';
import { str } from './vars.ts';

export type Plane = 'cp' | 'dp';

export const bundleName = (vars: Vars, plane: Plane): string => `api7-${str(vars, 'api7_version')}-${plane}.tar.gz`;

export const planeDir = (vars: Vars, plane: Plane): string =>
  posix.join(str(vars, 'api7_install_dir'), `api7-${str(vars, 'api7_version')}-${plane}`);

export function bundleFile(plane: Plane): BundleFile {
  return {
    local: (ctx: StepContext) => posix.join(str(ctx.vars, 'api7_bundle_dir'), bundleName(ctx.vars, plane)),
    remote: (ctx: StepContext) => posix.join(str(ctx.vars, 'api7_install_dir'), 'bundles', bundleName(ctx.vars, plane)),
  };
}

/** `bundle` (default: tarballs shipped offline) or `registry` (docker pull). */
export const imageSource = (vars: Vars, name: string): 'bundle' | 'registry' =>
  vars[`${name}_image_source`] === 'registry' ? 'registry' : 'bundle';
