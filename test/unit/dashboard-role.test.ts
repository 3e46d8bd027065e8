// The dashboard role on scripted control hosts: facts in, commands out. A fresh host gets the guide's steps; a
// converged one costs one batched read and one health read (plus the console API on the play's first host);
// each drift plans exactly the commands that close it; a read that fails is an error, never "absent".
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AUTH_OFF_WARNING } from '../../ops/etcd-auth-off.ts';
import { AUTH_OFF_WARNING as ETCD_PLAYS } from '../../roles/etcd/auth.ts';
import { IMAGES_CMD } from '../../ops/docker.ts';
import dashboard from '../../roles/dashboard/index.ts';
import { bundles, CP, dirOf, imageTarballOf, PlaneHost, runRole, tarballOf, VERSION } from '../helpers/plane-host.ts';

const DIR = dirOf(CP);
const CONF = `${DIR}/dashboard_conf/conf.yaml`;
const UP = `cd ${DIR} && docker compose up -d --force-recreate api7-dashboard`;

let bundleDir: string;
let sha: string;
/** conf.yaml as a first run writes it (the named keys filled), and the token secret it settled. */
let converged: { conf: string; secret: string };

const hostsOf = (make: (h: PlaneHost) => void = () => undefined) => {
  const hosts = { c1: new PlaneHost(CP, 'c1'), c2: new PlaneHost(CP, 'c2') };
  for (const h of Object.values(hosts)) {
    h.deployed(sha, converged.conf, '600');
    h.write('/opt/api7/dashboard_jwt_secret', `${converged.secret}\n`, '600');
    make(h);
  }
  return hosts;
};
const run = (hosts: Record<string, PlaneHost>, check = false) => runRole(dashboard, 'control', hosts, bundleDir, { check });

beforeAll(async () => {
  const b = bundles();
  bundleDir = b.dir;
  sha = await b.sha.cp;
  const fresh = { c1: new PlaneHost(CP, 'c1'), c2: new PlaneHost(CP, 'c2') };
  await run(fresh);
  converged = { conf: fresh.c1.files.get(CONF)!.content, secret: fresh.c1.files.get('/opt/api7/dashboard_jwt_secret')!.content.trim() };
});

describe('dashboard role: a fresh host', () => {
  it("gets the guide's steps in order, each once: upload, unpack, load, conf, compose up (gated); a rerun changes nothing", async () => {
    const hosts = { c1: new PlaneHost(CP, 'c1'), c2: new PlaneHost(CP, 'c2') };
    const first = await run(hosts);
    expect(first.summary.exitCode).toBe(0);
    expect(first.changed('c2')).toEqual([
      'console token secret',
      'upload the cp bundle',
      'unpack the cp bundle',
      'load the cp images',
      'dashboard conf.yaml (named keys)',
      'dashboard running and healthy',
    ]);
    expect(hosts.c2.changes).toEqual([
      'mkdir -p -- /opt/api7/bundles',
      `mkdir -p -- ${DIR} && tar -xzf ${tarballOf(CP)} -C ${DIR} --no-same-owner --strip-components=1 && printf '%s\\n' ${sha} > ${DIR}/.gatewright-bundle`,
      `docker load -i ${imageTarballOf(CP)}`,
      UP,
    ]);
    // After a change the next steps read again what they look at (the batch's copy is stale: the unpack wrote the
    // compose file, the load added images): the compose file after the unpack and after the conf write.
    expect(hosts.c2.log.filter((c) => c.startsWith(`if [ -f ${DIR}/docker-compose.yaml ]`))).toHaveLength(2);
    expect(hosts.c2.log.filter((c) => c === IMAGES_CMD)).toHaveLength(3);
    // Both hosts share one token secret, root-only; the conf holds the console password: 0600.
    expect(hosts.c1.files.get('/opt/api7/dashboard_jwt_secret')).toMatchObject({ mode: '600', content: hosts.c2.files.get('/opt/api7/dashboard_jwt_secret')!.content });
    expect(hosts.c2.files.get(CONF)!.mode).toBe('600');
    const again = await run(hosts);
    expect(again.summary.results.filter((r) => r.status === 'changed' || r.status === 'failed')).toEqual([]);
  });

  it('--check plans every step without a bundle folder yet, and runs nothing but reads', async () => {
    const hosts = { c1: new PlaneHost(CP, 'c1'), c2: new PlaneHost(CP, 'c2') };
    const r = await run(hosts, true);
    expect(r.summary.exitCode).toBe(0);
    expect(r.step('c2', 'unpack the cp bundle')?.planned).toEqual([
      `$ mkdir -p -- ${DIR} && tar -xzf ${tarballOf(CP)} -C ${DIR} --no-same-owner --strip-components=1 && printf '%s\\n' ${sha} > ${DIR}/.gatewright-bundle`,
    ]);
    expect(r.step('c2', 'dashboard running and healthy')?.changes).toEqual([`dashboard: docker compose up -d in ${DIR} (once the bundle is unpacked)`]);
    expect(hosts.c2.log).toEqual(['batch: 11 facts']);
  });
});

