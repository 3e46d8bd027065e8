import { describe, expect, it } from 'vitest';
import { labIdFrom, labTopology } from '../../lab/topology.ts';
import { fromOurDirs } from '../../lab/teardown.ts';

describe('LAB_ID: which lab this process drives', () => {
  it('is 0 when unset or empty, a single digit otherwise', () => {
    expect(labIdFrom(undefined)).toBe(0);
    expect(labIdFrom('')).toBe(0);
    expect(labIdFrom('1')).toBe(1);
    for (const bad of ['-1', '10', 'one', ' 1', '1.0']) expect(() => labIdFrom(bad)).toThrow(/LAB_ID must be a digit 0-9/);
  });

  it('lab 0 has the names the lab always had', () => {
    const t = labTopology(0, '/repo');
    expect(t.net).toEqual({ name: 'labnet', bridge: 'labbr0', subnet: '10.77.0.0/24', gateway: '10.77.0.1' });
    expect(t.hosts.map((h) => `${h.name} ${h.ip} ${h.groups.join(',')} ${h.image}`)).toEqual([
      'lab1 10.77.0.11 etcd,control host',
      'lab2 10.77.0.12 etcd,control host',
      'lab3 10.77.0.13 etcd host',
      'lab4 10.77.0.14 gateway host',
      'lab5 10.77.0.15 gateway host',
      'lb1 10.77.0.20 lb lb',
      'upstream1 10.77.0.30 upstream upstream',
    ]);
    expect(t.machine).toEqual({
      runDir: '/run/gatewright-lab',
      socket: '/run/gatewright-lab/docker.sock',
      pidFile: '/run/gatewright-lab/dockerd.pid',
      execRoot: '/run/gatewright-lab/exec',
      lockFile: '/run/gatewright-lab.lock',
      dataDir: '/var/lib/gatewright-lab',
      engineRoot: '/var/lib/gatewright-lab/engine',
      hostsDir: '/var/lib/gatewright-lab/hosts',
      buildDir: '/var/lib/gatewright-lab/build',
      cacheDir: '/var/cache/gatewright-lab',
      cgroupParent: 'gatewright-lab',
      label: 'io.gatewright.lab',
      iptablesComment: 'gatewright-lab',
    });
    expect(t.paths).toEqual({
      labDir: '/repo/.lab',
      sshDir: '/repo/.lab/ssh',
      clientKey: '/repo/.lab/ssh/id_ed25519',
      knownHosts: '/repo/.lab/ssh/known_hosts',
      hostKeysDir: '/repo/.lab/ssh/hostkeys',
      bundlesDir: '/repo/.lab/bundles',
      dashboardPassword: '/repo/.lab/secrets/dashboard_admin_password',
      standinsOut: '/repo/.lab/standins',
      inventory: '/repo/inventory/lab.yaml',
    });
  });

  it('lab 1 shares no name, address or path with lab 0', () => {
    const [zero, one] = [labTopology(0, '/repo'), labTopology(1, '/repo')];
    expect(one.net).toEqual({ name: 'labnet1', bridge: 'labbr1', subnet: '10.78.0.0/24', gateway: '10.78.0.1' });
    expect(one.hosts.map((h) => h.ip)).toEqual(['10.78.0.11', '10.78.0.12', '10.78.0.13', '10.78.0.14', '10.78.0.15', '10.78.0.20', '10.78.0.30']);
    // host names stay: the inventories of both labs name lab1..lab5, lb1, upstream1
    expect(one.hosts.map((h) => h.name)).toEqual(zero.hosts.map((h) => h.name));
    expect(one.machine.socket).toBe('/run/gatewright-lab1/docker.sock');
    expect(one.machine.lockFile).toBe('/run/gatewright-lab1.lock');
    expect(one.machine.label).toBe('io.gatewright.lab1');
    expect(one.paths.inventory).toBe('/repo/inventory/lab1.yaml');
    expect(one.paths.knownHosts).toBe('/repo/.lab1/ssh/known_hosts');
    for (const key of Object.keys(zero.machine) as (keyof typeof zero.machine)[]) {
      expect(one.machine[key], key).not.toBe(zero.machine[key]);
    }
    for (const key of Object.keys(zero.paths) as (keyof typeof zero.paths)[]) {
      expect(one.paths[key], key).not.toBe(zero.paths[key]);
    }
    // no directory of one lab lies inside the other's
    const dirs = (t: typeof zero): string[] => [t.machine.runDir, t.machine.dataDir, t.machine.cacheDir, t.paths.labDir];
    for (const a of dirs(zero)) for (const b of dirs(one)) expect(b.startsWith(`${a}/`) || a.startsWith(`${b}/`)).toBe(false);
  });

  it("a process of lab 1 is not lab 0's even though its paths start with lab 0's names", () => {
    const lab0 = ['/run/gatewright-lab', '/var/lib/gatewright-lab'];
    const dockerd1 = ['/usr/sbin/dockerd', '--host', 'unix:///run/gatewright-lab1/docker.sock', '--data-root', '/var/lib/gatewright-lab1/engine', ''].join('\0');
    const dockerd0 = ['/usr/sbin/dockerd', '--host', 'unix:///run/gatewright-lab/docker.sock', '--data-root', '/var/lib/gatewright-lab/engine', ''].join('\0');
    expect(fromOurDirs(dockerd1, lab0)).toBe(false);
    expect(fromOurDirs(dockerd0, lab0)).toBe(true);
    expect(fromOurDirs(`ls\0/run/gatewright-lab\0`, lab0)).toBe(true);
  });
});
