// API7's dashboard conf.yaml (apisix-dashboard's shape plus conf.etcd.name/enable_auth/mtls.enable), as
// the bundle ships it (lab/bundle/cp/dashboard_conf/conf.yaml). Strict: an unknown or misspelt key in a
// section the stand-in reads stops it with the key's path, so a wrong edit fails a test instead of
// being silently ignored (docs/STANDINS.md).
import { z } from 'zod/mini';
import type { EtcdSettings } from '../shared/etcd-client.ts';
import { nonEmpty, optionalText, port } from '../shared/schema-parts.ts';
import { readYamlConfig } from '../shared/yaml-file.ts';

export const DEFAULT_DASHBOARD_CONFIG = '/usr/local/apisix-dashboard/conf/conf.yaml';

const filePath = z.nullish(z.string());
const logLevel = z.enum(['debug', 'info', 'warn', 'error', 'panic', 'fatal']);

const schema = z.strictObject({
  conf: z.strictObject({
    listen: z._default(
      z.strictObject({ host: z._default(z.string(), '0.0.0.0'), port: z._default(port, 9000) }),
      { host: '0.0.0.0', port: 9000 },
    ),
    ssl: z.nullish(z.strictObject({ host: z.optional(z.string()), port: z.optional(port), cert: filePath, key: filePath })),
    allow_list: z.pipe(
      z.nullish(z.array(z.string())),
      z.transform((v) => v ?? []),
    ),
    etcd: z.strictObject({
      name: z.optional(nonEmpty),
      endpoints: z.array(nonEmpty).check(z.minLength(1)),
      enable_auth: z._default(z.boolean(), false),
      username: optionalText,
      password: optionalText,
      mtls: z.nullish(
        z.strictObject({ enable: z._default(z.boolean(), false), key_file: optionalText, cert_file: optionalText, ca_file: optionalText }),
      ),
      prefix: z._default(z.string(), '/apisix'),
    }),
    log: z.nullish(
      z.strictObject({
        error_log: z.nullish(z.strictObject({ level: z.optional(logLevel), file_path: filePath })),
        access_log: z.nullish(z.strictObject({ file_path: filePath })),
      }),
    ),
    max_cpu: z.nullish(z.int()),
    security: z.nullish(z.record(z.string(), z.unknown())),
  }),
  authentication: z.strictObject({
    secret: nonEmpty,
    expire_time: z._default(z.int().check(z.gte(1)), 3600),
    users: z.array(z.strictObject({ username: nonEmpty, password: nonEmpty })).check(z.minLength(1)),
  }),
  plugins: z.nullish(z.array(nonEmpty)),
});

export interface DashboardConfig {
  listen: { host: string; port: number };
  allowList: string[];
  /** conf.etcd.name: the cluster's name in the console. */
  clusterName?: string;
  etcd: EtcdSettings;
  /** Without a trailing slash, e.g. `/api7`. */
  prefix: string;
  logLevel: string;
  auth: { secret: string; expireSeconds: number; users: { username: string; password: string }[] };
}

export function loadDashboardConfig(file: string): DashboardConfig {
  const raw = readYamlConfig(file, schema);
  const { etcd } = raw.conf;
  // As API7's manager-api: the credentials and client files count only when their switch is on (the
  // shipped file carries sample values under `enable_auth: false`).
  const mtls = etcd.mtls?.enable ? etcd.mtls : undefined;
  if (mtls && (!mtls.ca_file || !mtls.key_file !== !mtls.cert_file)) {
    throw new Error(`${file}: conf.etcd.mtls.enable is true: ca_file is needed, and key_file and cert_file go together`);
  }
  if (etcd.enable_auth && !etcd.username) throw new Error(`${file}: conf.etcd.enable_auth is true but conf.etcd.username is empty`);
  return {
    listen: raw.conf.listen,
    allowList: raw.conf.allow_list,
    clusterName: etcd.name,
    etcd: {
      // mTLS means https: endpoints without a scheme get it (with a scheme they say it themselves)
      endpoints: mtls ? etcd.endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `https://${e}`)) : etcd.endpoints,
      username: etcd.enable_auth ? etcd.username : undefined,
      password: etcd.enable_auth ? etcd.password : undefined,
      tls: { caFile: mtls?.ca_file, certFile: mtls?.cert_file, keyFile: mtls?.key_file },
    },
    prefix: etcd.prefix.replace(/\/+$/, ''),
    logLevel: raw.conf.log?.error_log?.level ?? 'warn',
    auth: { secret: raw.authentication.secret, expireSeconds: raw.authentication.expire_time, users: raw.authentication.users },
  };
}
