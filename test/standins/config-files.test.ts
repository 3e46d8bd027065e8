// Pure logic: reading the gateway's and dashboard's config files in the layouts the contract names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadDashboardConfig } from '../../lab/standins/dashboard/config.ts';
import { loadGatewayConfig } from '../../lab/standins/gateway/config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'gatewright-standin-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('gateway config.yaml', () => {
  test('API7 2.x layout', () => {
    const config = loadGatewayConfig(
      file('api7.yaml', `
apisix:
  node_listen: 80
  ssl: { enable: true, listen: [ { port: 443 } ] }
etcd:
  host: ["http://10.77.0.11:2379", "http://10.77.0.12:2379"]
  prefix: /api7/default/
  user: ""
  password: ""
plugin_attr:
  prometheus:
    export_addr: { ip: 0.0.0.0, port: 9091 }
`),
      {},
    );
    expect(config).toMatchObject({
      http: [{ host: '0.0.0.0', port: 80 }],
      https: [{ host: '0.0.0.0', port: 443 }],
      etcd: { endpoints: ['http://10.77.0.11:2379', 'http://10.77.0.12:2379'], username: undefined },
      prefix: '/api7/default',
      prometheus: { host: '0.0.0.0', port: 9091 },
      tls: { certFile: '/usr/local/apisix/conf/cert/gateway.crt' },
    });
  });

  test('APISIX 3 layout, with auth and listen lists', () => {
    const config = loadGatewayConfig(
      file('apisix3.yaml', `
apisix:
  node_listen: [9080, { port: 9081, ip: 127.0.0.1 }]
deployment:
  role: data_plane
  role_data_plane: { config_provider: etcd }
  etcd: { host: ["https://e1:2379"], prefix: /apisix, user: root, password: pw, tls: { cert: /c, key: /k } }
`),
      { GATEWAY_TLS_CERT: '/x.crt' },
    );
    expect(config).toMatchObject({
      http: [{ host: '0.0.0.0', port: 9080 }, { host: '127.0.0.1', port: 9081 }],
      https: [],
      etcd: { endpoints: ['https://e1:2379'], username: 'root', password: 'pw', tls: { certFile: '/c', keyFile: '/k' } },
      prefix: '/apisix',
      prometheus: { host: '127.0.0.1', port: 9091 },
      tls: { certFile: '/x.crt' },
    });
  });

  test('no etcd section is an error naming the file', () => {
    const p = file('none.yaml', 'apisix: { node_listen: 80 }\n');
    expect(() => loadGatewayConfig(p, {})).toThrow(new RegExp(`${p}: no etcd settings`));
  });
});

describe('dashboard conf.yaml', () => {
  test('the documented shape, endpoints with or without a scheme', () => {
    const config = loadDashboardConfig(
      file('conf.yaml', `
conf:
  listen: { host: 0.0.0.0, port: 9000 }
  allow_list: [127.0.0.1, 10.77.0.0/24]
  etcd:
    endpoints: ["10.77.0.11:2379", "http://10.77.0.12:2379"]
    prefix: /api7
    username: root
    password: pw
    mtls: { key_file: "", cert_file: "", ca_file: "" }
  log: { error_log: { level: warn } }
authentication:
  secret: s
  expire_time: 3600
  users:
    - { username: admin, password: p }
`),
    );
    expect(config).toMatchObject({
      listen: { host: '0.0.0.0', port: 9000 },
      allowList: ['127.0.0.1', '10.77.0.0/24'],
      etcd: { endpoints: ['10.77.0.11:2379', 'http://10.77.0.12:2379'], username: 'root', password: 'pw', tls: { caFile: undefined } },
      prefix: '/api7',
    });
  });

  test('a missing secret names the key', () => {
    const p = file('bad.yaml', 'conf: { etcd: { endpoints: [a:1] } }\nauthentication: { users: [ { username: a, password: b } ] }\n');
    expect(() => loadDashboardConfig(p)).toThrow(/authentication\.secret/);
  });
});
