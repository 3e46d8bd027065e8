// Config files for the stand-ins under test: the files the lab's bundles ship (lab/bundle/**), with
// only the keys a deployment edits changed through the yaml Document API (comments and every other key
// kept), so every stand-in test also proves the shipped files are what the stand-ins accept.
import { parseDocument, stringify } from 'yaml';
import { bundleFile } from '../../lab/bundle-files.ts';

const shipped = (plane: 'cp' | 'dp', path: string) => parseDocument(bundleFile(plane, path, '2.13.2304', '2.13.2304'));

export interface DashboardConfOptions {
  port: number;
  endpoints: string[];
  prefix: string;
  allowList?: string[];
  username?: string;
  password?: string;
  secret: string;
  admin: { username: string; password: string };
  /** conf.etcd.enable_auth; default: true when a username is given. */
  enableAuth?: boolean;
  /** More key edits after the others, e.g. a misspelt key ([path, value]). */
  edits?: Edit[];
}

export type Edit = [(string | number)[], unknown];

const applyEdits = (doc: ReturnType<typeof parseDocument>, edits: Edit[] = []): void => {
  for (const [keys, value] of edits) doc.setIn(keys, doc.createNode(value));
};

export function dashboardConf(o: DashboardConfOptions): string {
  const doc = shipped('cp', 'dashboard_conf/conf.yaml');
  doc.setIn(['conf', 'listen', 'host'], '127.0.0.1');
  doc.setIn(['conf', 'listen', 'port'], o.port);
  doc.setIn(['conf', 'allow_list'], doc.createNode(o.allowList ?? ['127.0.0.1']));
  // endpoints without a scheme, as the guide writes them
  doc.setIn(['conf', 'etcd', 'endpoints'], doc.createNode(o.endpoints.map((e) => e.replace(/^http:\/\//, ''))));
  doc.setIn(['conf', 'etcd', 'prefix'], o.prefix);
  doc.setIn(['conf', 'etcd', 'enable_auth'], o.enableAuth ?? o.username !== undefined);
  if (o.username !== undefined) {
    doc.setIn(['conf', 'etcd', 'username'], o.username);
    doc.setIn(['conf', 'etcd', 'password'], o.password ?? '');
  }
  doc.setIn(['authentication', 'secret'], o.secret);
  doc.setIn(['authentication', 'users'], doc.createNode([o.admin]));
  applyEdits(doc, o.edits);
  return doc.toString();
}

export interface GatewayConfOptions {
  /** `api7`: API7 2.13 / APISIX 2 (`etcd:`, the shipped file); `apisix3`: APISIX 3 (`deployment.etcd`). */
  layout: 'api7' | 'apisix3';
  httpPort: number;
  httpsPort?: number;
  metricsPort: number;
  endpoints: string[];
  prefix: string;
  user?: string;
  password?: string;
  /** More key edits of the shipped file (layout api7), e.g. a misspelt key. */
  edits?: Edit[];
}

export function gatewayConf(o: GatewayConfOptions): string {
  const ssl = o.httpsPort ? { enable: true, listen: [{ port: o.httpsPort }] } : { enable: false };
  if (o.layout === 'apisix3') {
    const etcd = { host: o.endpoints, prefix: o.prefix, ...(o.user ? { user: o.user, password: o.password } : {}) };
    return stringify({
      apisix: { node_listen: o.httpPort, ssl },
      deployment: { role: 'data_plane', role_data_plane: { config_provider: 'etcd' }, etcd },
      plugin_attr: { prometheus: { export_addr: { ip: '127.0.0.1', port: o.metricsPort } } },
    });
  }
  const doc = shipped('dp', 'gateway_conf/config.yaml');
  doc.setIn(['apisix', 'node_listen'], o.httpPort);
  doc.setIn(['apisix', 'enable_control'], false);
  doc.setIn(['apisix', 'ssl', 'enable'], Boolean(o.httpsPort));
  if (o.httpsPort) doc.setIn(['apisix', 'ssl', 'listen', 0, 'port'], o.httpsPort);
  doc.setIn(['plugin_attr', 'prometheus', 'export_addr', 'ip'], '127.0.0.1');
  doc.setIn(['plugin_attr', 'prometheus', 'export_addr', 'port'], o.metricsPort);
  doc.setIn(['etcd', 'host'], doc.createNode(o.endpoints));
  doc.setIn(['etcd', 'prefix'], o.prefix);
  if (o.user) {
    doc.setIn(['etcd', 'user'], o.user);
    doc.setIn(['etcd', 'password'], o.password ?? '');
  }
  applyEdits(doc, o.edits);
  return doc.toString();
}
