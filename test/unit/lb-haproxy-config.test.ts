import { describe, expect, it } from 'vitest';
import { makeHost, makeInventory } from '../../lib/inventory.ts';
import type { Host } from '../../lib/types.ts';
import { lbModel } from '../../roles/lb/model.ts';
import { configLevel, haproxyLevel } from '../../facts/haproxy.ts';
import { renderHaproxyConfig } from '../../roles/lb/templates.ts';
import { stackVariables } from '../../vars/schema.ts';

function labInventory(extra: Record<string, Record<string, unknown>> = {}) {
  const spec: [string, string, string[]][] = [
    ['lab1', '10.77.0.11', ['etcd', 'control']],
    ['lab2', '10.77.0.12', ['etcd', 'control']],
    ['lab3', '10.77.0.13', ['etcd']],
    ['lab4', '10.77.0.14', ['gateway']],
    ['lab5', '10.77.0.15', ['gateway']],
    ['lb1', '10.77.0.20', ['lb']],
  ];
  const hosts = new Map<string, Host>(
    spec.map(([name, address, groups]) => [name, makeHost(name, groups, { ansible_host: address, ...extra[name] }, 'ops')]),
  );
  const groups = new Map<string, string[]>([['all', spec.map(([n]) => n)]]);
  for (const [name, , gs] of spec) for (const g of gs) groups.set(g, [...(groups.get(g) ?? []), name]);
  return makeInventory('lab.yaml', hosts, groups);
}

describe('haproxy.cfg for the installed version', () => {
  it('reads the level from the version fact; older than 1.5 is refused with what to install', () => {
    expect(haproxyLevel('2.6.12-1+deb12u4')).toBe('modern');
    expect(haproxyLevel('2.2.0')).toBe('modern');
    expect(haproxyLevel('2.0.29')).toBe('1.8');
    expect(haproxyLevel('1.8.27-4.el8')).toBe('1.8');
    expect(haproxyLevel('1.5.18')).toBe('1.5');
    expect(haproxyLevel(undefined)).toBe('modern');
    expect(() => haproxyLevel('1.4.24')).toThrow(/haproxy 1\.4\.24 is too old: the LB config needs haproxy 1\.5 or later .*yum\/dnf install haproxy/);
  });

  it.each(['1.8', '1.5'] as const)('renders the %s level (golden): no L7 retries, checks in option httpchk', async (level) => {
    const cfg = renderHaproxyConfig(lbModel({}, labInventory()), level);
    await expect(cfg).toMatchFileSnapshot(`golden/lb-haproxy.${level}.cfg`);
    expect(cfg).not.toMatch(/retry-on|disable-l7-retry|http-check send/);
    expect(cfg).toContain('option httpchk GET /gatewright-health HTTP/1.1\\r\\nHost:\\ gatewright-health.invalid');
    expect(cfg.includes('expose-fd listeners')).toBe(level === '1.8');
    expect(cfg).toContain(level === '1.5' ? '    option redispatch\n' : '    option redispatch 1\n');
  });

  it.each(['modern', '1.8', '1.5'] as const)('observes live traffic on every server at the %s level (1.5 takes observe on server lines only)', (level) => {
    const cfg = renderHaproxyConfig(lbModel({}, labInventory()), level);
    const defaults = cfg.split('\n').find((l) => l.trim().startsWith('default-server'))!;
    const servers = cfg.split('\n').filter((l) => l.trim().startsWith('server '));
    expect(defaults).toContain('error-limit 1 on-error fastinter on-marked-down shutdown-sessions');
    expect(servers).toHaveLength(6);
    if (level === '1.5') {
      expect(defaults).not.toContain('observe');
      expect(servers.every((l) => l.endsWith(' check observe layer4') || l.endsWith(' check port 80 observe layer4'))).toBe(true);
    } else {
      expect(defaults).toContain(' observe layer4 ');
      expect(servers.some((l) => l.includes('observe'))).toBe(false);
    }
  });

  it('lb_haproxy_level forces a level, but never under the floor: no level parses on haproxy 1.4', () => {
    expect(configLevel('2.6.12', '1.5')).toBe('1.5');
    expect(configLevel('1.8.27', undefined)).toBe('1.8');
    expect(() => configLevel('1.4.24', '1.5')).toThrow(/haproxy 1\.4\.24 is too old/);
  });
});

