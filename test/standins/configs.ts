// Config files for the stand-ins under test, in the shapes docs/STANDINS.md describes.
import { stringify } from 'yaml';

export interface DashboardConfOptions {
  port: number;
  endpoints: string[];
  prefix: string;
  allowList?: string[];
  username?: string;
  password?: string;
  secret: string;
  admin: { username: string; password: string };
}

export const dashboardConf = (o: DashboardConfOptions): string =>
  stringify({
    conf: {
      listen: { host: '127.0.0.1', port: o.port },
      allow_list: o.allowList ?? ['127.0.0.1'],
      // endpoints without a scheme, as apisix-dashboard's own sample writes them
      etcd: { endpoints: o.endpoints.map((e) => e.replace(/^http:\/\//, '')), prefix: o.prefix, username: o.username ?? '', password: o.password ?? '' },
      log: { error_log: { level: 'warn' } },
    },
    authentication: { secret: o.secret, expire_time: 3600, users: [o.admin] },
  });

export interface GatewayConfOptions {
  /** `api7`: API7 2.13 / APISIX 2 (`etcd:`); `apisix3`: APISIX 3 (`deployment.etcd`). */
  layout: 'api7' | 'apisix3';
  httpPort: number;
  httpsPort?: number;
  metricsPort: number;
  endpoints: string[];
  prefix: string;
  user?: string;
  password?: string;
}

export function gatewayConf(o: GatewayConfOptions): string {
  const etcd = { host: o.endpoints, prefix: o.prefix, ...(o.user ? { user: o.user, password: o.password } : {}) };
  const apisix = {
    node_listen: o.httpPort,
    ssl: o.httpsPort ? { enable: true, listen: [{ port: o.httpsPort }] } : { enable: false },
  };
  const plugin_attr = { prometheus: { export_addr: { ip: '127.0.0.1', port: o.metricsPort } } };
  return stringify(
    o.layout === 'api7'
      ? { apisix, etcd, plugin_attr }
      : { apisix, deployment: { role: 'data_plane', role_data_plane: { config_provider: 'etcd' }, etcd }, plugin_attr },
  );
}
