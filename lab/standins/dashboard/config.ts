// apisix-dashboard's conf.yaml, as much of it as the stand-in honours (docs/STANDINS.md).
import { z } from 'zod';
import type { EtcdSettings } from '../shared/etcd-client.ts';
import { readYamlConfig } from '../shared/yaml-file.ts';

export const DEFAULT_DASHBOARD_CONFIG = '/usr/local/apisix-dashboard/conf/conf.yaml';

const optionalText = z.string().nullish().transform((v) => v || undefined);

const schema = z.object({
  conf: z.object({
    listen: z.object({ host: z.string().default('0.0.0.0'), port: z.number().int().min(0).max(65535).default(9000) }).default({ host: '0.0.0.0', port: 9000 }),
    allow_list: z.array(z.string()).nullish().transform((v) => v ?? []),
    etcd: z.object({
      endpoints: z.array(z.string().min(1)).min(1),
      prefix: z.string().default('/apisix'),
      username: optionalText,
      password: optionalText,
      mtls: z.object({ key_file: optionalText, cert_file: optionalText, ca_file: optionalText }).nullish(),
    }),
    log: z.object({ error_log: z.object({ level: z.string().default('warn') }).partial().nullish() }).partial().nullish(),
  }),
  authentication: z.object({
    secret: z.string().min(1),
    expire_time: z.number().int().positive().default(3600),
    users: z.array(z.object({ username: z.string().min(1), password: z.string().min(1) })).min(1),
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
