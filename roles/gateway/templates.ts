// config.yaml of the data plane: the bundle's own file (gateway_conf/config.yaml), edited only in etcd.host,
// etcd.prefix and the etcd auth/TLS keys of APISIX's format (under `deployment.etcd` in an APISIX 3 layout).
// Comments, listen ports and every other key stay as shipped.
import { parseDocument } from 'yaml';
import type { Edition } from '../common/vars.ts';
import { editYaml, type EditResult, type KeyEdit } from '../common/yaml-edit.ts';

export interface GatewayConf {
  edition: Edition;
  /** http(s)://host:port of every etcd member. */
  etcdHosts: string[];
  prefix: string;
  etcdUser?: string;
  etcdPassword?: string;
  /** Client TLS to etcd: files inside the container. */
  tls?: { ca: string; cert: string; key: string };
}

export function gatewayEdits(shipped: string, c: GatewayConf): KeyEdit[] {
  const doc = parseDocument(shipped);
  const base = c.edition === 'apisix' || doc.hasIn(['deployment', 'etcd']) ? ['deployment', 'etcd'] : ['etcd'];
  const etcd = (...k: string[]) => [...base, ...k];
  const trusted = ['apisix', 'ssl', 'ssl_trusted_certificate'];
  const edits: KeyEdit[] = [
    { path: etcd('host'), value: c.etcdHosts },
    { path: etcd('prefix'), value: c.prefix },
    { path: etcd('user'), value: c.etcdUser },
    { path: etcd('password'), value: c.etcdUser ? (c.etcdPassword ?? '') : undefined },
    // Only the certificate keys are ours: a shipped `tls.verify` (or sni) stays when TLS is off.
    { path: etcd('tls', 'cert'), value: c.tls?.cert },
    { path: etcd('tls', 'key'), value: c.tls?.key },
    ...(c.tls ? [{ path: etcd('tls', 'verify'), value: true }] : []),
  ];
  // The CA APISIX verifies etcd with; removed when TLS goes off only if it is ours.
  if (c.tls) edits.push({ path: trusted, value: c.tls.ca });
  else if (doc.hasIn(trusted) && String(doc.getIn(trusted)).endsWith('/certs/ca.pem')) edits.push({ path: trusted, value: undefined });
  return edits;
}

export const editGatewayConf = (shipped: string, c: GatewayConf, file?: string): EditResult =>
  editYaml(shipped, gatewayEdits(shipped, c), file);
