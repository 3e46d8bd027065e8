// Values that size a deletion or go into haproxy.cfg are checked when the inventory is read (connection vars) and
// against the playbook's variable schema (stack values), before anything connects: an InputError (exit 4) naming
// the file, line and key, or for -e values the host and key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../lib/errors.ts';
import { loadInventory } from '../../lib/inventory.ts';
import { checkPlaybookVars, parseExtraVars } from '../../lib/vars.ts';
import { stackVariables } from '../../vars/schema.ts';

function inventoryFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-values-')), 'hosts.yaml');
  writeFileSync(file, text);
  return file;
}

const withVars = (vars: string) => inventoryFile(`all:\n  hosts:\n    lb1: { ansible_host: 10.0.0.20 }\n  vars:\n${vars}`);

function loadError(file: string, extra: string[] = []): Error {
  try {
    const inventory = loadInventory(file, { extraVars: parseExtraVars(extra) });
    checkPlaybookVars(stackVariables, [...inventory.hosts.values()]);
  } catch (e) {
    return e as Error;
  }
  throw new Error('the inventory loaded');
}

describe('etcd_snapshot_keep', () => {
  it.each(['0', '-1', '2.5', 'all'])('%s is refused with file, line and key', (value) => {
    const e = loadError(withVars(`    etcd_snapshot_keep: ${value}\n`));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/hosts\.yaml:5 at all\.vars\.etcd_snapshot_keep:/);
  });

  it('0 says why', () => {
    expect(loadError(withVars('    etcd_snapshot_keep: 0\n')).message).toMatch(/at least 1 \(0 or less would delete every etcd snapshot\)/);
  });

  it('-e etcd_snapshot_keep=0 is refused naming the host', () => {
    const e = loadError(withVars('    x: 1\n'), ['etcd_snapshot_keep=0']);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/^host lb1: etcd_snapshot_keep: must be at least 1/);
  });

  it('1 and the default pass', () => {
    expect(loadInventory(withVars('    etcd_snapshot_keep: 1\n')).hosts.get('lb1')!.vars.etcd_snapshot_keep).toBe(1);
    expect(loadInventory(withVars('    x: 1\n'), { extraVars: parseExtraVars(['etcd_snapshot_keep=3']) }).hosts.size).toBe(1);
  });
});

describe('values rendered into haproxy.cfg', () => {
  // Each would add or cut a directive in haproxy.cfg if it reached the file.
  const hostile: [string, string][] = [
    ['lb_bind_address', '"10.0.0.20:80\\n    stats enable"'],
    ['lb_bind_address', '"0.0.0.0 ssl crt /etc/x"'],
    ['lb_bind_address', '"10.0.0.20 #"'],
    ['lb_stats_bind', '"127.0.0.1:8404\\nlisten evil"'],
    ['lb_stats_bind', '"0.0.0.0:8404 user admin"'],
    ['lb_stats_bind', '"127.0.0.1"'],
    ['lb_admin_socket', '"/run/haproxy.sock mode 666 level admin"'],
    ['lb_admin_socket', '"relative.sock"'],
    ['lb_http_port', '"80\\n"'],
    ['lb_https_port', '0'],
    ['lb_control_port', '"9000 ssl"'],
    ['dashboard_port', '70000'],
    ['gateway_http_port', '"80#"'],
    ['gateway_https_port', 'eighty'],
    ['ansible_host', '"10.0.0.14\\n    server x 1.2.3.4:80"'],
    ['ansible_host', '"10.0.0.14 backup"'],
  ];
  it.each(hostile)('%s: %s is refused at load with file, line and key', (key, value) => {
    const e = loadError(withVars(`    ${key}: ${value}\n`));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toContain(`hosts.yaml:5 at all.vars.${key}:`);
  });

  it.each([
    ['lb_bind_address', '10.0.0.20\n    stats enable'],
    ['ansible_host', '10.0.0.14 backup'],
  ])('-e %s with %j is refused naming the host', (key, value) => {
    const e = loadError(withVars('    x: 1\n'), [`${key}=${value}`]);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(new RegExp(`^host lb1: ${key}: must be`));
  });

  it.each([
    ['lb_bind_address', '""'],
    ['lb_bind_address', '"*"'],
    ['lb_bind_address', '"::"'],
    ['lb_bind_address', 'fe80::1%eth0'],
    ['lb_stats_bind', '""'],
    ['lb_stats_bind', '"127.0.0.1:8404"'],
    ['lb_stats_bind', '":::8404"'],
    ['lb_admin_socket', '/var/lib/haproxy/admin.sock'],
    ['lb_http_port', '"8080"'],
    ['ansible_host', 'gw1.example.com'],
  ])('%s: %s passes', (key, value) => {
    const inventory = loadInventory(withVars(`    ${key}: ${value}\n`));
    expect(checkPlaybookVars(stackVariables, [...inventory.hosts.values()])).toEqual([]);
  });

  it('a lookup is checked once resolved (the value that will be used)', () => {
    process.env.GW_TEST_BIND = '10.0.0.20\nlisten evil';
    expect(loadError(withVars(`    lb_bind_address: "{{ lookup('env', 'GW_TEST_BIND') }}"\n`)).message).toMatch(/at all\.vars\.lb_bind_address: must be/);
    process.env.GW_TEST_BIND = '10.0.0.20';
    expect(loadInventory(withVars(`    lb_bind_address: "{{ lookup('env', 'GW_TEST_BIND') }}"\n`)).hosts.get('lb1')!.vars.lb_bind_address).toBe('10.0.0.20');
    delete process.env.GW_TEST_BIND;
  });
});
