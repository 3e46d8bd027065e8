// The control plane's paths and requests, as pure values.
import { posix } from 'node:path';
import type { Vars } from '../../lib/types.ts';
import { createHmac } from 'node:crypto';
import { planeDir } from '../common/layout.ts';
import { optStr, str } from '../common/vars.ts';

export const dashboardDir = (vars: Vars): string => planeDir(vars, 'cp');
export const dashboardConfFile = (vars: Vars): string => posix.join(dashboardDir(vars), 'dashboard_conf', 'conf.yaml');
export const dashboardCertsDir = (vars: Vars): string => posix.join(dashboardDir(vars), 'dashboard_conf', 'certs');
export const dashboardImage = (vars: Vars): string =>
  optStr(vars, 'dashboard_image') ?? `api7/api7-dashboard:${str(vars, 'api7_version')}`;

/**
 * The console's JWT signing secret: `dashboard_jwt_secret`, or derived from the admin password so that
 * both dashboards (behind one LB) accept each other's tokens and reruns render the same file.
 */
export function jwtSecret(vars: Vars): string {
  return optStr(vars, 'dashboard_jwt_secret') ??
    createHmac('sha256', str(vars, 'dashboard_admin_password')).update('gatewright dashboard jwt').digest('hex');
}

export const clusterPath = (id: string): string => `/apisix/admin/clusters/${encodeURIComponent(id)}`;
export const clusterBody = (id: string): Record<string, unknown> => ({ id, name: id });
