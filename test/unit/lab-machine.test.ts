import { describe, expect, it, vi } from 'vitest';

// These tests spell out lab 0's names; pure, so they must not follow a LAB_ID exported for the e2e runs.
vi.hoisted(() => {
  process.env.LAB_ID = '0';
});
import { parse } from 'yaml';
import { debianMirrors, imageSourcesList, sourceUris } from '../../lab/apt-sources.ts';
import { cutRules, forwardRule, ourRulesFromListing } from '../../lab/firewall.ts';
import { ourMountPoints } from '../../lab/teardown.ts';
import { knownHostsText } from '../../lab/keys.ts';
import { createArgs } from '../../lab/hosts.ts';
import { cannotRun, missingPackages } from '../../lab/preflight.ts';
import { dockerdArgs } from '../../lab/engine.ts';
import { findHost } from '../../lab/topology.ts';

describe('apt sources', () => {
  const deb822 = `Types: deb\n# http://snapshot.debian.org/archive/debian/20250520T000000Z\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n`;
  const oneLine = 'deb [arch=amd64 signed-by=/x.gpg] https://deb.nodesource.com/node_20.x nodistro main\n# deb http://commented/debian bookworm main\ndeb http://mirror.example/debian/ bookworm main\n';

  it('reads one-line and deb822 URIs, skipping comments', () => {
    expect(sourceUris(deb822)).toEqual(['http://deb.debian.org/debian', 'http://deb.debian.org/debian-security']);
    expect(sourceUris(oneLine)).toEqual(['https://deb.nodesource.com/node_20.x', 'http://mirror.example/debian/']);
  });

  it('picks the Debian mirror and its security mirror, ignoring third-party repositories', () => {
    expect(debianMirrors([oneLine, deb822])).toEqual({ main: 'http://mirror.example/debian', security: 'http://deb.debian.org/debian-security' });
    expect(() => debianMirrors(['deb https://deb.nodesource.com/node_20.x nodistro main'])).toThrow(/no Debian mirror/);
  });

  it('writes bookworm sources for the images', () => {
    expect(imageSourcesList({ main: 'http://m/debian', security: 'http://m/debian-security' })).toBe(
      'deb http://m/debian bookworm main\ndeb http://m/debian bookworm-updates main\ndeb http://m/debian-security bookworm-security main\n',
    );
  });
});

describe('iptables rules', () => {
  it('lets hosts talk across labbr0, tagged as ours', () => {
    expect(forwardRule()).toEqual(['FORWARD', '-i', 'labbr0', '-o', 'labbr0', '-m', 'comment', '--comment', 'gatewright-lab', '-j', 'ACCEPT']);
  });

  it('cuts a host both ways, between hosts and with the machine', () => {
    const rules = cutRules('10.77.0.13').map((r) => r.join(' '));
    expect(rules).toEqual([
      'FORWARD -i labbr0 -s 10.77.0.13 -m comment --comment gatewright-lab -j DROP',
      'FORWARD -o labbr0 -d 10.77.0.13 -m comment --comment gatewright-lab -j DROP',
      'INPUT -i labbr0 -s 10.77.0.13 -m comment --comment gatewright-lab -j DROP',
      'OUTPUT -o labbr0 -d 10.77.0.13 -m comment --comment gatewright-lab -j DROP',
    ]);
  });

  it('finds only our rules in a listing', () => {
    const listing = [
      '-P FORWARD DROP',
      '-A FORWARD -i labbr0 -o labbr0 -m comment --comment gatewright-lab -j ACCEPT',
      '-A FORWARD -j DOCKER-USER',
      '-A INPUT -s 10.77.0.13/32 -i labbr0 -m comment --comment gatewright-lab -j DROP',
      '-A INPUT -m comment --comment "gatewright-lab-other thing" -j ACCEPT',
      '-A INPUT -m comment --comment gatewright-lab-other -j ACCEPT',
    ].join('\n');
    expect(ourRulesFromListing(listing)).toEqual([
      ['FORWARD', '-i', 'labbr0', '-o', 'labbr0', '-m', 'comment', '--comment', 'gatewright-lab', '-j', 'ACCEPT'],
      ['INPUT', '-s', '10.77.0.13/32', '-i', 'labbr0', '-m', 'comment', '--comment', 'gatewright-lab', '-j', 'DROP'],
    ]);
  });
});

