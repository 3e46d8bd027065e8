// The gateway's config.yaml: API7 2.x / APISIX 2 layout (`etcd:` at the top) and APISIX 3 layout
// (`deployment.etcd`), as much of it as the stand-in honours (docs/STANDINS.md).
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
// `80`, `[80, 8080]` or `[{port: 80, ip: 127.0.0.1}]`
const listenList = z.union([
  z.pipe(
    portEntry,
    z.transform((entry) => [entry]),
  ),
  z.array(z.union([portEntry, z.object({ port, ip: z.optional(z.string()) })])),
]);

const etcdSection = z.object({
  host: z.array(nonEmpty).check(z.minLength(1)),
  prefix: z._default(z.string(), '/apisix'),
  user: optionalText,
  password: optionalText,
  tls: z.nullish(z.object({ cert: optionalText, key: optionalText, verify: z._default(z.boolean(), true) })),
});

const schema = z.object({
  apisix: z._default(
    z.object({
      node_listen: z._default(listenList, [{ port: 9080, ip: undefined }]),
      ssl: z.nullish(
        z.object({
          enable: z._default(z.boolean(), false),
          listen: z.optional(listenList),
          listen_port: z.optional(port),
          ssl_trusted_certificate: optionalText,
        }),
      ),
    }),
    { node_listen: [{ port: 9080, ip: undefined }] },
  ),
  etcd: z.optional(etcdSection),
  deployment: z.nullish(z.object({ role: z.optional(z.string()), etcd: z.optional(etcdSection) })),
  plugin_attr: z.nullish(
    z.object({
      prometheus: z.nullish(z.object({ export_addr: z.nullish(z.object({ ip: z._default(z.string(), '127.0.0.1'), port: z._default(port, 9091) })) })),
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
  tls: { certFile: string; keyFile: string };
}

const toListen = (entries: { port: number; ip?: string }[]): Listen[] => entries.map((e) => ({ host: e.ip ?? '0.0.0.0', port: e.port }));

export function loadGatewayConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const raw = readYamlConfig(file, schema);
  const etcd = raw.deployment?.etcd ?? raw.etcd;
  if (!etcd) throw new Error(`${file}: no etcd settings (expected etcd.host, or deployment.etcd.host for APISIX 3)`);
  const ssl = raw.apisix.ssl;
  const https = ssl?.enable ? (ssl.listen ?? [{ port: ssl.listen_port ?? 9443 }]) : [];
  const exporter = raw.plugin_attr?.prometheus?.export_addr;
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
    tls: { certFile: env.GATEWAY_TLS_CERT || DEFAULT_TLS_CERT, keyFile: env.GATEWAY_TLS_KEY || DEFAULT_TLS_KEY },
  };
}
