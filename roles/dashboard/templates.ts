// conf.yaml of the control plane: the bundle's own file (dashboard_conf/conf.yaml), edited only in the keys
// the guide names (conf.etcd.*) plus two that safety needs where it and the guide disagree: the token secret
// (random, not the vendor's shared default) and the admin user's password (not the shipped `admin`).
// conf.allow_list stays as shipped unless the operator sets dashboard_allow_list. Comments and every other key stay.
import { parseDocument } from 'yaml';
import { editYaml, type EditResult, type KeyEdit } from '../../ops/yaml-edit.ts';

/** Inside the container: where the compose file mounts conf.yaml's folder, and our certificates under it. */
export const DASHBOARD_CERTS_SUBDIR = 'certs';

export interface DashboardConf {
  /** Addresses or CIDRs admitted (the LB, the control hosts, loopback, extra); undefined: as shipped. */
  allowList?: string[];
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

/** The keys we edit, and only these (docs/OPERATIONS.md, "What gatewright edits in the bundles' conf files"). */
export function dashboardEdits(shipped: string, c: DashboardConf): KeyEdit[] {
  const etcd = (...k: string[]) => ['conf', 'etcd', ...k];
  const doc = parseDocument(shipped);
  const has = (path: string[]) => doc.hasIn(path);
  const edits: KeyEdit[] = [
    { path: etcd('endpoints'), value: c.etcdEndpoints },
    { path: etcd('prefix'), value: c.prefix },
    { path: etcd('enable_auth'), value: !!c.etcdUser },
    // Auth off: the shipped empty strings stay (no stale password left behind), absent keys stay absent.
    { path: etcd('username'), value: c.etcdUser ?? (has(etcd('username')) ? '' : undefined) },
    { path: etcd('password'), value: c.etcdUser ? (c.etcdPassword ?? '') : has(etcd('password')) ? '' : undefined },
    { path: ['authentication', 'secret'], value: c.jwtSecret },
  ];
  if (c.allowList) edits.push({ path: ['conf', 'allow_list'], value: c.allowList });
  if (c.mtls) {
    edits.push(
      { path: etcd('mtls', 'enable'), value: true },
      { path: etcd('mtls', 'key_file'), value: c.mtls.key },
      { path: etcd('mtls', 'cert_file'), value: c.mtls.cert },
      { path: etcd('mtls', 'ca_file'), value: c.mtls.ca },
    );
  } else if (has(etcd('mtls'))) {
    edits.push({ path: etcd('mtls', 'enable'), value: false });
  }
  // The admin user's password, in place: the other users and their comments stay.
  const users = (doc.getIn(['authentication', 'users']) as { toJSON?: () => unknown } | undefined)?.toJSON?.();
  const list = Array.isArray(users) ? (users as { username?: string }[]) : [];
  const i = list.findIndex((u) => u?.username === c.adminUser);
  if (i >= 0) edits.push({ path: ['authentication', 'users', i, 'password'], value: c.adminPassword });
  else edits.push({ path: ['authentication', 'users'], value: [...list, { username: c.adminUser, password: c.adminPassword }] });
  return edits;
}

export const editDashboardConf = (shipped: string, c: DashboardConf, file?: string): EditResult =>
  editYaml(shipped, dashboardEdits(shipped, c), file);

/** Unique entries in first-seen order: the allow-list reads the same every run. */
export const uniq = (xs: string[]): string[] => [...new Set(xs)];
