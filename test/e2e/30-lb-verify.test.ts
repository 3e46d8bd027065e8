// The load balancer and the HA proof on the shared lab, after 20-stack: the lb play converges (a rerun
// changes nothing), the verify playbook's three checks pass with no failed request, and a version upgrade of
// the whole stack (`site -e api7_version=`) 2.13.2304 -> 2.13.2309 and back rolls the dashboards and the
// gateways with no failed request on the console (:9000) or the data plane (:80) through the LB. The stack
// is left at 2.13.2304, as found.
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { findHost } from '../../lab/index.ts';
import { httpRequest } from '../../roles/verify/http.ts';
import { cliRunner, DASHBOARD_PASSWORD, expectNoFailedRequest, onHost as onLabHost, underLoadThroughLb, type Report } from './helpers.ts';

const play = cliRunner('30', ['-e', `dashboard_admin_password=${DASHBOARD_PASSWORD}`]);
const onHost = (host: string, command: string) => onLabHost(host, command).out;

const LB = findHost('lb1').ip;
/**
 * The image of every container (any state) of a bundle's compose service, one per line, found as the roles
 * find them: by compose's service label (their names come from the folder).
 */
const serviceImages = (host: string, service: string) =>
  onHost(host, `sudo docker ps -aq --filter label=com.docker.compose.service=${service} | xargs -r sudo docker inspect --format '{{.Config.Image}}'`);
/** The registry-named images each lab bundle carries: 2.13.2309's tag is not its version, as the guide's folders can be. */
const IMAGES: Record<string, { dashboard: string; gateway: string }> = {
  '2.13.2304': { dashboard: 'api7ee.azurecr.io/api7-dashboard:2.13.2304', gateway: 'api7ee.azurecr.io/api7-gateway:2.13.2304' },
  '2.13.2309': { dashboard: 'api7ee.azurecr.io/api7-dashboard:2.13.2309.1', gateway: 'api7ee.azurecr.io/api7-gateway:2.13.2309.1' },
};

describe('load balancer', () => {
  it('converges, and a second run changes nothing', async () => {
    const first = await play('lb');
    expect(first.errors).toEqual([]);
    expect(first.exitCode).toBe(0);
    const again = await play('lb');
    expect(again.exitCode).toBe(0);
    expect(again.results.filter((r) => r.status === 'changed').map((r) => r.step)).toEqual([]);
  });

  it("refuses a config haproxy rejects, with haproxy's message, and keeps the running one", async () => {
    const before = onHost('lb1', 'sudo sha256sum /etc/haproxy/haproxy.cfg');
    // A value the loader lets through (address:port shape) that haproxy's parser refuses (lb_http_port=99999 is
    // now refused at load, exit 4, before anything runs).
    const r = await play('lb', '-e', 'lb_stats_bind=127.0.0.1:99999');
    expect(r.exitCode).toBe(2);
    expect(r.errors.map((e) => e.message).join('\n')).toMatch(/haproxy refused the new \/etc\/haproxy\/haproxy\.cfg \(the running config is untouched\)[\s\S]*invalid port '99999'/);
    expect(onHost('lb1', 'sudo sha256sum /etc/haproxy/haproxy.cfg')).toBe(before);
    expect((await httpRequest({ host: LB, port: 80, path: '/get', headers: { host: 'test.com' } })).status).toBe(200);
  });

  it("the lowest config level (CentOS 7's haproxy 1.5) passes the lab's haproxy -c and serves; the default level is put back", async () => {
    const low = await play('lb', '-e', 'lb_haproxy_level=1.5');
    expect(low.errors).toEqual([]);
    expect(low.exitCode).toBe(0);
    const cfg = onHost('lb1', 'sudo cat /etc/haproxy/haproxy.cfg');
    expect(cfg).toContain('option httpchk GET /gatewright-health HTTP/1.1\\r\\nHost:\\ gatewright-health.invalid');
    expect(cfg).not.toMatch(/retry-on|expose-fd/);
    // Both backends' servers come UP with the old-style checks.
    let res = await httpRequest({ host: LB, port: 80, path: '/get', headers: { host: 'test.com' } });
    for (let i = 0; i < 20 && res.status !== 200; i++) {
      await new Promise((ok) => setTimeout(ok, 500));
      res = await httpRequest({ host: LB, port: 80, path: '/get', headers: { host: 'test.com' } });
    }
    expect(res.status).toBe(200);
    const back = await play('lb');
    expect(back.exitCode).toBe(0);
    expect(onHost('lb1', 'sudo cat /etc/haproxy/haproxy.cfg')).toContain('retry-on');
  });

  it('serves the data plane (80, 443 passed through) and the console (9000)', async () => {
    const get = await httpRequest({ host: LB, port: 80, path: '/get', headers: { host: 'test.com' } });
    expect(get.status).toBe(200);
    expect(JSON.parse(get.body).url).toBe('http://test.com/get');
    expect((await httpRequest({ host: LB, port: 9000, path: '/ping' })).body).toBe('pong');
    // TLS ends on the gateways (self-signed), not on the LB.
    const status = await new Promise<number>((resolve, reject) =>
      https.get({ host: LB, port: 443, path: '/get', headers: { host: 'test.com' }, rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject),
    );
    expect(status).toBe(200);
  });
});

describe('verify playbook', () => {
  it('passes all three checks, each under load with no failed request', async () => {
    const r = await play('verify');
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(0);
    const checks = r.results.filter((x) => x.play === 'verify');
    expect(checks.map((x) => x.status)).toEqual(['ok', 'ok', 'ok']);
    for (const c of checks) {
      const figures = c.data?.figures as { sent: number; failed: number; longestGapMs: number };
      expect(figures.sent, c.step).toBeGreaterThan(20);
      expect(figures.failed, c.step).toBe(0);
      expect(c.data?.load, c.step).toMatch(/requests, 0 failed, longest gap/);
    }
    expect(checks[2].data?.etcd).toBe('endpoint health: 2/3 healthy with lab3 stopped');
  });
});

describe('version upgrade of the stack (site)', () => {
  for (const [from, to] of [['2.13.2304', '2.13.2309'], ['2.13.2309', '2.13.2304']]) {
    it(`${from} -> ${to}: the dashboards and gateways roll under load on :9000 and :80 through the LB with no failed request`, async () => {
      for (const h of ['lab1', 'lab2']) expect(serviceImages(h, 'api7-dashboard'), h).toBe(IMAGES[from].dashboard);
      for (const h of ['lab4', 'lab5']) expect(serviceImages(h, 'api7-gateway'), h).toBe(IMAGES[from].gateway);
      let report: Report | undefined;
      const stats = await underLoadThroughLb(async () => {
        report = await play('site', '-e', `api7_version=${to}`);
      });
      expect(report?.errors).toEqual([]);
      expect(report?.exitCode).toBe(0);
      const rolled = (play: string, step: string) => report!.results.filter((x) => x.play === play && x.step === step && x.status === 'changed').map((x) => x.host);
      expect(rolled('dashboard', 'dashboard running and healthy').sort()).toEqual(['lab1', 'lab2']);
      expect(rolled('gateway', 'gateway running and routing').sort()).toEqual(['lab4', 'lab5']);
      // One line each: the previous version's compose project went down in the same turn (one container per host).
      for (const h of ['lab1', 'lab2']) expect(serviceImages(h, 'api7-dashboard'), h).toBe(IMAGES[to].dashboard);
      for (const h of ['lab4', 'lab5']) expect(serviceImages(h, 'api7-gateway'), h).toBe(IMAGES[to].gateway);
      expectNoFailedRequest(stats);
    });
  }
});
