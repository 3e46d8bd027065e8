// The control plane's paths and requests, as pure values.
import { posix } from 'node:path';
import type { Vars } from '../../lib/types.ts';
import { planeDir } from '../common/layout.ts';
import { optStr, str } from '../common/vars.ts';

export const dashboardDir = (vars: Vars): string => planeDir(vars, 'cp');
export const dashboardConfFile = (vars: Vars): string => posix.join(dashboardDir(vars), 'dashboard_conf', 'conf.yaml');
export const dashboardCertsDir = (vars: Vars): string => posix.join(dashboardDir(vars), 'dashboard_conf', 'certs');
export const dashboardImage = (vars: Vars): string =>
  optStr(vars, 'dashboard_image') ?? `api7/api7-dashboard:${str(vars, 'api7_version')}`;

export const clusterPath = (id: string): string => `/apisix/admin/clusters/${encodeURIComponent(id)}`;
export const clusterBody = (id: string): Record<string, unknown> => ({ id, name: id });
