// The lab as the roles meet it: hosts reachable over plain OpenSSH with strict host keys, ops with
// sudo, no root or password login, hosts that reach each other, the upstream's /get, no Docker yet
// (its .debs cached), well-formed offline bundles, and faults that break and restore a host.
import { describe, expect, it, afterAll, inject } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  API7_IMAGE_TAGS, API7_VERSIONS, DOCKER, ETCD_IMAGE, ETCD_VERSION, HOSTS, PATHS, cutHost, ensureLab, findHost, killHost, pauseHost,
  restoreHost, startHost, stopHost, unpauseHost,
} from '../../lab/index.ts';
import { loadInventory } from '../../lib/inventory.ts';
import { composeFile } from '../../lab/bundle-files.ts';

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

  it('ships etcd as a loadable image tarball named as bitnami names it', () => {
    const file = join(PATHS.bundlesDir, `etcd-${ETCD_VERSION}.tar.gz`);
    expect(ETCD_IMAGE).toBe(`bitnami/etcd:${ETCD_VERSION}`);
    expect(sh(`tar -xzOf ${file} manifest.json`)).toContain(`"${ETCD_IMAGE}"`);
  });

  it.each(API7_VERSIONS.flatMap((v) => [[v, 'cp', 'dashboard'], [v, 'dp', 'gateway']]))(
    'ships %s %s in the guide layout, its image named by the registry with the tag of the image',
    (version, plane, name) => {
      const dir = `api7-${version}-${plane}`;
      const tag = API7_IMAGE_TAGS[version as keyof typeof API7_IMAGE_TAGS];
      const file = join(PATHS.bundlesDir, `${dir}.tar.gz`);
      const listing = sh(`tar -tvzf ${file}`).split('\n').filter(Boolean).map((l) => {
        const words = l.split(/\s+/);
        return `${words[0]} ${words.at(-1)}`;
      });
      const image = `${dir}/images/api7-${name}-${version}.tar.gz`;
      const expected = plane === 'cp'
        ? [`drwxr-xr-x ${dir}/`, `drwxr-xr-x ${dir}/dashboard_conf/`, `-rw-r--r-- ${dir}/dashboard_conf/conf.yaml`, `-rw-r--r-- ${dir}/docker-compose.yaml`, `drwxr-xr-x ${dir}/images/`, `-rw-r--r-- ${image}`]
        : [`drwxr-xr-x ${dir}/`, `-rwxr-xr-x ${dir}/cli.sh`, `-rw-r--r-- ${dir}/docker-compose.yaml`, `drwxr-xr-x ${dir}/gateway_conf/`, `-rw-r--r-- ${dir}/gateway_conf/config.yaml`, `drwxr-xr-x ${dir}/gateway_logs/`, `drwxr-xr-x ${dir}/images/`, `-rw-r--r-- ${image}`];
      expect(listing.sort()).toEqual(expected.sort());
      const compose = sh(`tar -xzOf ${file} ${dir}/docker-compose.yaml`);
      expect(compose).toBe(composeFile(plane as 'cp' | 'dp', version, tag));
      expect(compose).toContain(`image: api7ee.azurecr.io/api7-${name}:${tag}\n`);
      const manifest = JSON.parse(sh(`tar -xzOf ${file} ${image} | tar -xzOf - manifest.json`)) as { RepoTags: string[] }[];
      expect(manifest.map((m) => m.RepoTags)).toEqual([[`api7ee.azurecr.io/api7-${name}:${tag}`]]);
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

// The lab's etcd image keeps bitnami/etcd's contract, checked on the lab's own engine (no network).
describe('lab etcd image (bitnami/etcd contract)', () => {
  const docker = (args: string) => spawnSync('bash', ['-c', `${DOCKER.join(' ')} ${args}`], { encoding: 'utf8', timeout: 60_000 });
  const data = mkdtempSync(join(tmpdir(), 'lab-etcd-data-'));
  const name = `etcd-contract-${process.pid}`;
  afterAll(() => {
    docker(`rm -f ${name}`);
    rmSync(data, { recursive: true, force: true });
  });

  it('refuses to start without ALLOW_NONE_AUTHENTICATION=yes when no root password is set', () => {
    const r = docker(`run --rm --network none ${ETCD_IMAGE}`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Set the environment variable ALLOW_NONE_AUTHENTICATION=yes');
  });

  it('runs as 1001: a root-owned data directory needs -u root, as the guide runs it', () => {
    const r = docker(`run --rm --network none -e ALLOW_NONE_AUTHENTICATION=yes -e ETCD_DATA_DIR=/etcd_data -v ${data}:/etcd_data ${ETCD_IMAGE}`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('/etcd_data is not writable by user 1001');
  });

  it("runs the guide's docker run: ETCD_* env, data in /etcd_data, v2 on, /entrypoint.sh etcd", async () => {
    const env = {
      ALLOW_NONE_AUTHENTICATION: 'yes', ETCD_NAME: 'api7-etcd-1', ETCD_LISTEN_PEER_URLS: 'http://0.0.0.0:2380',
      ETCD_LISTEN_CLIENT_URLS: 'http://0.0.0.0:2379', ETCD_ADVERTISE_CLIENT_URLS: 'http://127.0.0.1:2379',
      ETCD_INITIAL_ADVERTISE_PEER_URLS: 'http://127.0.0.1:2380', ETCD_INITIAL_CLUSTER_TOKEN: 'etcd-cluster',
      ETCD_INITIAL_CLUSTER: 'api7-etcd-1=http://127.0.0.1:2380', ETCD_DATA_DIR: '/etcd_data', ETCD_ENABLE_V2: 'true',
    };
    const flags = Object.entries(env).map(([k, v]) => `-e ${k}=${v}`).join(' ');
    expect(docker(`run -d --name ${name} --restart always -u root -v ${data}:/etcd_data ${flags} --network none ${ETCD_IMAGE}`).status).toBe(0);
    expect(docker(`inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' ${name}`).stdout.trim()).toBe('["/entrypoint.sh"] ["etcd"]');
    let health = docker(`exec ${name} etcdctl endpoint health`);
    for (let i = 0; i < 40 && health.status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      health = docker(`exec ${name} etcdctl endpoint health`);
    }
    expect(health.status, health.stderr).toBe(0);
    expect(docker(`exec ${name} bash -c "etcdctl member list"`).stdout).toMatch(/, started, api7-etcd-1, http:\/\/127\.0\.0\.1:2380,/);
    expect(docker(`exec -e ETCDCTL_API=2 ${name} etcdctl set /v2-probe on`).stdout.trim()).toBe('on'); // ETCD_ENABLE_V2
    expect(existsSync(join(data, 'member'))).toBe(true);
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
