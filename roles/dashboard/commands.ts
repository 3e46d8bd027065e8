// The control plane's paths and requests, as pure values.
import { posix } from 'node:path';
import type { Vars } from '../../lib/types.ts';
import { dashboardDir } from '../../ops/layout.ts';

export const DASHBOARD_CONF = 'dashboard_conf/conf.yaml';
export const dashboardConfFile = (vars: Vars): string => posix.join(dashboardDir(vars), DASHBOARD_CONF);

export const clusterPath = (id: string): string => `/apisix/admin/clusters/${encodeURIComponent(id)}`;
export const clusterBody = (id: string): Record<string, unknown> => ({ id, name: id });
