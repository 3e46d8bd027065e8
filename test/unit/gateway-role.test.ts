// The gateway role on scripted gateway hosts (and the control host whose console holds the probe route): facts
// in, commands out. Converged: one batched read and one health read per gateway; each drift plans exactly the
// commands that close it; a failed read or a gateway that does not serve fails its step, naming the host.
import { beforeAll, describe, expect, it } from 'vitest';
import gateway from '../../roles/gateway/index.ts';
import { curlSeqCmd } from '../../ops/curl.ts';
import { AUTH_OFF_WARNING } from '../../ops/etcd-auth-off.ts';
import { gatewayHealthRequests } from '../../ops/gateway-health.ts';
import { bundles, CP, dirOf, DP, imageTarballOf, PlaneHost, runRole, tarballOf } from '../helpers/plane-host.ts';
import { READS_MARK } from '../../ops/console-session.ts';

const DIR = dirOf(DP);
const CONF = `${DIR}/gateway_conf/config.yaml`;
const UP = `cd ${DIR} && docker compose up -d --force-recreate api7-gateway`;
/** The gate's one read: metrics, then the HTTP port through the probe route this run saw in place. */
const HEALTH = curlSeqCmd(gatewayHealthRequests({ gateway_prometheus_port: 9091, gateway_http_port: 80 }, true));

let bundleDir: string;
let sha: string;
let converged: string;

const hostsOf = (make: (h: PlaneHost) => void = () => undefined) => {
  const hosts = { g1: new PlaneHost(DP, 'g1'), g2: new PlaneHost(DP, 'g2'), c1: new PlaneHost(CP, 'c1') };
  for (const h of [hosts.g1, hosts.g2]) {
    h.deployed(sha, converged, '644');
    make(h);
  }
  return hosts;
};
const run = (hosts: Record<string, PlaneHost>, check = false) => runRole(gateway, 'gateway', hosts, bundleDir, { check });
/** The run's warnings but the one every run with etcd auth off gives (its own test below). */
const warned = (r: Awaited<ReturnType<typeof run>>) => (r.summary.warnings ?? []).map((w) => w.message).filter((m) => m !== AUTH_OFF_WARNING);

beforeAll(async () => {
  const b = bundles();
  bundleDir = b.dir;
  sha = await b.sha.dp;
  const fresh = { g1: new PlaneHost(DP, 'g1'), g2: new PlaneHost(DP, 'g2'), c1: new PlaneHost(CP, 'c1') };
  await run(fresh);
  converged = fresh.g1.files.get(CONF)!.content;
});

describe('gateway role: a fresh host', () => {
  it("gets the guide's steps: upload, unpack, load, config.yaml's etcd keys, compose up (gated); a rerun changes nothing", async () => {
    const hosts = { g1: new PlaneHost(DP, 'g1'), g2: new PlaneHost(DP, 'g2'), c1: new PlaneHost(CP, 'c1') };
    const first = await run(hosts);
    expect(first.summary.exitCode).toBe(0);
    expect(first.changed('g2')).toEqual([
      'upload the dp bundle',
      'unpack the dp bundle',
      'load the dp images',
      'gateway config.yaml (named keys)',
      'gateway running and routing',
    ]);
    expect(hosts.g2.changes).toEqual([
      'mkdir -p -- /opt/api7/bundles',
      `mkdir -p -- ${DIR} && tar -xzf ${tarballOf(DP)} -C ${DIR} --no-same-owner --strip-components=1 && printf '%s\\n' ${sha} > ${DIR}/.gatewright-bundle`,
      `docker load -i ${imageTarballOf(DP)}`,
      UP,
    ]);
    expect(converged).toBe('etcd:\n  host:\n    - http://c1:2379\n    - http://c2:2379\n    - http://c3:2379\n  prefix: /api7/default\n');
    const again = await run(hosts);
    expect(again.summary.results.filter((r) => r.status === 'changed' || r.status === 'failed')).toEqual([]);
  });
});