describe('haproxy.cfg', () => {
  it('renders the lab stack (golden)', async () => {
    const cfg = renderHaproxyConfig(lbModel({}, labInventory()));
    await expect(cfg).toMatchFileSnapshot('golden/lb-haproxy.cfg');
  });

  it('names servers after inventory hosts and takes each host its own ports', () => {
    const inv = labInventory({ lab5: { gateway_http_port: 8080, gateway_https_port: 8443 }, lab2: { dashboard_port: 9100 } });
    const cfg = renderHaproxyConfig(lbModel({}, inv));
    expect(cfg).toContain('server lab2 10.77.0.12:9100 check\n');
    expect(cfg).toContain('server lab5 10.77.0.15:8080 check\n');
    expect(cfg).toContain('server lab5 10.77.0.15:8443 check port 8080\n');
  });

  it('binds the frontends to lb_bind_address and the LB ports when given', () => {
    const cfg = renderHaproxyConfig(
      lbModel({ lb_bind_address: '10.77.0.20', lb_control_port: 19000, lb_http_port: 8080, lb_https_port: 8443, lb_stats_bind: '' }, labInventory()),
    );
    expect(cfg).toMatch(/frontend control_plane\n    bind 10\.77\.0\.20:19000\n/);
    expect(cfg).toMatch(/frontend data_plane_http\n    bind 10\.77\.0\.20:8080\n/);
    expect(cfg).toMatch(/bind 10\.77\.0\.20:8443\n/);
    expect(cfg).not.toContain('listen stats');
  });

  it('retries only idempotent requests at layer 7, every retry on another server', () => {
    const cfg = renderHaproxyConfig(lbModel({}, labInventory()));
    expect(cfg).toContain('    retries 3\n    option redispatch 1\n');
    expect(cfg.match(/retry-on conn-failure empty-response junk-response\n    http-request disable-l7-retry if !METH_GET/g)).toHaveLength(2);
  });

  it('renders empty backends when the inventory has no stack groups', () => {
    const hosts = new Map([['lb1', makeHost('lb1', ['lb'], {}, 'ops')]]);
    const model = lbModel({}, makeInventory('x', hosts, new Map([['all', ['lb1']], ['lb', ['lb1']]])));
    expect([model.dashboards, model.gatewaysHttp, model.gatewaysHttps]).toEqual([[], [], []]);
  });

  it('refuses a port that is not a port, naming host and variable', () => {
    // The load-time check refuses it first (the playbooks' variable schema); a model built from raw hosts refuses it too.
    expect(stackVariables.check({ gateway_http_port: 'eighty' }).map((p) => p.key)).toEqual(['gateway_http_port']);
    const inv = labInventory();
    inv.hosts.get('lab4')!.vars.gateway_http_port = 'eighty';
    expect(() => lbModel({}, inv)).toThrow(/lab4: gateway_http_port must be a TCP port/);
  });

  // Hostile values that reach the model without the loader (a host built in code, a var changed after load):
  // each would inject or cut a directive; none may reach the file.
  const hostileLb: [string, unknown][] = [
    ['lb_bind_address', '10.77.0.20\n    stats enable'],
    ['lb_bind_address', '0.0.0.0 ssl crt /tmp/x.pem'],
    ['lb_stats_bind', '127.0.0.1:8404\nlisten evil'],
    ['lb_stats_bind', '0.0.0.0:8404 #'],
    ['lb_admin_socket', '/run/a.sock mode 666 level admin'],
    ['lb_control_port', '9000\n'],
    ['lb_http_port', 'NaN'],
    ['lb_https_port', 0],
  ];
  it.each(hostileLb)('refuses %s = %j for haproxy.cfg, naming the LB host and the variable', (name, value) => {
    expect(() => lbModel({ [name]: value }, labInventory(), 'lb1')).toThrow(new RegExp(`^lb1: ${name} must be`));
  });

  it.each([
    ['ansible_host', (h: Host) => Object.assign(h, { address: '10.77.0.14\n    server evil 1.2.3.4:80' })],
    ['ansible_host', (h: Host) => Object.assign(h, { address: '10.77.0.14 backup' })],
    ['the inventory name', (h: Host) => Object.assign(h, { name: 'lab4 disabled' })],
  ] as const)('refuses a backend %s that would inject a directive', (what, spoil) => {
    const inv = labInventory();
    spoil(inv.hosts.get('lab4')!);
    expect(() => lbModel({}, inv, 'lb1')).toThrow(new RegExp(`${what} must be`));
  });
});
