// Where a bundle lives on a host: /opt/api7/bundles/<file>, unpacked as the guide does into its own folder
// /opt/api7/api7-<version>-<cp|dp>/ (compose derives the project, network and container names from it).
import { posix } from 'node:path';
import type { StepContext, Vars } from '../lib/types.ts';
import type { BundleFile } from './bundle.ts';
import { stackVars } from '../vars/schema.ts';

export type Plane = 'cp' | 'dp';

/**
 * The inventory groups of the stack, by the guide's roles. Fixed names: an inventory whose groups are named
 * otherwise makes its groups children of these (`[etcd:children]` / `children:`).
 */
export const GROUPS = { etcd: 'etcd', control: 'control', gateway: 'gateway', lb: 'lb' } as const;

/** The conf files in the bundles' folders: the dashboard names its etcd endpoints in `conf.etcd.endpoints`, the gateway in `etcd.host`. */
export const DASHBOARD_CONF = 'dashboard_conf/conf.yaml';
export const GATEWAY_CONF = 'gateway_conf/config.yaml';

export const bundleName = (vars: Vars, plane: Plane): string => `api7-${stackVars({ vars }).api7_version}-${plane}.tar.gz`;

export function planeDir(vars: Vars, plane: Plane): string {
  const v = stackVars({ vars });
  return posix.join(v.api7_install_dir, `api7-${v.api7_version}-${plane}`);
}

/** The bundles' folders, as the guide unpacks them: the control plane's (dashboard) and the data plane's (gateway). */
export const dashboardDir = (vars: Vars): string => planeDir(vars, 'cp');
export const gatewayDir = (vars: Vars): string => planeDir(vars, 'dp');

export function bundleFile(plane: Plane): BundleFile {
  return {
    local: (ctx: StepContext) => posix.join(stackVars(ctx).api7_bundle_dir, bundleName(ctx.vars, plane)),
    remote: (ctx: StepContext) => posix.join(stackVars(ctx).api7_install_dir, 'bundles', bundleName(ctx.vars, plane)),
  };
}

/** `bundle` (default: tarballs shipped offline) or `registry` (docker pull). */
export const imageSource = (vars: Vars, name: 'dashboard' | 'gateway' | 'etcd'): 'bundle' | 'registry' =>
  stackVars({ vars })[`${name}_image_source`];

// ---------------------------------------------------------------- etcd, as the guide runs it

/**
 * The tag of a plane role's bundle steps (upload, unpack, load, images present): they need the host's Docker and
 * nothing of the stack, so `site` runs them in a play of their own while etcd and the control plane come up.
 */
export const BUNDLE = 'bundle';

/** The etcd container on each etcd host. */
export const ETCD_CONTAINER = 'etcd';
/** Paths inside the container (the guide's /etcd_data, bitnami's contract); the host folders are variables. */
export const IN_DATA = '/etcd_data';
/** Where members started before the guide's layout kept their data: the survey still finds it there. */
export const IN_DATA_OLD = '/etcd-data';
export const IN_SNAPSHOTS = '/etcd-snapshots';
export const IN_CERTS = '/etcd-certs';

// ---------------------------------------------------------------- the load balancers' backends

/** Backend names: the socket commands of rolling changes address servers through them. */
export const BACKENDS = {
  dashboards: 'dashboards',
  gatewaysHttp: 'gateways_http',
  gatewaysHttps: 'gateways_https',
} as const;

/** Which backends hold a host of each stack group (what a rolling change drains). */
export const BACKENDS_OF_GROUP = {
  control: [BACKENDS.dashboards],
  gateway: [BACKENDS.gatewaysHttp, BACKENDS.gatewaysHttps],
} as const satisfies Record<string, readonly string[]>;
