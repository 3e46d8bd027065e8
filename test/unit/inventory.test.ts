import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadInventory } from '../../lib/inventory.ts';
import { resolvePattern } from '../../lib/patterns.ts';
import { parseExtraVars } from '../../lib/vars.ts';

/** Writes files (path -> text) into a fresh dir; returns the inventory path. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-inv-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return join(dir, 'hosts.yaml');
}

const LAB = `
all:
  vars:
    ansible_user: ops
    level: all
    only_all: yes
  hosts:
    lb1: { ansible_host: 10.77.0.20 }
  children:
    cluster:
      vars: { level: cluster }
      children:
        etcd:
          vars: { level: etcd }
          hosts:
            lab1: { ansible_host: 10.77.0.11, ansible_port: 2222 }
            lab2:
              ansible_host: 10.77.0.12
              level: lab2-inline
        gateway:
          hosts:
            lab4: { ansible_host: 10.77.0.14, ansible_become: true }
`;

describe('loadInventory', () => {
  afterEach(() => {
    delete process.env.GW_TEST_PW;
  });

  it('reads hosts, groups through children, and connection vars', () => {
    const inv = loadInventory(tree({ 'hosts.yaml': LAB }));
    expect([...inv.hosts.keys()]).toEqual(['lb1', 'lab1', 'lab2', 'lab4']);
    expect(inv.group('cluster').map((h) => h.name)).toEqual(['lab1', 'lab2', 'lab4']);
    expect(inv.group('all').map((h) => h.name)).toEqual(['lb1', 'lab1', 'lab2', 'lab4']);
    const lab1 = inv.hosts.get('lab1')!;
    expect(lab1).toMatchObject({ address: '10.77.0.11', port: 2222, user: 'ops', groups: ['cluster', 'etcd'] });
    // As in Ansible, a host in no group but all is in the implicit group ungrouped.
    expect(inv.hosts.get('lb1')).toMatchObject({ address: '10.77.0.20', port: 22, groups: ['ungrouped'] });
    expect(inv.group('ungrouped').map((h) => h.name)).toEqual(['lb1']);
    expect(() => inv.group('nope')).toThrow(/unknown group "nope"/);
  });

  it('merges vars: all < parent group < child group < group_vars/ < inline host vars < host_vars/ < -e', () => {
    const file = tree({
      'hosts.yaml': LAB,
      'group_vars/all.yaml': 'from_gv_all: 1\n',
      'group_vars/etcd.yml': 'level: gv-etcd\ngv_etcd: yes\n',
      'group_vars/cluster/a.yaml': 'level: gv-cluster\n',
      'group_vars/cluster/b.yaml': 'cluster_b: 2\n',
      'host_vars/lab1.yaml': 'level: hv-lab1\n',
    });
    const inv = loadInventory(file, { extraVars: { extra: 'e' } });
    const v = (h: string) => inv.hosts.get(h)!.vars;
    expect(v('lb1').level).toBe('all');
    expect(v('lab4').level).toBe('gv-cluster'); // group_vars/cluster beats inline group vars
    expect(v('lab2').level).toBe('lab2-inline'); // inline host vars beat group_vars/
    expect(v('lab1').level).toBe('hv-lab1'); // host_vars/ beats everything but -e
    expect(v('lab1')).toMatchObject({ only_all: 'yes', from_gv_all: 1, gv_etcd: 'yes', cluster_b: 2, extra: 'e' });
    const withE = loadInventory(file, { extraVars: { level: 'cli' } });
    expect(withE.hosts.get('lab1')!.vars.level).toBe('cli');
  });

  it("resolves {{ lookup('env', 'NAME') }} from the environment", () => {
    process.env.GW_TEST_PW = 's3cret';
    const inv = loadInventory(tree({ 'hosts.yaml': `all:\n  hosts:\n    a:\n      ansible_become_password: "{{ lookup('env', 'GW_TEST_PW') }}"\n      url: "x-{{lookup(\\"env\\",\\"GW_TEST_PW\\")}}-y"\n` }));
    expect(inv.hosts.get('a')!.vars).toMatchObject({ ansible_become_password: 's3cret', url: 'x-s3cret-y' });
  });

  it("resolves {{ lookup('file', 'path') }} relative to the inventory, without the trailing newline", () => {
    const inv = loadInventory(tree({ 'hosts.yaml': `all:\n  vars:\n    dashboard_admin_password: "{{ lookup('file', 'secrets/pw') }}"\n  hosts:\n    a:\n`, 'secrets/pw': 'from-file\n' }));
    expect(inv.hosts.get('a')!.vars.dashboard_admin_password).toBe('from-file');
  });

  it('uses -u as the login user only where ansible_user is unset', () => {
    const inv = loadInventory(tree({ 'hosts.yaml': 'all:\n  hosts:\n    a:\n    b: { ansible_user: bob }\n' }), { defaultUser: 'deploy' });
    expect(inv.hosts.get('a')!.user).toBe('deploy');
    expect(inv.hosts.get('b')!.user).toBe('bob');
  });

  // Each broken inventory names the file, the line and what is wrong.
  const broken: [string, Record<string, string>, RegExp][] = [
    ['bad YAML', { 'hosts.yaml': 'all:\n  hosts:\n    a: [1,\n' }, /hosts\.yaml:\d+:\d+: invalid YAML/],
    ['a list at the top', { 'hosts.yaml': '- a\n- b\n' }, /hosts\.yaml:1: an inventory is a mapping of groups/],
    ['unknown group key', { 'hosts.yaml': 'all:\n  hosts:\n    a:\n  chlidren:\n    x:\n' }, /hosts\.yaml:4 at all\.chlidren: unknown key "chlidren" in group all/],
    ['hosts as a list', { 'hosts.yaml': 'all:\n  children:\n    etcd:\n      hosts:\n        - lab1\n' }, /hosts\.yaml:4 at all\.children\.etcd\.hosts: expected a mapping \(name: …\), got a list/],
    ['port not a number', { 'hosts.yaml': 'all:\n  hosts:\n    a:\n      ansible_port: twenty\n' }, /hosts\.yaml:4 at all\.hosts\.a\.ansible_port: .*number/i],
    ['port out of range', { 'hosts.yaml': 'all:\n  vars:\n    ansible_port: 70000\n' }, /hosts\.yaml:3 at all\.vars\.ansible_port:/],
    ['bad connection', { 'hosts.yaml': 'all:\n  hosts:\n    a:\n      ansible_connection: winrm\n' }, /hosts\.yaml:4 at all\.hosts\.a\.ansible_connection:/],
    ['vars not a mapping', { 'hosts.yaml': 'all:\n  vars: [1, 2]\n' }, /hosts\.yaml:2 at all\.vars: expected a mapping of variables/],
    ['host and group share a name', { 'hosts.yaml': 'all:\n  children:\n    etcd:\n      hosts:\n        etcd:\n' }, /hosts\.yaml:5 at all\.children\.etcd\.hosts\.etcd: "etcd" is already a group name/],
    ['duplicate key', { 'hosts.yaml': 'all:\n  hosts:\n    a:\n    a:\n' }, /hosts\.yaml:3:\d+: invalid YAML: Map keys must be unique/],
    ['env var not set', { 'hosts.yaml': "all:\n  vars:\n    pw: \"{{ lookup('env', 'GW_NOT_SET_X') }}\"\n" }, /hosts\.yaml:3 at all\.vars\.pw: environment variable GW_NOT_SET_X is not set/],
    ['file lookup of a missing file', { 'hosts.yaml': "all:\n  vars:\n    pw: \"{{ lookup('file', 'nope/pw') }}\"\n" }, /hosts\.yaml:3 at all\.vars\.pw: lookup\('file', 'nope\/pw'\): .*nope\/pw does not exist/],
    ['group_vars for an unknown group', { 'hosts.yaml': 'all:\n  hosts:\n    a:\n', 'group_vars/etdc.yaml': 'x: 1\n' }, /group_vars\/etdc\.yaml: no group named "etdc"/],
    ['bad value in host_vars', { 'hosts.yaml': 'all:\n  hosts:\n    a:\n', 'host_vars/a.yml': 'x: 1\nansible_port: -1\n' }, /host_vars\/a\.yml:2 at ansible_port:/],
    ['become method doas', { 'hosts.yaml': 'all:\n  vars:\n    ansible_become_method: doas\n' }, /hosts\.yaml:3 at all\.vars\.ansible_become_method: must be sudo or su/],
    ['become user with a space', { 'hosts.yaml': 'all:\n  hosts:\n    a:\n      ansible_become_user: "x y"\n' }, /hosts\.yaml:4 at all\.hosts\.a\.ansible_become_user: must be a user name/],
    ['group cycle', { 'hosts.yaml': 'all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n' }, /group cycle all -> a -> b -> a/],
  ];
  it.each(broken)('rejects %s with file, line and reason', (_, files, message) => {
    expect(() => loadInventory(tree(files))).toThrow(message);
  });

  it('says when the inventory file does not exist', () => {
    expect(() => loadInventory('/nonexistent/hosts.yaml')).toThrow('inventory /nonexistent/hosts.yaml not found');
  });
});

describe('host patterns', () => {
  const inv = loadInventory(tree({ 'hosts.yaml': LAB }));
  const names = (p: string) => resolvePattern(inv, p).map((h) => h.name);
  it.each([
    ['all', ['lb1', 'lab1', 'lab2', 'lab4']],
    ['etcd', ['lab1', 'lab2']],
    ['lab4', ['lab4']],
    ['gateway,etcd', ['lab1', 'lab2', 'lab4']],
    ['etcd:lb1', ['lb1', 'lab1', 'lab2']],
    ['cluster:!lab2', ['lab1', 'lab4']],
    ['cluster:&etcd', ['lab1', 'lab2']],
    ['all:!etcd:!lb1', ['lab4']],
    ['lab*', ['lab1', 'lab2', 'lab4']],
    ['gateway:&etcd', []],
  ])('%s -> %j', (pattern, expected) => {
    expect(names(pattern)).toEqual(expected);
  });

  it('rejects an unknown group or host, naming it', () => {
    expect(() => names('etdc')).toThrow(/unknown host or group "etdc"/);
    expect(() => names('etcd:!nosuch')).toThrow(/unknown host or group "nosuch" in pattern "etcd:!nosuch"/);
  });

  it('knows the implicit localhost as a local connection', () => {
    const [local] = resolvePattern(inv, 'localhost');
    expect(local).toMatchObject({ name: 'localhost', address: '127.0.0.1' });
    expect(local.vars).toMatchObject({ ansible_connection: 'local', ansible_user: 'ops' });
  });
});

describe('extra vars', () => {
  it('reads key=value, {…} and @file, later ones winning', () => {
    const file = tree({ 'x.yaml': 'a: from-file\nb: 2\n' }).replace('hosts.yaml', 'x.yaml');
    expect(parseExtraVars(['a=1', `@${file}`, '{"c": [1]}', 'd=x=y'])).toEqual({ a: 'from-file', b: 2, c: [1], d: 'x=y' });
  });
  it('rejects a malformed one', () => {
    expect(() => parseExtraVars(['novalue'])).toThrow('-e novalue: expected key=value, @file.yaml or a {…} mapping');
    expect(() => parseExtraVars(['@/nope.yaml'])).toThrow('-e @/nope.yaml: file not found');
  });
});

describe('inventory/example', () => {
  it('loads, with group_vars dirs, host_vars and env lookups', () => {
    process.env.OPS_SUDO_PASSWORD = 'x';
    process.env.API7_ADMIN_PASSWORD = 'y';
    const inv = loadInventory(join(import.meta.dirname, '../../inventory/example/hosts.yaml'));
    expect(inv.group('control').map((h) => h.name)).toEqual(['etcd1', 'etcd2']);
    expect(inv.hosts.get('lb1')).toMatchObject({ port: 2222, user: 'admin' });
    expect(inv.hosts.get('etcd3')!.vars).toMatchObject({ etcd_data_dir: '/data/etcd', ansible_become_password: 'x', api7_version: '2.13.2304' });
  });
});
