import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { editYaml, readKeys } from '../../ops/yaml-edit.ts';
import { editDashboardConf, type DashboardConf } from '../../roles/dashboard/templates.ts';
import { editGatewayConf, type GatewayConf } from '../../roles/gateway/templates.ts';

const shipped = (name: string) => readFileSync(new URL(`fixtures/shipped/${name}`, import.meta.url), 'utf8');
const DASH = shipped('dashboard-conf.yaml');
const GW = shipped('gateway-config.yaml');

const dash: DashboardConf = {
  etcdEndpoints: ['10.77.0.11:2379', '10.77.0.12:2379', '10.77.0.13:2379'],
  prefix: '/api7',
  jwtSecret: 'jwt-secret-value',
  adminUser: 'admin',
  adminPassword: 'admin-password',
};
const gw: GatewayConf = {
  edition: 'api7',
  etcdHosts: ['http://10.77.0.11:2379', 'http://10.77.0.12:2379', 'http://10.77.0.13:2379'],
  prefix: '/api7/default',
};

/** Every key path of a parsed document with its scalar value. */
function flat(v: unknown, at = ''): Record<string, unknown> {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    return Object.assign({}, ...Object.entries(v).map(([k, x]) => flat(x, at ? `${at}.${k}` : k)));
  }
  return { [at]: v };
}
const changedKeys = (a: string, b: string) => {
  const [x, y] = [flat(parse(a)), flat(parse(b))];
  return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k])).sort();
};
const comments = (t: string) => t.split('\n').map((l) => /#\s*(.*)$/.exec(l)?.[1]?.trim()).filter(Boolean);

describe('named-key edits of the shipped conf.yaml (golden)', () => {
  it('edits only conf.etcd and the console login (token secret, admin password); every comment survives', async () => {
    const r = editDashboardConf(DASH, dash);
    await expect(r.text).toMatchFileSnapshot('golden/dashboard-conf.edited.yaml');
    expect(changedKeys(DASH, r.text)).toEqual(['authentication.secret', 'authentication.users', 'conf.etcd.endpoints']);
    expect(r.changed).not.toContain('conf.allow_list');
    expect(comments(r.text).sort()).toEqual(comments(DASH).sort());
    expect(parse(r.text).plugins).toEqual(parse(DASH).plugins);
  });

  it('conf.allow_list stays as shipped unless dashboard_allow_list gives one; then it is written, its comments kept', () => {
    const list = ['127.0.0.1', '10.77.0.20', '10.77.0.11', '10.77.0.12', '192.0.2.0/24'];
    const r = editDashboardConf(DASH, { ...dash, allowList: list });
    expect(changedKeys(DASH, r.text)).toEqual(['authentication.secret', 'authentication.users', 'conf.allow_list', 'conf.etcd.endpoints']);
    expect(parse(r.text).conf.allow_list).toEqual(list);
    expect(comments(r.text).sort()).toEqual(comments(DASH).sort());
    // Unset again: the key is not touched (what is there stays, narrowed or shipped).
    expect(editDashboardConf(r.text, dash).changed).toEqual([]);
  });

  it('etcd auth and client TLS: enable_auth, username, password and mtls.* (with an allow-list set)', async () => {
    const allowList = ['127.0.0.1', '10.77.0.20', '10.77.0.11', '10.77.0.12'];
    const r = editDashboardConf(DASH, { ...dash, allowList, etcdUser: 'root', etcdPassword: 'pw', mtls: { ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' } });
    await expect(r.text).toMatchFileSnapshot('golden/dashboard-conf.edited-auth-tls.yaml');
    expect(parse(r.text).conf.etcd).toMatchObject({
      enable_auth: true, username: 'root', password: 'pw', mtls: { enable: true, key_file: '/c/key.pem', cert_file: '/c/cert.pem', ca_file: '/c/ca.pem' },
    });
    // Turned off again: no password left behind, the shipped shape back.
    const off = editDashboardConf(r.text, dash);
    expect(parse(off.text).conf.etcd).toMatchObject({ enable_auth: false, username: '', password: '', mtls: { enable: false } });
  });

  it('a second edit changes nothing and returns the same bytes', () => {
    const once = editDashboardConf(DASH, dash).text;
    const twice = editDashboardConf(once, dash);
    expect(twice.changed).toEqual([]);
    expect(twice.text).toBe(once);
  });

  it('keeps the other users and adds the admin when the file has none', () => {
    const two = DASH.replace('    - username: admin # the console\'s administrator\n      password: admin\n', '    - username: viewer\n      password: v\n');
    const users = parse(editDashboardConf(two, dash).text).authentication.users;
    expect(users).toEqual([{ username: 'viewer', password: 'v' }, { username: 'admin', password: 'admin-password' }]);
  });
});

describe('named-key edits of the shipped config.yaml (golden)', () => {
  it('edits only etcd.host and etcd.prefix; ports and comments stay as shipped', async () => {
    const r = editGatewayConf(GW, gw);
    await expect(r.text).toMatchFileSnapshot('golden/gateway-config.edited.yaml');
    expect(changedKeys(GW, r.text)).toEqual(['etcd.host']);
    expect(comments(r.text).sort()).toEqual(comments(GW).sort());
    expect(editGatewayConf(GW, { ...gw, prefix: '/api7/prod' }).changed).toEqual(['etcd.host', 'etcd.prefix']);
  });

  it("etcd auth and TLS in APISIX's keys: etcd.user, etcd.password, etcd.tls, apisix.ssl.ssl_trusted_certificate; removed when off", async () => {
    const on = editGatewayConf(GW, { ...gw, etcdUser: 'root', etcdPassword: 'pw', tls: { ca: '/c/certs/ca.pem', cert: '/c/certs/cert.pem', key: '/c/certs/key.pem' } });
    await expect(on.text).toMatchFileSnapshot('golden/gateway-config.edited-auth-tls.yaml');
    expect(parse(on.text).etcd).toMatchObject({ user: 'root', password: 'pw', tls: { cert: '/c/certs/cert.pem', key: '/c/certs/key.pem', verify: true } });
    expect(parse(on.text).apisix.ssl.ssl_trusted_certificate).toBe('/c/certs/ca.pem');
    const off = editGatewayConf(on.text, gw);
    expect(changedKeys(GW, off.text)).toEqual(['etcd.host']);
  });

  it('edition apisix on a file of the 2.x layout moves etcd under deployment (never twice); api7 moves it back', () => {
    const v3 = editGatewayConf(GW, { ...gw, edition: 'apisix', prefix: '/apisix' }).text;
    const doc = parse(v3);
    expect(doc.etcd).toBeUndefined();
    expect(doc.deployment).toEqual({ role: 'data_plane', role_data_plane: { config_provider: 'etcd' }, etcd: { host: gw.etcdHosts, prefix: '/apisix', timeout: 30, tls: { verify: true } } });
    const back = parse(editGatewayConf(v3, gw).text);
    expect(back.deployment).toBeUndefined();
    expect(back.etcd).toEqual({ host: gw.etcdHosts, prefix: '/api7/default', timeout: 30, tls: { verify: true } });
    expect(editGatewayConf(editGatewayConf(v3, gw).text, gw).changed).toEqual([]);
  });

  it('an APISIX 3 layout is edited under deployment.etcd', () => {
    const v3 = 'deployment:\n  role: data_plane\n  etcd:\n    host: ["http://127.0.0.1:2379"]\n    prefix: /apisix\n';
    const r = editGatewayConf(v3, { ...gw, edition: 'apisix', prefix: '/apisix' });
    expect(parse(r.text).deployment).toEqual({ role: 'data_plane', etcd: { host: gw.etcdHosts, prefix: '/apisix' } });
  });
});

describe('editYaml', () => {
  it('refuses a file that is not a mapping, naming it', () => {
    expect(() => editYaml('- a\n', [{ path: ['x'], value: 1 }], '/opt/x.yaml')).toThrow(/\/opt\/x\.yaml: the top level is not a mapping/);
    expect(() => editYaml('a: [\n', [], '/opt/x.yaml')).toThrow(/\/opt\/x\.yaml is not valid YAML/);
  });
  it('refuses to set a key under a scalar', () => {
    expect(() => editYaml('etcd: text\n', [{ path: ['etcd', 'host'], value: 1 }])).toThrow(/etcd is not a mapping/);
  });
  it("keeps a replaced list's item comments, those of dropped items under the last one", () => {
    const text = 'allow_list:   # who\n  - 0.0.0.0/0  # first match wins\n  - ::/0       # CIDR too\n';
    const longer = editYaml(text, [{ path: ['allow_list'], value: ['a', 'b', 'c'] }]).text;
    expect(comments(longer).sort()).toEqual(['CIDR too', 'first match wins', 'who']);
    const shorter = editYaml(text, [{ path: ['allow_list'], value: ['a'] }]).text;
    expect(comments(shorter).sort()).toEqual(['CIDR too', 'first match wins', 'who']);
    expect(parse(shorter)).toEqual({ allow_list: ['a'] });
  });

  it('reads named keys back for comparison', () => {
    expect(readKeys(GW, [['etcd', 'prefix']])).toEqual({ 'etcd.prefix': '/api7/default' });
  });
});
