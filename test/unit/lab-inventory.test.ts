import { describe, expect, it, vi } from 'vitest';

// These tests spell out lab 0's names; pure, so they must not follow a LAB_ID exported for the e2e runs.
vi.hoisted(() => {
  process.env.LAB_ID = '0';
});
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderInventory } from '../../lab/inventory.ts';
import { PATHS } from '../../lab/topology.ts';
import { loadInventory } from '../../lib/inventory.ts';

const roomy = { cpus: 2, memoryMb: 24_000 };

describe('lab inventory', () => {
  const doc = parse(renderInventory({ machine: roomy }));

  it('lists every host with its fixed address', () => {
    expect(doc.all.hosts).toEqual({
      lab1: { ansible_host: '10.77.0.11' },
      lab2: { ansible_host: '10.77.0.12' },
      lab3: { ansible_host: '10.77.0.13' },
      lab4: { ansible_host: '10.77.0.14' },
      lab5: { ansible_host: '10.77.0.15' },
      lb1: { ansible_host: '10.77.0.20' },
      upstream1: { ansible_host: '10.77.0.30' },
    });
  });

  it('puts hosts in the guide groups', () => {
    const members = (g: string) => Object.keys(doc.all.children[g].hosts);
    expect(members('etcd')).toEqual(['lab1', 'lab2', 'lab3']);
    expect(members('control')).toEqual(['lab1', 'lab2']);
    expect(members('gateway')).toEqual(['lab4', 'lab5']);
    expect(members('lb')).toEqual(['lb1']);
    expect(members('upstream')).toEqual(['upstream1']);
  });

  it('logs in as ops with the lab key, become, strict known_hosts, absolute paths', () => {
    expect(doc.all.vars).toEqual({
      ansible_user: 'ops',
      ansible_ssh_private_key_file: PATHS.clientKey,
      ansible_become: true,
      ssh_known_hosts_file: PATHS.knownHosts,
      api7_bundle_dir: PATHS.bundlesDir,
      smoke_route_enabled: true,
      etcd_version: '3.4.23',
      dashboard_admin_password: `{{ lookup('file', '${PATHS.dashboardPassword}') }}`,
    });
    for (const path of [PATHS.clientKey, PATHS.knownHosts, PATHS.bundlesDir]) expect(path.startsWith('/')).toBe(true);
  });

  it('lowers the preflight minimums only when the machine is below the guide', () => {
    const small = parse(renderInventory({ machine: { cpus: 1, memoryMb: 2000 } })).all.vars;
    expect(small.preflight_min_cpus).toBe(1);
    expect(small.preflight_min_memory_mb).toBe(1800);
    expect(doc.all.vars).not.toHaveProperty('preflight_min_cpus');
    expect(doc.all.vars).not.toHaveProperty('preflight_min_memory_mb');
  });

  it('is read by the runner the way the roles see it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-inv-'));
    const file = join(dir, 'lab.yaml');
    writeFileSync(join(dir, 'dashboard_pw'), 'lab-secret\n', { mode: 0o600 });
    writeFileSync(file, renderInventory({ machine: roomy, dashboardPasswordFile: join(dir, 'dashboard_pw') }));
    const inv = loadInventory(file);
    expect(inv.groups.get('etcd')).toEqual(['lab1', 'lab2', 'lab3']);
    const lab4 = inv.hosts.get('lab4')!;
    expect(lab4.address).toBe('10.77.0.14');
    expect(lab4.user).toBe('ops');
    expect(lab4.groups).toContain('gateway');
    expect(lab4.vars.api7_bundle_dir).toBe(PATHS.bundlesDir);
    // The console password comes from its 0600 file, not from the inventory text.
    expect(lab4.vars.dashboard_admin_password).toBe('lab-secret');
  });
});