describe('teardown', () => {
  it('finds mounts under our directories, deepest first, and nothing else', () => {
    const mounts = [
      'overlay / overlay rw 0 0',
      'nsfs /run/gatewright-lab/exec/netns/default nsfs rw 0 0',
      'tmpfs /run/gatewright-lab tmpfs rw 0 0',
      'overlay /var/lib/gatewright-lab/engine/overlay2/abc/merged overlay rw 0 0',
      'tmpfs /run/gatewright-lab-other tmpfs rw 0 0',
      'nsfs /run/docker/netns/default nsfs rw 0 0',
    ].join('\n');
    expect(ourMountPoints(mounts)).toEqual([
      '/var/lib/gatewright-lab/engine/overlay2/abc/merged',
      '/run/gatewright-lab/exec/netns/default',
      '/run/gatewright-lab',
    ]);
  });
});

describe('hosts', () => {
  it('pins each host key by address in known_hosts', () => {
    expect(knownHostsText([{ ip: '10.77.0.11', publicKey: 'ssh-ed25519 AAAAC3Nz root@lab1\n' }])).toBe('10.77.0.11 ssh-ed25519 AAAAC3Nz\n');
  });

  it('runs a host unprivileged, with its address, its own /var/lib/docker and the stop signal of its init', () => {
    const args = createArgs(findHost('lab3'), 'gatewright-lab/host:abc', 'systemd', 'k1');
    const joined = args.join(' ');
    expect(args).not.toContain('--privileged');
    expect(joined).toContain('--network labnet --ip 10.77.0.13');
    expect(joined).toContain('--volume /var/lib/gatewright-lab/hosts/lab3/docker:/var/lib/docker');
    expect(joined).toContain('--cap-drop SYS_RESOURCE');
    expect(joined).toContain('--stop-signal SIGRTMIN+3');
    expect(joined).toContain('--add-host lab1:10.77.0.11');
    expect(joined).not.toContain('--add-host lab3:');
    expect(args.at(-1)).toBe('gatewright-lab/host:abc');
    expect(createArgs(findHost('lab3'), 'i', 'none', 'k1').join(' ')).toContain('--stop-signal SIGTERM');
    expect(joined).toContain('--label io.gatewright.lab.keys=k1');
  });

  it('runs its own engine without iptables or a default bridge', () => {
    const args = dockerdArgs();
    expect(args).toEqual(expect.arrayContaining(['--host', 'unix:///run/gatewright-lab/docker.sock', '--iptables=false', '--bridge=none', '--cgroup-parent=/gatewright-lab']));
  });
});

describe('preflight', () => {
  const debian = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n';
  it('says why the lab cannot run', () => {
    expect(cannotRun({ uid: 0, osRelease: debian, arch: 'x64', node: 'v20.20.2' })).toEqual([]);
    expect(cannotRun({ uid: 1000, osRelease: debian, arch: 'x64', node: 'v20.1.0' }).join()).toMatch(/must run as root/);
    expect(cannotRun({ uid: 0, osRelease: 'ID="centos"\n', arch: 'x64', node: 'v20.1.0' }).join()).toMatch(/needs a Debian machine \(this is "centos"\)/);
    expect(cannotRun({ uid: 0, osRelease: debian, arch: 'x64', node: 'v18.19.0' }).join()).toMatch(/Node.js 20/);
  });

  it('names the Debian packages of the missing tools, once each', () => {
    const has = new Set(['/usr/bin/zstd', '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/bin/openssl', '/usr/bin/gzip', '/usr/bin/tar']);
    expect(missingPackages((p) => has.has(p))).toEqual(['docker.io', 'debootstrap', 'iptables']);
  });
});
