// The text files of an offline delivery in the guide's layout (pure): compose files with host
// networking and the conf mounted where the images read it, and the conf the delivery ships with.
import { stringify } from 'yaml';

export type Plane = 'cp' | 'dp';

export interface PlaneLayout {
  image: (version: string) => string;
  imageFile: (version: string) => string;
  service: string;
  confFile: string; // inside the bundle directory
  confMount: string; // inside the container
  defaultConf: string;
}

export const LAYOUT: Record<Plane, PlaneLayout> = {
  cp: {
    image: (v) => `api7/api7-dashboard:${v}`,
    imageFile: (v) => `images/api7-dashboard-${v}.tar.gz`,
    service: 'api7-dashboard',
    confFile: 'dashboard_conf/conf.yaml',
    confMount: '/usr/local/apisix-dashboard/conf/conf.yaml',
    defaultConf: stringify({
      conf: {
        listen: { host: '0.0.0.0', port: 9000 },
        allow_list: ['127.0.0.1'],
        etcd: { endpoints: ['127.0.0.1:2379'], prefix: '/api7' },
        log: { error_log: { level: 'warn' } },
      },
      authentication: { secret: 'secret', expire_time: 3600, users: [{ username: 'admin', password: 'admin' }] },
    }),
  },
  dp: {
    image: (v) => `api7/api7-gateway:${v}`,
    imageFile: (v) => `images/api7-gateway-${v}.tar.gz`,
    service: 'api7-gateway',
    confFile: 'gateway_conf/config.yaml',
    confMount: '/usr/local/apisix/conf/config.yaml',
    defaultConf: stringify({
      apisix: { node_listen: 80, ssl: { enable: true, listen: [{ port: 443 }] } },
      etcd: { host: ['http://127.0.0.1:2379'], prefix: '/api7/default' },
      plugin_attr: { prometheus: { export_addr: { ip: '0.0.0.0', port: 9091 } } },
    }),
  },
};

export const bundleName = (plane: Plane, version: string): string => `api7-${version}-${plane}`;

export function composeFile(plane: Plane, version: string): string {
  const l = LAYOUT[plane];
  return stringify({
    version: '3',
    services: {
      [l.service]: {
        image: l.image(version),
        container_name: l.service,
        restart: 'always',
        network_mode: 'host',
        volumes: [`./${l.confFile}:${l.confMount}`],
      },
    },
  });
}
