// apisix-dashboard's conf.yaml, as much of it as the stand-in honours (docs/STANDINS.md).
import { z } from 'zod/mini';
import type { EtcdSettings } from '../shared/etcd-client.ts';
import { nonEmpty, optionalText, port } from '../shared/schema-parts.ts';
import { readYamlConfig } from '../shared/yaml-file.ts';

export const DEFAULT_DASHBOARD_CONFIG = '/usr/local/apisix-dashboard/conf/conf.yaml';

const schema = z.object({
  conf: z.object({
    listen: z._default(z.object({ host: z._default(z.string(), '0.0.0.0'), port: z._default(port, 9000) }), { host: '0.0.0.0', port: 9000 }),
    allow_list: z.pipe(
      z.nullish(z.array(z.string())),
      z.transform((v) => v ?? []),
    ),
    etcd: z.object({
      endpoints: z.array(nonEmpty).check(z.minLength(1)),
      prefix: z._default(z.string(), '/apisix'),
      username: optionalText,
      password: optionalText,
      mtls: z.nullish(z.object({ key_file: optionalText, cert_file: optionalText, ca_file: optionalText })),
    }),
  }),
  authentication: z.object({
    secret: nonEmpty,
    expire_time: z._default(z.int().check(z.gte(1)), 3600),
    users: z.array(z.object({ username: nonEmpty, password: nonEmpty })).check(z.minLength(1)),
  }),
});

export interface DashboardConfig {
  listen: { host: string; port: number };
  allowList: string[];
  etcd: EtcdSettings;
  /** Without a trailing slash, e.g. `/api7`. */
  prefix: string;
  auth: { secret: string; expireSeconds: number; users: { username: string; password: string }[] };
}

export function loadDashboardConfig(file: string): DashboardConfig {
  const raw = readYamlConfig(file, schema);
  const { etcd } = raw.conf;
  return {
    listen: raw.conf.listen,
    allowList: raw.conf.allow_list,
    etcd: {
      endpoints: etcd.endpoints,
      username: etcd.username,
      password: etcd.password,
      tls: { caFile: etcd.mtls?.ca_file, certFile: etcd.mtls?.cert_file, keyFile: etcd.mtls?.key_file },
    },
    prefix: etcd.prefix.replace(/\/+$/, ''),
    auth: { secret: raw.authentication.secret, expireSeconds: raw.authentication.expire_time, users: raw.authentication.users },
  };
}
