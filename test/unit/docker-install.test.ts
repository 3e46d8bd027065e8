import { describe, expect, it } from 'vitest';
import { loadFacts, type Distro } from './fixtures/facts/load.ts';
import { defaultInstallMethod, planInstall, STATIC_UNIT_PATH, type InstallMethod, type InstallVars } from '../../roles/docker/install.ts';

const vars = (method: InstallMethod, extra: Partial<InstallVars> = {}): InstallVars => ({
  method,
  repoUrl: 'https://download.docker.com',
  offlinePackages: [],
  ...extra,
});

function commandsFor(distro: Distro, method?: InstallMethod, extra: Partial<InstallVars> = {}): string[] {
  const f = loadFacts(distro);
  return planInstall(f.os, vars(method ?? defaultInstallMethod(f.os), extra), f.aptCandidates, f.docker.init).commands;
}

describe('default method per OS family', () => {
  it.each([
    ['centos7', 'docker-ce'],
    ['rocky9', 'docker-ce'],
    ['debian12', 'distro'],
    ['ubuntu2204', 'distro'],
  ] as const)('%s -> %s', (distro, method) => {
    expect(defaultInstallMethod(loadFacts(distro).os)).toBe(method);
  });
});

describe('planned commands from recorded facts', () => {
  it('CentOS 7: removes docker 1.13, adds Docker CE repo, installs with yum', () => {
    expect(commandsFor('centos7')).toEqual([
      'yum remove -y docker docker-client docker-client-latest docker-common docker-latest docker-latest-logrotate docker-logrotate docker-engine',
      'yum install -y yum-utils',
      'yum-config-manager --add-repo https://download.docker.com/linux/centos/docker-ce.repo',
      'yum install -y docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin',
    ]);
  });

  it('Rocky 9: dnf config-manager, --allowerasing past podman', () => {
    expect(commandsFor('rocky9')).toEqual([
      'dnf install -y dnf-plugins-core',
      'dnf config-manager --add-repo https://download.docker.com/linux/centos/docker-ce.repo',
      'dnf install -y --allowerasing docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin',
    ]);
  });

  it('Rocky 9 through a mirror: the repo file points at the mirror', () => {
    expect(commandsFor('rocky9', 'docker-ce', { repoUrl: 'https://mirror.corp/docker' })).toEqual([
      'dnf install -y dnf-plugins-core',
      'dnf config-manager --add-repo https://mirror.corp/docker/linux/centos/docker-ce.repo',
      "sed -i 's|https://download.docker.com|https://mirror.corp/docker|g' /etc/yum.repos.d/docker-ce.repo",
      'dnf install -y --allowerasing docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin',
    ]);
  });

  it('Debian 12 (the lab): candidates resolvable, so no apt-get update (works offline)', () => {
    expect(commandsFor('debian12')).toEqual(['DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y docker.io docker-compose']);
  });

  it('Ubuntu 22.04 with no apt lists: apt-get update first', () => {
    expect(commandsFor('ubuntu2204')).toEqual([
      'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update',
      'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y docker.io docker-compose',
    ]);
  });

  it('Ubuntu 22.04 from Docker CE: keyring, source line for its codename, packages', () => {
    expect(commandsFor('ubuntu2204', 'docker-ce')).toEqual([
      'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y ca-certificates curl',
      'install -m 0755 -d /etc/apt/keyrings',
      'curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc',
      'chmod a+r /etc/apt/keyrings/docker.asc',
      `printf 'deb [arch=%s signed-by=%s] %s %s stable\\n' "$(dpkg --print-architecture)" /etc/apt/keyrings/docker.asc https://download.docker.com/linux/ubuntu jammy > /etc/apt/sources.list.d/docker.list`,
      'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update',
      'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin',
    ]);
  });

  it('distro on the RHEL family is refused with the way out', () => {
    expect(() => commandsFor('centos7', 'distro')).toThrow(/ships no Docker >= 20.10.*docker_install_method: docker-ce/);
  });
});

describe('offline', () => {
  it('static bundle: upload, unpack into /usr/bin, docker group, our systemd unit', () => {
    const f = loadFacts('centos7');
    const plan = planInstall(
      f.os,
      vars('offline', { offlineBundle: '/srv/docker/docker-24.0.9.tgz', offlineCompose: '/srv/docker/docker-compose-linux-x86_64' }),
      {},
      'systemd',
    );
    expect(plan.uploads).toEqual([
      { local: '/srv/docker/docker-24.0.9.tgz', remote: '/var/tmp/gatewright-docker/docker-24.0.9.tgz', mode: 0o644 },
      { local: '/srv/docker/docker-compose-linux-x86_64', remote: '/usr/local/lib/docker/cli-plugins/docker-compose', mode: 0o755 },
    ]);
    expect(plan.commands).toEqual([
      'tar -xzf /var/tmp/gatewright-docker/docker-24.0.9.tgz -C /usr/bin --strip-components=1 --no-same-owner',
      'groupadd -f docker',
      'systemctl daemon-reload',
    ]);
    expect(plan.files.map((x) => x.path)).toEqual([STATIC_UNIT_PATH]);
    expect(plan.files[0].content).toContain('ExecStart=/usr/bin/dockerd');
  });

  it('static bundle on a host without systemd: no unit (the role starts dockerd detached)', () => {
    const f = loadFacts('debian12');
    const plan = planInstall(f.os, vars('offline', { offlineBundle: 'bundles/docker-24.0.9.tgz' }), {}, 'none');
    expect(plan.files).toEqual([]);
    expect(plan.commands).not.toContain('systemctl daemon-reload');
  });

  it.each([
    ['debian12', 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y /var/tmp/gatewright-docker/a.deb /var/tmp/gatewright-docker/b.deb'],
    ['rocky9', "dnf install -y --disablerepo='*' --allowerasing /var/tmp/gatewright-docker/a.deb /var/tmp/gatewright-docker/b.deb"],
    ['centos7', "yum localinstall -y --disablerepo='*' /var/tmp/gatewright-docker/a.deb /var/tmp/gatewright-docker/b.deb"],
  ] as const)('packages copied from the controller on %s', (distro, command) => {
    expect(commandsFor(distro, 'offline', { offlinePackages: ['/pkgs/a.deb', '/pkgs/b.deb'] })).toEqual([command]);
  });

  it('offline without a bundle or packages says what to set', () => {
    expect(() => commandsFor('debian12', 'offline')).toThrow(/docker_offline_bundle/);
  });
});
