// config.yaml of the data plane: API7 2.13 (APISIX 2.x) layout, or APISIX 3 `deployment` layout.
import { stringify } from 'yaml';
import type { Edition } from '../common/vars.ts';

export const GATEWAY_CONF_PATH = '/usr/local/apisix/conf/config.yaml';
export const GATEWAY_CERTS_PATH = '/usr/local/apisix/conf/certs';

export interface GatewayConf {
  edition: Edition;
  httpPort: number;
  httpsPort: number;
  prometheusPort: number;
  /** http(s)://host:port of every etcd member. */
  etcdHosts: string[];
  prefix: string;
  etcdUser?: string;
  etcdPassword?: string;
  /** Client TLS to etcd: files inside the container. */
  tls?: { ca: string; cert: string; key: string };
}

export function renderGatewayConf(c: GatewayConf): string {
  const etcd: Record<string, unknown> = { host: c.etcdHosts, prefix: c.prefix, timeout: 30 };
  if (c.etcdUser) Object.assign(etcd, { user: c.etcdUser, password: c.etcdPassword ?? '' });
  if (c.tls) etcd.tls = { cert: c.tls.cert, key: c.tls.key, verify: true };
  const ssl: Record<string, unknown> = { enable: true, listen: [{ port: c.httpsPort }] };
  if (c.tls) ssl.ssl_trusted_certificate = c.tls.ca;
  const apisix = { node_listen: c.httpPort, enable_admin: false, ssl };
  const pluginAttr = { prometheus: { export_addr: { ip: '0.0.0.0', port: c.prometheusPort } } };
  const doc =
    c.edition === 'api7'
      ? { apisix, etcd, plugin_attr: pluginAttr }
      : {
          apisix,
          deployment: { role: 'data_plane', role_data_plane: { config_provider: 'etcd' }, etcd },
          plugin_attr: pluginAttr,
        };
  return `# Rendered by gatewright (edition ${c.edition}): changes here are overwritten on the next run.\n${stringify(doc)}`;
}
