import { describe, expect, it } from 'vitest';
import { DISTROS, loadFacts } from './fixtures/facts/load.ts';
import * as check from '../../roles/preflight/checks.ts';
import { parseDisk, parseOsRelease, parseTimeSync } from '../../facts/os.ts';
import { stackVars } from '../../vars/schema.ts';
import { claimedPorts, portConflicts } from '../../roles/preflight/ports.ts';
import { verdict } from '../../roles/preflight/findings.ts';

// Every check of one recorded host, with the guide's default thresholds.
function findings(distro: (typeof DISTROS)[number]) {
  const f = loadFacts(distro);
  const claims = claimedPorts(f.groups, stackVars({ vars: {} }));
  return [
    ...check.checkOs(f.os),
    ...check.checkArch(f.machine),
    ...check.checkKernel(f.machine),
    ...check.checkCpus(f.machine, 2),
    ...check.checkMemory(f.machine, 3500),
    ...check.checkPorts(f.listeners.available, portConflicts(claims, f.listeners.listeners, f.containers), claims.map((c) => c.port)),
    ...(f.docker.version ? check.checkDockerVersion(f.docker.version) : []),
    ...check.checkSelinux(f.selinux, 'keep'),
  ];
}

describe('recorded hosts', () => {
  it('detects OS family and package manager per distribution', () => {
    expect(DISTROS.map((d) => { const { os } = loadFacts(d); return [os.id, os.family, os.packageManager, os.codename]; })).toEqual([
      ['centos', 'rhel', 'yum', ''],
      ['rocky', 'rhel', 'dnf', ''],
      ['debian', 'debian', 'apt', 'bookworm'],
      ['ubuntu', 'debian', 'apt', 'jammy'],
    ]);
  });

  it('CentOS 7 with nginx on 80 and docker 1.13: every problem in one report', () => {
    expect(verdict('lab4', findings('centos7'))).toBe(
      'lab4: port 80 (gateway_http_port) is in use by nginx (pid 1289); ' +
        'Docker 1.13.1 < 20.10.7: upgrade Docker (remove the old packages, then run the docker role, e.g. docker_install_method: docker-ce or offline)',
    );
  });

  it('a 4 GB Rocky 9 server (3.56 GiB in MemTotal) passes the default memory threshold', () => {
    expect(loadFacts('rocky9').machine.memoryMb).toBe(3648);
    expect(verdict('lab1', findings('rocky9'))).toBeUndefined();
    expect(findings('rocky9').filter((f) => f.level === 'warn').map((f) => f.message)).toEqual([
      'SELinux is enforcing: the roles relabel their bind mounts (:Z); set preflight_selinux: permissive to relax it instead',
    ]);
  });

  it.each(['debian12', 'ubuntu2204'] as const)('%s passes', (distro) => {
    expect(verdict('h', findings(distro))).toBeUndefined();
  });
});

describe('thresholds', () => {
  const m = { kernel: '6.1.0-18-amd64', arch: 'x86_64', cpus: 1, memoryMb: 2048 };
  it('reports CPU and memory below the variables, naming them', () => {
    expect(check.checkCpus(m, 2)).toEqual([{ level: 'fail', message: '1 CPUs < 2 (preflight_min_cpus)' }]);
    expect(check.checkMemory(m, 3500)).toEqual([{ level: 'fail', message: 'memory 2048 MB < 3500 MB (preflight_min_memory_mb)' }]);
  });

  it('measures disk at the nearest existing parent and fails below the threshold', () => {
    const disks = parseDisk(
      '/var/lib/docker\t/var/lib\t/dev/sda1  51175  40000  8123  84% /\n' +
        '/opt/api7\t/opt\t/dev/sdb1  102350  1000  99000  1% /opt\n',
    );
    expect(disks).toEqual([
      { dir: '/var/lib/docker', checked: '/var/lib', mount: '/', freeMb: 8123 },
      { dir: '/opt/api7', checked: '/opt', mount: '/opt', freeMb: 99000 },
    ]);
    expect(check.checkDisk(disks, 10240).map((f) => f.level)).toEqual(['fail', 'info']);
    expect(check.checkDisk(disks, 10240)[0].message).toBe('disk 8123 MB free under /var/lib/docker (on /) < 10240 MB (preflight_min_disk_mb)');
  });

  it('refuses an unknown OS and unsupported architectures', () => {
    expect(check.checkOs(parseOsRelease('ID=alpine\nPRETTY_NAME="Alpine Linux v3.19"\nPACKAGE_MANAGERS=\n'))[0].level).toBe('fail');
    expect(check.checkArch({ ...m, arch: 'ppc64le' })[0].level).toBe('fail');
    expect(check.checkArch({ ...m, arch: 'aarch64' })[0].level).toBe('info');
  });

  it('warns (never fails) on unsynchronised or unknown time', () => {
    expect(parseTimeSync('System clock synchronized: yes\n')).toEqual({ synced: true, source: 'timedatectl' });
    expect(parseTimeSync('NTP synchronized: no\n')).toEqual({ synced: false, source: 'timedatectl' });
    expect(parseTimeSync('Leap status     : Normal\n')).toEqual({ synced: true, source: 'chronyc' });
    expect(parseTimeSync('Leap status     : Not synchronised\n')).toEqual({ synced: false, source: 'chronyc' });
    for (const t of [{ synced: false, source: 'chronyc' }, { synced: undefined, source: 'none' }]) {
      expect(check.checkTimeSync(t)[0].level).toBe('warn');
    }
  });
});
