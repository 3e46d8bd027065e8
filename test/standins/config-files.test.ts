// Pure logic: the stand-ins read the conf files the bundles ship (lab/bundle/**), honour the switches
// of API7's format, and refuse unknown or misspelt keys with the key's path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { bundleFile } from '../../lab/bundle-files.ts';
import { allowListCheck } from '../../lab/standins/dashboard/allow-list.ts';
import { loadDashboardConfig } from '../../lab/standins/dashboard/config.ts';
import { loadGatewayConfig } from '../../lab/standins/gateway/config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'gatewright-standin-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = (text: string) => {
  const p = path.join(dir, `${++files}.yaml`);
  writeFileSync(p, text);
  return p;
};
const SHIPPED_CONF = bundleFile('cp', 'dashboard_conf/conf.yaml', '2.13.2304', '2.13.2304');
const SHIPPED_CONFIG = bundleFile('dp', 'gateway_conf/config.yaml', '2.13.2304', '2.13.2304');

/** The shipped file with `edits` applied as a deployment would: key paths set (undefined deletes). */
function edited(text: string, edits: [(string | number)[], unknown][]): string {
  const doc = parseDocument(text);
  for (const [keys, value] of edits) {
    if (value === undefined) doc.deleteIn(keys);
    else doc.setIn(keys, doc.createNode(value));
  }
  return doc.toString();
}

describe('dashboard conf.yaml as the bundle ships it', () => {
  test('loads as shipped: the sample credentials do not count while enable_auth is false', () => {
    const config = loadDashboardConfig(file(SHIPPED_CONF));
    expect(config).toMatchObject({
      listen: { host: '0.0.0.0', port: 9000 },
      allowList: ['0.0.0.0/0', '::/0'],
      clusterName: 'default',
      etcd: { endpoints: ['127.0.0.1:2379'], username: undefined, password: undefined, tls: { caFile: undefined } },
      prefix: '/api7',
      logLevel: 'warn',
      auth: { secret: 'secret', expireSeconds: 3600, users: [{ username: 'admin', password: 'admin' }] },
    });
  });

  test("the shipped allow_list admits every address (the guide's console is reached without editing it)", () => {
    const allowed = allowListCheck(loadDashboardConfig(file(SHIPPED_CONF)).allowList);
    expect(['10.78.0.20', '172.18.0.1', '::1'].map(allowed)).toEqual([true, true, true]);
  });

  test("the guide's etcd edit: endpoints without a scheme, enable_auth false", () => {
    const conf = edited(SHIPPED_CONF, [[['conf', 'etcd', 'endpoints'], ['10.78.0.11:2379', '10.78.0.12:2379', '10.78.0.13:2379']]]);
    expect(loadDashboardConfig(file(conf)).etcd).toMatchObject({ endpoints: ['10.78.0.11:2379', '10.78.0.12:2379', '10.78.0.13:2379'], username: undefined });
  });

  test('enable_auth true uses username and password; mtls.enable true uses the files and https', () => {
    const conf = edited(SHIPPED_CONF, [
      [['conf', 'etcd', 'enable_auth'], true],
      [['conf', 'etcd', 'password'], 'pw'],
      [['conf', 'etcd', 'mtls', 'enable'], true],
      [['conf', 'etcd', 'mtls', 'ca_file'], '/ca.crt'],
      [['conf', 'etcd', 'mtls', 'cert_file'], '/c.crt'],
      [['conf', 'etcd', 'mtls', 'key_file'], '/c.key'],
      [['conf', 'etcd', 'endpoints'], ['10.78.0.11:2379', 'https://10.78.0.12:2379']],
    ]);
    expect(loadDashboardConfig(file(conf)).etcd).toEqual({
      endpoints: ['https://10.78.0.11:2379', 'https://10.78.0.12:2379'],
      username: 'root',
      password: 'pw',
      tls: { caFile: '/ca.crt', certFile: '/c.crt', keyFile: '/c.key' },
    });
  });

  test.each([
    ['mtls.enable without a CA', [[['conf', 'etcd', 'mtls', 'enable'], true]]],
    ['enable_auth with an empty username', [[['conf', 'etcd', 'enable_auth'], true], [['conf', 'etcd', 'username'], '']]],
  ] as [string, [(string | number)[], unknown][]][])('refuses %s', (_title, edits) => {
    expect(() => loadDashboardConfig(file(edited(SHIPPED_CONF, edits)))).toThrow(/conf\.etcd\.(mtls\.enable|enable_auth) is true/);
  });

  test.each([
    ['conf.etcd.endpoint', [[['conf', 'etcd', 'endpoint'], ['10.78.0.11:2379']]]],
    ['conf.etcd.mtls.enabled', [[['conf', 'etcd', 'mtls', 'enabled'], true]]],
    ['conf.etcd.user', [[['conf', 'etcd', 'user'], 'root']]],
    ['conf.listen.address', [[['conf', 'listen', 'address'], '0.0.0.0']]],
    ['authentication.user', [[['authentication', 'user'], []]]],
    ['authentication.users.0.name', [[['authentication', 'users', 0, 'name'], 'x']]],
    ['etcd', [[['etcd'], { host: ['a:1'] }]]],
  ] as [string, [(string | number)[], unknown][]][])('refuses the unknown key %s, naming it', (key, edits) => {
    const p = file(edited(SHIPPED_CONF, edits));
    expect(() => loadDashboardConfig(p)).toThrow(`${p}: ${key}: unknown key`);
  });

  test('a missing secret names the key', () => {
    const p = file(edited(SHIPPED_CONF, [[['authentication', 'secret'], undefined]]));
    expect(() => loadDashboardConfig(p)).toThrow(/authentication\.secret/);
  });
});