describe('gateway role: a converged host', () => {
  it('is ok everywhere, for one batched read with the health read in it; the probe route is read on the control host', async () => {
    const hosts = hostsOf();
    const r = await run(hosts);
    expect(r.summary.exitCode).toBe(0);
    expect(r.summary.results.filter((x) => x.status !== 'ok').map((x) => `${x.host} ${x.step}: ${x.status}`).sort()).toEqual([
      'g1 etcd client certificates: skipped',
      'g2 etcd client certificates: skipped',
      'g2 probe route through the control plane (console API): skipped',
    ]);
    // The health read (through the probe route) rides in the batch; nothing changed since, so the gate takes it.
    expect(hosts.g1.log).toEqual(['batch: 10 facts']);
    expect(hosts.g2.log).toEqual(['batch: 10 facts']);
    // The login and the GET of the probe route in one command (without the dashboard play, no batch to ride in).
    expect(hosts.c1.log).toHaveLength(1);
    expect(hosts.c1.log[0]).toContain(READS_MARK);
  });
});

describe("gateway role: the console's API does not gate the deploy", () => {
  it('the console refuses the login (HTTP 401): a warning, the gate reads the gateway\'s own 404 JSON, exit 0', async () => {
    const hosts = hostsOf();
    hosts.c1.loginStatus = 401;
    const r = await run(hosts);
    expect(r.summary.exitCode).toBe(0);
    expect(r.step('g1', 'probe route through the control plane (console API)')).toMatchObject({ status: 'ok', changes: [] });
    expect(r.summary.results.filter((x) => x.status === 'failed')).toEqual([]);
    expect(warned(r)).toEqual([
      expect.stringMatching(/^probe route through the control plane \(console API\) on g1: the console API did not do it \(.*dashboard login on c1 failed \(HTTP 401\).*\); the deploy goes on without it$/),
    ]);
    // No probe route seen this run: each gateway's gate reads the gateway's own 404 on its HTTP port.
    const without = curlSeqCmd(gatewayHealthRequests({ gateway_prometheus_port: 9091, gateway_http_port: 80 }, false));
    expect(hosts.g1.log).toEqual(['batch: 10 facts', without]);
    expect(hosts.g2.log).toEqual(['batch: 10 facts', without]);
  });
});

describe('gateway role: each drift, the exact commands that close it (--check)', () => {
  it.each([
    ["etcd.host edited by hand", (h: PlaneHost) => h.write(CONF, converged.replace('http://c3:2379', 'http://old:2379')), [
      ['gateway config.yaml (named keys)', `write ${CONF} (mode 0644, owner root:root)`],
      ['gateway running and routing', `$ ${UP}`],
    ]],
    ['the image was removed', (h: PlaneHost) => h.images.clear(), [
      ['load the dp images', `$ docker load -i ${imageTarballOf(DP)}`],
      ['gateway running and routing', `$ ${UP}`],
    ]],
    ['the container stopped', (h: PlaneHost) => (h.containers[0].running = false), [
      ['gateway running and routing', `$ ${UP}`],
    ]],
  ])('%s', async (_what, drift, want) => {
    const hosts = hostsOf((h) => h.name === 'g2' && drift(h));
    const r = await run(hosts, true);
    expect(r.summary.exitCode).toBe(0);
    expect(r.summary.results.filter((x) => x.host === 'g2' && x.status === 'changed').map((x) => [x.step, ...(x.planned ?? [])])).toEqual(want);
    expect(r.summary.results.filter((x) => x.host === 'g1' && x.status === 'changed')).toEqual([]);
  });
});