describe("dashboard role: conf.yaml's allow_list", () => {
  it('stays as shipped without dashboard_allow_list; set, it is written with loopback and the control hosts (the console API callers)', async () => {
    expect(parse(converged.conf).conf.allow_list).toEqual(['0.0.0.0/0']);
    const hosts = hostsOf();
    const r = await runRole(dashboard, 'control', hosts, bundleDir, {}, { dashboard_allow_list: ['192.0.2.0/24'] });
    expect(r.summary.exitCode).toBe(0);
    expect(r.changed('c2')).toEqual(['dashboard conf.yaml (named keys)', 'dashboard running and healthy']);
    expect(parse(hosts.c2.files.get(CONF)!.content).conf.allow_list).toEqual(['127.0.0.1', 'c1', 'c2', '192.0.2.0/24']);
  });
});

describe('dashboard role: a converged host', () => {
  it("is ok everywhere, for one batched read with the health read in it (the first host's batch also logs in and GETs the cluster)", async () => {
    const hosts = hostsOf();
    const r = await run(hosts);
    expect(r.summary.exitCode).toBe(0);
    expect(new Set(r.summary.results.map((x) => x.status))).toEqual(new Set(['ok', 'skipped']));
    expect(r.summary.results.filter((x) => x.status === 'skipped').map((x) => `${x.host} ${x.step}`).sort()).toEqual([
      'c1 etcd client certificates',
      'c2 data-plane cluster exists (console API)',
      'c2 etcd client certificates',
    ]);
    // The /ping health read rides in the batch; nothing changed since, so the gate takes it.
    expect(hosts.c2.log).toEqual(['batch: 11 facts']);
    // The console's login and GET of the cluster ride in the first control host's batch too.
    expect(hosts.c1.log).toEqual(['batch: 12 facts']);
  });
});

describe('dashboard role: each drift, the exact commands that close it (--check)', () => {
  const planned = async (drift: (h: PlaneHost) => void) => {
    const hosts = hostsOf((h) => h.name === 'c2' && drift(h));
    const r = await run(hosts, true);
    expect(r.summary.exitCode).toBe(0);
    return r.summary.results.filter((x) => x.host === 'c2' && x.status === 'changed').map((x) => [x.step, ...(x.planned ?? [])]);
  };

  it.each([
    ['a different bundle on the host', (h: PlaneHost) => h.write(`${tarballOf(CP)}.sha`, 'e'.repeat(64)), [
      ['upload the cp bundle', '$ mkdir -p -- /opt/api7/bundles'],
    ]],
    ['the folder holds another bundle', (h: PlaneHost) => h.write(`${DIR}/.gatewright-bundle`, 'old\n'), [
      ['unpack the cp bundle', `$ mkdir -p -- ${DIR} && tar -xzf ${tarballOf(CP)} -C ${DIR} --no-same-owner --strip-components=1 && printf '%s\\n' <sha> > ${DIR}/.gatewright-bundle`],
    ]],
    ['the image was removed', (h: PlaneHost) => h.images.clear(), [
      ['load the cp images', `$ docker load -i ${imageTarballOf(CP)}`],
      ['dashboard running and healthy', `$ ${UP}`],
    ]],
    ['a named key edited by hand', (h: PlaneHost) => h.write(CONF, converged.conf.replace('/api7', '/other'), '600'), [
      ['dashboard conf.yaml (named keys)', `write ${CONF} (mode 0600, owner root:root) [secret content]`],
      ['dashboard running and healthy', `$ ${UP}`],
    ]],
    ['the conf written after the container started', (h: PlaneHost) => h.write(CONF, converged.conf, '600'), [
      ['dashboard running and healthy', `$ ${UP}`],
    ]],
    ['the container stopped', (h: PlaneHost) => (h.containers[0].running = false), [
      ['dashboard running and healthy', `$ ${UP}`],
    ]],
    ['the previous version still runs from its folder', (h: PlaneHost) => (h.containers = [{ ...h.containers[0], dir: '/opt/api7/api7-2.13.2209-cp', project: 'api7-2132209-cp' }]), [
      ['dashboard running and healthy', '$ if [ -d /opt/api7/api7-2.13.2209-cp ]; then cd /opt/api7/api7-2.13.2209-cp && docker compose -p api7-2132209-cp down; else docker rm -f c0; fi', `$ ${UP}`],
    ]],
    ['our override is no longer needed', (h: PlaneHost) => h.write(`${DIR}/docker-compose.override.yaml`, '# Written by gatewright: old\n'), [
      ['cp compose override (certificates, SELinux labels)', `$ rm -f -- ${DIR}/docker-compose.override.yaml`],
      ['dashboard running and healthy', `$ ${UP}`],
    ]],
    ['the token secret file is gone from one host', (h: PlaneHost) => h.files.delete('/opt/api7/dashboard_jwt_secret'), [
      ['console token secret', 'write /opt/api7/dashboard_jwt_secret (mode 0600, owner root:root) [secret content]'],
    ]],
  ])('%s', async (_what, drift, want) => {
    const got = await planned(drift);
    expect(got.map((lines) => lines.map((l) => l.replace(sha, '<sha>')))).toEqual(want);
  });
});