describe('gateway config.yaml as the bundle ships it', () => {
  test('loads as shipped: the ports the compose file publishes, the metrics export on every address', () => {
    const config = loadGatewayConfig(file(SHIPPED_CONFIG), {});
    expect(config).toMatchObject({
      http: [{ host: '0.0.0.0', port: 9080 }],
      https: [{ host: '0.0.0.0', port: 9443 }],
      etcd: { endpoints: ['http://127.0.0.1:2379'], username: undefined, tls: { certFile: undefined, keyFile: undefined } },
      prefix: '/api7/default',
      prometheus: { host: '0.0.0.0', port: 9091 },
      metricsPath: '/apisix/prometheus/metrics',
      tls: { certFile: '/usr/local/apisix/conf/cert/gateway.crt' },
    });
  });

  test("the guide's edit plus APISIX's etcd auth and TLS keys", () => {
    const config = edited(SHIPPED_CONFIG, [
      [['etcd', 'host'], ['https://10.78.0.11:2379', 'https://10.78.0.12:2379']],
      [['etcd', 'prefix'], '/api7/blue/'],
      [['etcd', 'user'], 'root'],
      [['etcd', 'password'], 'pw'],
      [['etcd', 'tls', 'cert'], '/c.crt'],
      [['etcd', 'tls', 'key'], '/c.key'],
      [['apisix', 'ssl', 'ssl_trusted_certificate'], '/ca.crt'],
    ]);
    expect(loadGatewayConfig(file(config), {})).toMatchObject({
      etcd: { endpoints: ['https://10.78.0.11:2379', 'https://10.78.0.12:2379'], username: 'root', password: 'pw', tls: { caFile: '/ca.crt', certFile: '/c.crt', keyFile: '/c.key' } },
      prefix: '/api7/blue',
    });
  });

  test.each([
    ['etcd.hosts', [[['etcd', 'hosts'], ['a:1']]]],
    ['etcd.username', [[['etcd', 'username'], 'root']]],
    ['etcd.tls.ca', [[['etcd', 'tls', 'ca'], '/ca.crt']]],
    ['apisix.node_listen_port', [[['apisix', 'node_listen_port'], 80]]],
    ['apisix.ssl.listen.0.address', [[['apisix', 'ssl', 'listen', 0, 'address'], '0.0.0.0']]],
    ['plugin_attr.prometheus.export_address', [[['plugin_attr', 'prometheus', 'export_address'], { port: 1 }]]],
    ['etcd_conf', [[['etcd_conf'], {}]]],
  ] as [string, [(string | number)[], unknown][]][])('refuses the unknown key %s, naming it', (key, edits) => {
    const p = file(edited(SHIPPED_CONFIG, edits));
    expect(() => loadGatewayConfig(p, {})).toThrow(`${key}: unknown key`);
  });

  test('APISIX 3 layout, with auth and listen lists', () => {
    const config = loadGatewayConfig(
      file(`
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

  test('no etcd section, or both layouts at once, is an error naming the file', () => {
    const none = file('apisix: { node_listen: 80 }\n');
    expect(() => loadGatewayConfig(none, {})).toThrow(`${none}: no etcd settings`);
    const both = file(edited(SHIPPED_CONFIG, [[['deployment'], { etcd: { host: ['a:1'] } }]]));
    expect(() => loadGatewayConfig(both, {})).toThrow(`${both}: etcd is set twice`);
  });
});
