// The lab as the roles meet it: hosts reachable over plain OpenSSH with strict host keys, ops with
// sudo, no root or password login, hosts that reach each other, the upstream's /get, no Docker yet
// (its .debs cached), well-formed offline bundles, and faults that break and restore a host.
import { describe, expect, it, afterAll, inject } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  API7_VERSIONS, DOCKER, ETCD_IMAGE, ETCD_VERSION, HOSTS, PATHS, cutHost, ensureLab, findHost, killHost, pauseHost,
  restoreHost, startHost, stopHost, unpauseHost,
} from '../../lab/index.ts';
import { loadInventory } from '../../lib/inventory.ts';

function ssh(host: string, command: string, opts: { user?: string; knownHosts?: string; extra?: string[] } = {}) {
  const r = spawnSync('ssh', [
    '-i', PATHS.clientKey,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${opts.knownHosts ?? PATHS.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=3',
    ...(opts.extra ?? []),
    `${opts.user ?? 'ops'}@${findHost(host).ip}`,
    command,
  ], { encoding: 'utf8', timeout: 15_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const ipOf = (host: string): string => findHost(host).ip;
const reachable = (host: string): boolean => ssh(host, 'true').code === 0;

function sh(command: string): string {
  const r = spawnSync('bash', ['-c', command], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${command}\n${r.stderr}`);
  return r.stdout;
}

const containerState = (host: string): string => sh(`${DOCKER.join(' ')} inspect --format '{{.State.Status}}' ${host}`).trim();
const containerId = (host: string): string => sh(`${DOCKER.join(' ')} inspect --format '{{.Id}}' ${host}`).trim();

describe('lab hosts', () => {
  it.each(HOSTS.map((h) => h.name))('%s: ops logs in with strict host keys and has passwordless sudo', (name) => {
    const r = ssh(name, 'hostname; sudo -n id -u');
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').slice(0, 2)).toEqual([name, '0']);
  });

  it('is refused when its host key is not the one in known_hosts', () => {
    const other = join(mkdtempSync(join(tmpdir(), 'lab-kh-')), 'known_hosts');
    const lab2Key = sh(`grep '^${ipOf('lab2')} ' ${PATHS.knownHosts}`).trim().split(' ').slice(1).join(' ');
    writeFileSync(other, `${ipOf('lab1')} ${lab2Key}\n`);
    const r = ssh('lab1', 'true', { knownHosts: other });
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  it('refuses root login and password login', () => {
    const root = ssh('lab1', 'true', { user: 'root' });
    expect(root.code).toBe(255);
    expect(root.stderr).toMatch(/Permission denied/);
    const password = ssh('lab1', 'true', { extra: ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive'] });
    expect(password.code).toBe(255);
    expect(password.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('runs systemd as PID 1 with every unit up', () => {
    const r = ssh('lab2', 'cat /proc/1/comm; systemctl is-system-running');
    expect(r.stdout.trim().split('\n')).toEqual(['systemd', 'running']);
  });

  it('lets a host reach another: lab1 gets upstream1:80/get', () => {
    const r = ssh('lab1', `curl -sf "http://${ipOf('upstream1')}/get?from=lab1"`);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body.origin).toBe(ipOf('lab1'));
    expect(body.args).toEqual({ from: 'lab1' });
  });

  it('serves an httpbin-like /get echo on upstream1', async () => {
    const res = await fetch(`http://${ipOf('upstream1')}/get?a=1&b=two`, { headers: { 'X-Probe': 'lab-test' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { args: Record<string, string>; headers: Record<string, string>; url: string };
    expect(body.args).toEqual({ a: '1', b: 'two' });
    expect(Object.entries(body.headers).some(([k, v]) => k.toLowerCase() === 'x-probe' && v === 'lab-test')).toBe(true);
    expect(body.url).toBe(`http://${ipOf('upstream1')}/get?a=1&b=two`);
  });

  // Only a host this run created is known to be as the lab delivers it (a reused lab has had roles run on it).
  it.for(HOSTS.map((h) => h.name))('%s: Docker is neither running nor installed, its .debs are cached', (name, ctx) => {
    if (!inject('labCreatedHosts').includes(name)) ctx.skip(`${name} existed before this run (lab reused)`);
    const r = ssh(name, 'pgrep -x dockerd; command -v dockerd; dpkg-query -W -f=\'${Status}\' docker.io 2>/dev/null; echo; ls /var/cache/apt/archives');
    const [procs, ...rest] = r.stdout.split('\n');
    expect(procs).toBe(''); // no dockerd, no dockerd binary, docker.io not installed
    expect(rest[0]).not.toContain('install ok installed');
    expect(r.stdout).toMatch(/docker\.io_[^\n]+\.deb/);
    expect(r.stdout).toMatch(/docker-compose_[^\n]+\.deb/);
    if (name === 'lb1') expect(r.stdout).toMatch(/haproxy_[^\n]+\.deb/);
  });
});

describe('lab inventory and bundles', () => {
  it('writes an inventory the runner reads, with the guide groups', () => {
    const inv = loadInventory(PATHS.inventory);
    expect(inv.groups.get('etcd')).toEqual(['lab1', 'lab2', 'lab3']);
    expect(inv.groups.get('control')).toEqual(['lab1', 'lab2']);
    expect(inv.groups.get('gateway')).toEqual(['lab4', 'lab5']);
    expect(inv.groups.get('lb')).toEqual(['lb1']);
    expect(inv.groups.get('upstream')).toEqual(['upstream1']);
    expect(inv.hosts.get('lab1')!.vars.ssh_known_hosts_file).toBe(PATHS.knownHosts);
  });

  it('ships etcd as a loadable image tarball', () => {
    const file = join(PATHS.bundlesDir, `etcd-${ETCD_VERSION}.tar.gz`);
    expect(sh(`tar -xzOf ${file} manifest.json`)).toContain(`"${ETCD_IMAGE}"`);
  });

  it.each(API7_VERSIONS.flatMap((v) => [[v, 'cp', 'dashboard', 'dashboard_conf/conf.yaml'], [v, 'dp', 'gateway', 'gateway_conf/config.yaml']]))(
    'ships %s %s in the guide layout',
    (version, plane, name, conf) => {
      const dir = `api7-${version}-${plane}`;
      const file = join(PATHS.bundlesDir, `${dir}.tar.gz`);
      const listing = sh(`tar -tzf ${file}`).split('\n').filter((l) => !l.endsWith('/') && l);
      expect(listing.sort()).toEqual([`${dir}/${conf}`, `${dir}/docker-compose.yaml`, `${dir}/images/api7-${name}-${version}.tar.gz`].sort());
      const compose = sh(`tar -xzOf ${file} ${dir}/docker-compose.yaml`);
      expect(compose).toContain(`image: api7/api7-${name}:${version}`);
      expect(compose).toContain('network_mode: host');
      const manifest = sh(`tar -xzOf ${file} ${dir}/images/api7-${name}-${version}.tar.gz | tar -xzOf - manifest.json`);
      expect(manifest).toContain(`"api7/api7-${name}:${version}"`);
    },
  );

  it('has nothing else in the bundle directory', () => {
    const files = readdirSync(PATHS.bundlesDir).filter((f) => !f.startsWith('.'));
    expect(files.sort()).toEqual([
      ...API7_VERSIONS.flatMap((v) => [`api7-${v}-cp.tar.gz`, `api7-${v}-dp.tar.gz`]),
      `etcd-${ETCD_VERSION}.tar.gz`,
    ].sort());
  });
});

describe('lab faults', () => {
  const victim = 'lab5';
  afterAll(async () => {
    await restoreHost(victim);
    await startHost(victim);
  });

  it.each([
    { title: 'stop: a clean shutdown, then start boots it again', fault: stopHost, state: 'exited', mend: startHost },
    { title: 'kill: a power cut, then start boots it again', fault: killHost, state: 'exited', mend: startHost },
    { title: 'pause: the host hangs (no answer), unpause thaws it', fault: pauseHost, state: 'paused', mend: unpauseHost },
  ])('$title', async ({ fault, state, mend }) => {
    await fault(victim);
    expect(containerState(victim)).toBe(state);
    expect(reachable(victim)).toBe(false);
    await mend(victim);
    expect(reachable(victim)).toBe(true);
  });

  it('cut: neither the machine nor another host reaches it; restore brings it back', async () => {
    await cutHost(victim);
    expect(containerState(victim)).toBe('running');
    expect(reachable(victim)).toBe(false);
    expect(ssh('lab1', `nc -z -w 2 ${ipOf('lab5')} 22`).code).not.toBe(0);
    expect(ssh('lab1', `nc -z -w 2 ${ipOf('lab4')} 22`).code).toBe(0); // only the victim is cut
    await restoreHost(victim);
    expect(reachable(victim)).toBe(true);
    expect(ssh('lab1', `nc -z -w 2 ${ipOf('lab5')} 22`).code).toBe(0);
  });

  it('up again leaves the same lab and brings a stopped host back', async () => {
    const before = HOSTS.map((h) => containerId(h.name));
    await stopHost(victim);
    await ensureLab();
    expect(HOSTS.map((h) => containerId(h.name))).toEqual(before);
    expect(containerState(victim)).toBe('running');
    expect(reachable(victim)).toBe(true);
    expect(existsSync(PATHS.inventory)).toBe(true);
  });
});
