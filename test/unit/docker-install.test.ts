import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeContext } from '../../lib/context.ts';
import { FactCache } from '../../lib/facts.ts';
import { makePlayShared } from '../../lib/play-shared.ts';
import { Redactor } from '../../lib/redact.ts';
import { applyChange } from '../../lib/change.ts';
import { installChanges } from '../../roles/docker/apply-install.ts';
import { defaultInstallMethod, OFFLINE_DIR, planInstall, STATIC_UNIT_PATH, type InstallMethod, type InstallVars } from '../../roles/docker/install.ts';
import { FakeTransport, fakeInventory } from '../helpers/fake-transport.ts';
import { loadFacts, type Distro } from './fixtures/facts/load.ts';

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

  it('Debian 12 (the lab): candidates resolvable, so no apt-get update (works offline); of the kept Recommends only what the cache has (no xz-utils here)', () => {
    expect(commandsFor('debian12')).toEqual([
      'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends docker.io docker-compose apparmor ca-certificates',
    ]);
  });

  it('Ubuntu 22.04 with no apt lists: apt-get update first', () => {
    expect(commandsFor('ubuntu2204')).toEqual([
      'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update',
      'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends docker.io docker-compose apparmor ca-certificates xz-utils',
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
    // Everything lands in root's private folder first (checked there, apply-install.ts); compose is installed from it.
    expect(plan.uploads).toEqual([
      { local: '/srv/docker/docker-24.0.9.tgz', remote: '/var/lib/gatewright/docker-offline/docker-24.0.9.tgz', mode: 0o600 },
      { local: '/srv/docker/docker-compose-linux-x86_64', remote: '/var/lib/gatewright/docker-offline/docker-compose-linux-x86_64', mode: 0o700 },
    ]);
    expect(plan.commands).toEqual([
      'tar -xzf /var/lib/gatewright/docker-offline/docker-24.0.9.tgz -C /usr/bin --strip-components=1 --no-same-owner',
      'groupadd -f docker',
      'install -D -m 0755 -o root -g root -- /var/lib/gatewright/docker-offline/docker-compose-linux-x86_64 /usr/local/lib/docker/cli-plugins/docker-compose',
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
    ['debian12', 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y /var/lib/gatewright/docker-offline/a.deb /var/lib/gatewright/docker-offline/b.deb'],
    ['rocky9', "dnf install -y --disablerepo='*' --allowerasing /var/lib/gatewright/docker-offline/a.deb /var/lib/gatewright/docker-offline/b.deb"],
    ['centos7', "yum localinstall -y --disablerepo='*' /var/lib/gatewright/docker-offline/a.deb /var/lib/gatewright/docker-offline/b.deb"],
  ] as const)('packages copied from the controller on %s', (distro, command) => {
    expect(commandsFor(distro, 'offline', { offlinePackages: ['/pkgs/a.deb', '/pkgs/b.deb'] })).toEqual([command]);
  });

  it('offline without a bundle or packages says what to set', () => {
    expect(() => commandsFor('debian12', 'offline')).toThrow(/docker_offline_bundle/);
  });
});

describe('offline uploads are checked before anything installs them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-offline-'));
  const tgz = join(dir, 'docker-24.0.9.tgz');
  writeFileSync(tgz, 'static docker bundle\n');
  const want = createHash('sha256').update('static docker bundle\n').digest('hex');
  const plan = planInstall(loadFacts('debian12').os, vars('offline', { offlineBundle: tgz }), {}, 'none');
  const remote = plan.uploads[0].remote;

  /** The install's changes applied in order, as the runner does: a refused upload stops before the install. */
  const applyInstall = async (ctx: ReturnType<typeof context>['ctx'], p: typeof plan) => {
    for (const change of installChanges(ctx, p)) await applyChange(ctx, change);
  };

  function context(remoteSha: () => string) {
    const inventory = fakeInventory({ g: ['h1'] });
    const t = new FakeTransport('h1', (cmd) => (cmd.startsWith('sha256sum') ? { stdout: `${remoteSha()}  ${remote}\n` } : undefined));
    const ctx = makeContext(
      inventory.hosts.get('h1')!,
      { play: 'docker', step: 's', origin: 'h1', shared: makePlayShared([]), defaults: {}, resolveHost: (n) => inventory.hosts.get(n)! },
      { inventory, facts: new FactCache(), transports: async () => t, redactor: new Redactor(), emit: () => undefined, check: false, verbose: false },
    );
    return { ctx, t };
  }

  it('a matching upload is installed, from a root-owned 0700 folder', async () => {
    let uploaded = false;
    const { ctx, t } = context(() => (uploaded ? want : ''));
    const put = t.putFile.bind(t);
    t.putFile = async (...a) => ((uploaded = true), put(...a));
    await applyInstall(ctx, plan);
    expect(t.commands[0]).toBe(`install -d -m 0700 -o root -g root -- ${OFFLINE_DIR}`);
    expect(t.puts).toEqual([{ path: remote, content: `<file ${tgz}>`, opts: { mode: 0o600, become: true } }]);
    expect(t.commands.slice(-2)).toEqual(plan.commands);
  });

  it('a mismatch refuses, naming the file and the host, removes the upload and installs nothing', async () => {
    const { ctx, t } = context(() => 'f'.repeat(64));
    await expect(applyInstall(ctx, plan)).rejects.toThrow(
      `h1: ${remote} (uploaded from ${tgz}) has sha256 ${'f'.repeat(64)}, the controller's file has ${want}: refusing to install it`,
    );
    expect(t.commands.at(-1)).toBe(`rm -f -- ${remote}`);
    for (const c of plan.commands) expect(t.commands).not.toContain(c);
  });

  it('an upload already there with the right checksum is not sent again', async () => {
    const { ctx, t } = context(() => want);
    await applyInstall(ctx, plan);
    expect(t.puts).toEqual([]);
  });
});