describe('dashboard role: SELinux enforcing', () => {
  const OVERRIDE = `${DIR}/docker-compose.override.yaml`;
  const enforcing = () => hostsOf((h) => h.name === 'c2' && (h.selinux = 'Enforcing'));

  it("--check plans the override (the vendor's :ro mount relabelled :ro,Z) and the recreate that reads it", async () => {
    const r = await run(enforcing(), true);
    expect(r.summary.exitCode).toBe(0);
    expect(r.summary.results.filter((x) => x.status === 'changed').map((x) => [x.host, x.step, ...(x.planned ?? [])])).toEqual([
      ['c2', 'cp compose override (certificates, SELinux labels)', `write ${OVERRIDE} (mode 0644)`],
      ['c2', 'dashboard running and healthy', `$ ${UP}`],
    ]);
  });

  it('the run writes it, recreates the dashboard once, and a rerun changes nothing', async () => {
    const hosts = enforcing();
    const r = await run(hosts);
    expect(r.summary.exitCode).toBe(0);
    expect(r.changed('c2')).toEqual(['cp compose override (certificates, SELinux labels)', 'dashboard running and healthy']);
    expect(r.changed('c1')).toEqual([]);
    expect(hosts.c2.changes).toEqual([UP]);
    expect(hosts.c2.files.get(OVERRIDE)!.content).toContain('\n      - ./dashboard_conf/conf.yaml:/usr/local/apisix-dashboard/conf/conf.yaml:ro,Z\n');
    const again = await run(hosts);
    expect(again.summary.results.filter((x) => x.status === 'changed' || x.status === 'failed')).toEqual([]);
  });
});

describe('dashboard role: etcd auth off is said in the recap, in the words of the etcd play (one copy per run)', () => {
  it('once, though both control hosts write a conf without credentials; not with auth on', async () => {
    expect(AUTH_OFF_WARNING).toBe(ETCD_PLAYS);
    const off = await run(hostsOf());
    expect(off.summary.warnings).toEqual([{ play: 'dashboard', host: expect.stringMatching(/^c[12]$/), message: AUTH_OFF_WARNING }]);
    const on = await runRole(dashboard, 'control', hostsOf(), bundleDir, {}, { etcd_auth_enabled: true, etcd_root_password: 'etcd-root-pw' });
    expect(on.summary.exitCode).toBe(0);
    expect(on.summary.warnings ?? []).toEqual([]);
  });
});

describe('dashboard role: a read that fails is an error naming host and step, never "absent"', () => {
  it.each([
    ['the engine does not answer', 'docker image ls', 'Cannot connect to the Docker daemon', 'load the cp images', /docker image ls failed: Cannot connect to the Docker daemon on c2/],
    ['conf.yaml cannot be read', `if [ -f ${CONF} ]`, 'sudo: a password is required', 'dashboard conf.yaml (named keys)', new RegExp(`cannot read ${CONF}: sudo: a password is required on c2`)],
    ["the service's containers cannot be listed", 'ids=$(docker ps', 'Cannot connect to the Docker daemon', 'dashboard running and healthy', /cannot list the containers of api7-dashboard: Cannot connect to the Docker daemon on c2/],
  ])('%s: the step fails, nothing is written or run', async (_what, match, stderr, stepName, message) => {
    const hosts = hostsOf((h) => h.name === 'c2' && h.failing.push({ match, stderr }));
    const r = await run(hosts);
    expect(r.step('c2', stepName)).toMatchObject({ status: 'failed', reason: expect.stringMatching(message) });
    expect(r.summary.results.filter((x) => x.host === 'c2' && x.status === 'changed')).toEqual([]);
    expect(hosts.c2.log.filter((c) => !c.startsWith('batch') && !c.includes(match))).toEqual([]);
  });

  it('a dashboard that never answers /ping fails its step after health_timeout', async () => {
    const hosts = hostsOf((h) => (h.healthy = h.name !== 'c2'));
    const r = await run(hosts);
    expect(r.step('c2', 'dashboard running and healthy')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/dashboard on c2: not healthy after 1 s \(last: GET \/ping answered 0/) });
  });
});

describe('dashboard role: its steps are the guide\'s, in order', () => {
  it('lists every step by name', () => {
    expect(dashboard.steps.map((s) => s.name)).toEqual([
      'console token secret',
      'upload the cp bundle',
      'unpack the cp bundle',
      'load the cp images',
      'cp compose images present',
      'etcd client certificates',
      'dashboard conf.yaml (named keys)',
      'cp compose override (certificates, SELinux labels)',
      'dashboard running and healthy',
      'data-plane cluster exists (console API)',
    ]);
    expect(VERSION).toBe('2.13.2304');
  });
});
