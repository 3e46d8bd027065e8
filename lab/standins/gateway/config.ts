// The gateway's config.yaml: API7 2.13 / APISIX 2 layout (`etcd:` at the top, as the bundle ships it in
// lab/bundle/dp/gateway_conf/config.yaml) and APISIX 3 layout (`deployment.etcd`). Strict: an unknown or
// misspelt key in a section the stand-in reads (apisix, its ssl, etcd, deployment, the prometheus
// export) stops it with the key's path; sections it does not read (nginx_config, plugins, ...) are
// accepted by name only (docs/STANDINS.md).
import { z } from 'zod/mini';
import type { EtcdSettings } from '../shared/etcd-client.ts';
import { nonEmpty, optionalText, port } from '../shared/schema-parts.ts';
import { readYamlConfig } from '../shared/yaml-file.ts';

export const DEFAULT_GATEWAY_CONFIG = '/usr/local/apisix/conf/config.yaml';
export const DEFAULT_TLS_CERT = '/usr/local/apisix/conf/cert/gateway.crt';
export const DEFAULT_TLS_KEY = '/usr/local/apisix/conf/cert/gateway.key';

const portEntry = z.pipe(
  port,
  z.transform((p) => ({ port: p, ip: undefined as string | undefined })),
);
const listenEntry = z.strictObject({ port, ip: z.optional(z.string()), enable_http2: z.optional(z.boolean()) });
// `80`, `[80, 8080]` or `[{port: 80, ip: 127.0.0.1}]`
const listenList = z.union([
  z.pipe(
    portEntry,
    z.transform((entry) => [entry]),
  ),
  z.array(z.union([portEntry, listenEntry])),
]);

/** APISIX's etcd section: what the stand-in uses, plus the other keys APISIX 2/3 define for it. */
const etcdSection = z.strictObject({
  host: z.array(nonEmpty).check(z.minLength(1)),
  prefix: z._default(z.string(), '/apisix'),
  timeout: z.optional(z.int()),
  resync_delay: z.optional(z.number()),
  health_check_timeout: z.optional(z.int()),
  startup_retry: z.optional(z.int()),
  watch_timeout: z.optional(z.int()),
  user: optionalText,
  password: optionalText,
  tls: z.nullish(z.strictObject({ cert: optionalText, key: optionalText, verify: z._default(z.boolean(), true), sni: optionalText })),
});

const unread = z.optional(z.unknown()); // a section the stand-in does not read: any content

const schema = z.strictObject({
  apisix: z._default(
    z.strictObject({
      node_listen: z._default(listenList, [{ port: 9080, ip: undefined }]),
      enable_ipv6: z.optional(z.boolean()),
      enable_admin: z.optional(z.boolean()),
      enable_control: z.optional(z.boolean()),
      control: z.optional(z.strictObject({ ip: z.optional(z.string()), port: z.optional(port) })),
      enable_reuseport: z.optional(z.boolean()),
      enable_server_tokens: z.optional(z.boolean()),
      allow_admin: unread,
      admin_key: unread,
      admin_listen: unread,
      config_center: z.optional(z.literal('etcd')),
      ssl: z.nullish(
        z.strictObject({
          enable: z._default(z.boolean(), false),
          listen: z.optional(listenList),
          listen_port: z.optional(port),
          enable_http2: z.optional(z.boolean()),
          ssl_protocols: z.optional(z.string()),
          ssl_ciphers: z.optional(z.string()),
          ssl_trusted_certificate: optionalText,
        }),
      ),
    }),
    { node_listen: [{ port: 9080, ip: undefined }] },
  ),
  nginx_config: unread,
  etcd: z.optional(etcdSection),
  deployment: z.nullish(
    z.strictObject({
      role: z.optional(z.enum(['traditional', 'data_plane', 'control_plane'])),
      role_data_plane: z.optional(z.strictObject({ config_provider: z.literal('etcd') })),
      role_traditional: z.optional(z.strictObject({ config_provider: z.literal('etcd') })),
      admin: unread,
      etcd: z.optional(etcdSection),
    }),
  ),
  discovery: unread,
  graphql: unread,
  plugins: z.nullish(z.array(nonEmpty)),
  stream_plugins: z.nullish(z.array(nonEmpty)),
  plugin_attr: z.nullish(
    z.looseObject({
      prometheus: z.nullish(
        z.strictObject({
          export_uri: z.optional(z.string()),
          metric_prefix: z.optional(z.string()),
          enable_export_server: z.optional(z.boolean()),
          export_addr: z.nullish(z.strictObject({ ip: z._default(z.string(), '127.0.0.1'), port: z._default(port, 9091) })),
        }),
      ),
    }),
  ),
});

export interface Listen {
  host: string;
  port: number;
}

export interface GatewayConfig {
  http: Listen[];
  https: Listen[];
  etcd: EtcdSettings;
  /** Without a trailing slash, e.g. `/api7/default`. */
  prefix: string;
  prometheus: Listen;
  metricsPath: string;
  tls: { certFile: string; keyFile: string };
}

const toListen = (entries: { port: number; ip?: string }[]): Listen[] => entries.map((e) => ({ host: e.ip ?? '0.0.0.0', port: e.port }));

export function loadGatewayConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const raw = readYamlConfig(file, schema);
  if (raw.etcd && raw.deployment?.etcd) throw new Error(`${file}: etcd is set twice (etcd and deployment.etcd): keep one layout`);
  const etcd = raw.deployment?.etcd ?? raw.etcd;
  if (!etcd) throw new Error(`${file}: no etcd settings (expected etcd.host, or deployment.etcd.host for APISIX 3)`);
  if (!etcd.tls?.cert !== !etcd.tls?.key) throw new Error(`${file}: etcd.tls.cert and etcd.tls.key go together`);
  const ssl = raw.apisix.ssl;
  const https = ssl?.enable ? (ssl.listen ?? [{ port: ssl.listen_port ?? 9443 }]) : [];
  const prometheus = raw.plugin_attr?.prometheus;
  const exporter = prometheus?.export_addr;
  return {
    http: toListen(raw.apisix.node_listen),
    https: toListen(https),
    etcd: {
      endpoints: etcd.host,
      username: etcd.user,
      password: etcd.password,
      tls: { caFile: ssl?.ssl_trusted_certificate, certFile: etcd.tls?.cert, keyFile: etcd.tls?.key },
    },
    prefix: etcd.prefix.replace(/\/+$/, ''),
    prometheus: { host: exporter?.ip ?? '127.0.0.1', port: exporter?.port ?? 9091 },
    metricsPath: prometheus?.export_uri ?? '/apisix/prometheus/metrics',
    tls: { certFile: env.GATEWAY_TLS_CERT || DEFAULT_TLS_CERT, keyFile: env.GATEWAY_TLS_KEY || DEFAULT_TLS_KEY },
  };
}