describe("gateway role: a compose image that is neither in the bundle nor on the host", () => {
  const IMAGE = 'api7ee.azurecr.io/api7-gateway:9.9';
  const names99 = (h: PlaneHost) => h.name === 'g2' && h.write(`${DIR}/docker-compose.yaml`, DP.compose.replace(/api7-gateway:[\d.]+/, 'api7-gateway:9.9'));

  it('fails the step before anything is stopped: no pull, no load, no compose command', async () => {
    const hosts = hostsOf(names99);
    const r = await run(hosts);
    expect(r.step('g2', 'dp compose images present')).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining(`${DIR}/docker-compose.yaml on g2 names images that are neither in the bundle's images/ nor on the host: ${IMAGE} (service api7-gateway). Nothing was stopped; ship them in the bundle (docker save) or set gateway_image_source: registry`),
    });
    expect(r.summary.exitCode).not.toBe(0);
    expect(r.changed('g2')).toEqual([]);
    expect(hosts.g2.changes).toEqual([]);
    expect(hosts.g2.containers).toMatchObject([{ id: 'c0', running: true }]);
  });

  it('--check says the run will fail there (a warning), and plans no pull or load for it', async () => {
    const r = await run(hostsOf(names99), true);
    expect(r.summary.exitCode).toBe(0);
    expect(warned(r)).toEqual([
      `--check: the run will fail at the dp compose image check: ${DIR}/docker-compose.yaml on g2 names images that are neither in the bundle's images/ nor on the host: ${IMAGE} (service api7-gateway). It will stop nothing; ship them in the bundle (docker save) or set gateway_image_source: registry`,
    ]);
    // Only the compose up that would follow (a plan cannot tell an image the run will never reach).
    expect(r.changed('g2')).toEqual(['gateway running and routing']);
  });

  it('--check judges by the controller\'s copy of the bundle when the host keeps no manifest of its images', async () => {
    const noCache = (h: PlaneHost) => {
      names99(h);
      if (h.name === 'g2') expect(h.files.delete(`${imageTarballOf(DP)}.gatewright-manifest`)).toBe(true);
    };
    const r = await run(hostsOf(noCache), true);
    expect(warned(r)).toEqual([expect.stringContaining(`--check: the run will fail at the dp compose image check: ${DIR}/docker-compose.yaml on g2 names images`)]);
  });

  it('--check stays quiet about an image the planned load brings', async () => {
    const r = await run(hostsOf((h) => h.name === 'g2' && h.images.clear()), true);
    expect(r.changed('g2')).toEqual(['load the dp images', 'gateway running and routing']);
    expect(warned(r)).toEqual([]);
  });
});

describe('gateway role: etcd auth off is said in the recap, as the etcd play says it', () => {
  it.each([false, true])('once per run, also in --check (%s), though every gateway host writes a conf without credentials', async (check) => {
    const r = await run(hostsOf(), check);
    expect(r.summary.warnings?.filter((w) => w.message === AUTH_OFF_WARNING)).toEqual([{ play: 'gateway', host: expect.stringMatching(/^g[12]$/), message: AUTH_OFF_WARNING }]);
  });
  it('not with etcd auth on', async () => {
    const r = await runRole(gateway, 'gateway', hostsOf(), bundleDir, {}, { etcd_auth_enabled: true, etcd_root_password: 'etcd-root-pw' });
    expect(r.summary.exitCode).toBe(0);
    expect(r.summary.warnings ?? []).toEqual([]);
  });
});

describe('gateway role: failures', () => {
  it('the engine does not answer: the load step fails naming the host, nothing is run', async () => {
    const hosts = hostsOf((h) => h.name === 'g2' && h.failing.push({ match: 'docker image ls', stderr: 'Cannot connect to the Docker daemon' }));
    const r = await run(hosts);
    expect(r.step('g2', 'load the dp images')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/docker image ls failed: Cannot connect to the Docker daemon on g2/) });
    expect(hosts.g2.changes).toEqual([]);
  });

  it('a gateway that does not serve after its restart fails its step, and the roll stops there', async () => {
    const hosts = hostsOf((h) => {
      h.containers[0].running = false;
      h.healthy = false;
    });
    const r = await run(hosts);
    expect(r.step('g1', 'gateway running and routing')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/gateway on g1: not healthy after 1 s \(last: metrics port answered 0 curl: \(7\)/) });
    expect(r.step('g2', 'gateway running and routing')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/rolling change stopped: g1 failed before this host; left untouched/) });
    expect(hosts.g2.changes).toEqual([]);
  });
});

describe("gateway role: its steps are the guide's, in order", () => {
  it('lists every step by name', () => {
    expect(gateway.steps.map((s) => s.name)).toEqual([
      'upload the dp bundle',
      'unpack the dp bundle',
      'load the dp images',
      'dp compose images present',
      'etcd client certificates',
      'gateway config.yaml (named keys)',
      'dp compose override (certificates, SELinux labels)',
      'probe route through the control plane (console API)',
      'gateway running and routing',
    ]);
  });
});
