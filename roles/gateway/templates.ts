// config.yaml of the data plane: the bundle's own file (gateway_conf/config.yaml), edited only in etcd.host,
// etcd.prefix and the etcd auth/TLS keys of APISIX's format (under `deployment.etcd` in an APISIX 3 layout).
// Comments, listen ports and every other key stay as shipped.
import { parseDocument } from 'yaml';
import type { StackVars } from '../../vars/schema.ts';
import { editYaml, type EditResult, type KeyEdit } from '../../ops/yaml-edit.ts';

type Edition = StackVars['api7_edition'];

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

/**
 * An edition switch on a file of the other layout moves the etcd section (APISIX 3 keeps it under `deployment`,
 * with the data-plane role; API7 2.13 / APISIX 2 at the top), so the gateway never sees it twice.
 */
function layoutEdits(doc: ReturnType<typeof parseDocument>, edition: Edition): KeyEdit[] {
  const js = (path: string[]) => (doc.getIn(path, true) as { toJSON?: () => unknown } | undefined)?.toJSON?.();
  const top = doc.hasIn(['etcd']);
  const nested = doc.hasIn(['deployment', 'etcd']);
  if (edition === 'apisix' && top && !nested) {
    return [
      { path: ['deployment', 'role'], value: 'data_plane' },
      { path: ['deployment', 'role_data_plane'], value: { config_provider: 'etcd' } },
      { path: ['deployment', 'etcd'], value: js(['etcd']) ?? {} },
      { path: ['etcd'], value: undefined },
    ];
  }
  const deployment = js(['deployment']);
  const ours = deployment && typeof deployment === 'object' && Object.keys(deployment).every((k) => ['role', 'role_data_plane', 'etcd'].includes(k));
  if (edition === 'api7' && nested && !top && ours) {
    return [
      { path: ['etcd'], value: js(['deployment', 'etcd']) ?? {} },
      { path: ['deployment'], value: undefined },
    ];
  }
  return [];
}

export function gatewayEdits(shipped: string, c: GatewayConf): KeyEdit[] {
  const doc = parseDocument(shipped);
  const layout = layoutEdits(doc, c.edition);
  const nested = layout.length ? c.edition === 'apisix' : doc.hasIn(['deployment', 'etcd']) && !doc.hasIn(['etcd']);
  const base = nested ? ['deployment', 'etcd'] : ['etcd'];
  const etcd = (...k: string[]) => [...base, ...k];
  const trusted = ['apisix', 'ssl', 'ssl_trusted_certificate'];
  const edits: KeyEdit[] = [
    ...layout,
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
