// conf.yaml of the control plane (apisix-dashboard shape, docs/STANDINS.md), rendered from variables.
import { stringify } from 'yaml';
import type { Edition } from '../common/vars.ts';

export const DASHBOARD_CONF_PATH = '/usr/local/apisix-dashboard/conf/conf.yaml';
export const DASHBOARD_CERTS_PATH = '/usr/local/apisix-dashboard/conf/certs';

export interface DashboardConf {
  edition: Edition;
  port: number;
  /** Addresses or CIDRs admitted (the LB, the control hosts, loopback, extra). */
  allowList: string[];
  /** host:port (plain) or https://host:port (TLS). */
  etcdEndpoints: string[];
  prefix: string;
  etcdUser?: string;
  etcdPassword?: string;
  /** Client TLS to etcd: files inside the container. */
  mtls?: { ca: string; cert: string; key: string };
  jwtSecret: string;
  adminUser: string;
  adminPassword: string;
}

export function renderDashboardConf(c: DashboardConf): string {
  const etcd: Record<string, unknown> = { endpoints: c.etcdEndpoints, prefix: c.prefix };
  if (c.etcdUser) Object.assign(etcd, { username: c.etcdUser, password: c.etcdPassword ?? '' });
  if (c.mtls) etcd.mtls = { key_file: c.mtls.key, cert_file: c.mtls.cert, ca_file: c.mtls.ca };
  const doc = {
    conf: {
      listen: { host: '0.0.0.0', port: c.port },
      allow_list: c.allowList,
      etcd,
      log: { error_log: { level: 'warn', file_path: 'logs/error.log' }, access_log: { file_path: 'logs/access.log' } },
    },
    authentication: {
      secret: c.jwtSecret,
      expire_time: 3600,
      users: [{ username: c.adminUser, password: c.adminPassword }],
    },
  };
  return `# Rendered by gatewright (edition ${c.edition}): changes here are overwritten on the next run.\n${stringify(doc)}`;
}

/** Unique entries in first-seen order: the allow-list reads the same every run. */
export const uniq = (xs: string[]): string[] => [...new Set(xs)];
