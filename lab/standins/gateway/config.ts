// The gateway's config.yaml: API7 2.x / APISIX 2 layout (`etcd:` at the top) and APISIX 3 layout
// (`deployment.etcd`), as much of it as the stand-in honours (docs/STANDINS.md).
import { z } from 'zod';
import type { EtcdSettings } from '../shared/etcd-client.ts';
import { readYamlConfig } from '../shared/yaml-file.ts';

export const DEFAULT_GATEWAY_CONFIG = '/usr/local/apisix/conf/config.yaml';
export const DEFAULT_TLS_CERT = '/usr/local/apisix/conf/cert/gateway.crt';
export const DEFAULT_TLS_KEY = '/usr/local/apisix/conf/cert/gateway.key';

const optionalText = z.string().nullish().transform((v) => v || undefined);
const port = z.number().int().min(0).max(65535);
// `80`, `[80, 8080]` or `[{port: 80, ip: 127.0.0.1}]`
const listenList = z.union([port.transform((p) => [{ port: p }]), z.array(z.union([port.transform((p) => ({ port: p })), z.object({ port, ip: z.string().optional() })]))]);

const etcdSection = z.object({
  host: z.array(z.string().min(1)).min(1),
  prefix: z.string().default('/apisix'),
  user: optionalText,
  password: optionalText,
  tls: z.object({ cert: optionalText, key: optionalText, verify: z.boolean().default(true) }).nullish(),
});

const schema = z.object({
  apisix: z
    .object({
      node_listen: listenList.default([{ port: 9080 }]),
      ssl: z
        .object({
          enable: z.boolean().default(false),
          listen: listenList.optional(),
          listen_port: port.optional(),
          ssl_trusted_certificate: optionalText,
        })
        .nullish(),
    })
    .default({ node_listen: [{ port: 9080 }] }),
  etcd: etcdSection.optional(),
  deployment: z.object({ role: z.string().optional(), etcd: etcdSection.optional() }).nullish(),
  plugin_attr: z
    .object({ prometheus: z.object({ export_addr: z.object({ ip: z.string().default('127.0.0.1'), port: port.default(9091) }).nullish() }).nullish() })
    .nullish(),
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
