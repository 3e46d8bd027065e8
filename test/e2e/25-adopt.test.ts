// Adopting a hand-made deployment (issue 10, item 5), after 20-stack: on the running stack, the guide's steps
// are done by hand first: etcd on lab3 restarted with the guide's own `docker run --name etcd` on its data; the
// dashboards stopped and started by hand with `docker compose up api7-dashboard -d` in their unpacked folder;
// each gateway moved by hand to a folder the operator unpacked in their home (`tar -zxvf`, `docker load`,
// config.yaml edited, `docker compose up -d`). The site run then recognises all of it as the stack (preflight
// reports no port conflict), takes it over while the LB serves every request, and a rerun changes nothing.
import { afterAll, describe, expect, it } from 'vitest';
import { findHost } from '../../lab/index.ts';
import { httpRequest, probe } from '../../roles/verify/http.ts';
import { startLoad } from '../../roles/verify/load.ts';
import { quote } from '../../lib/shell.ts';
import { cliRunner, DASHBOARD_PASSWORD, ip, onHost, type Report } from './helpers.ts';

const play = cliRunner('25', ['-e', `dashboard_admin_password=${DASHBOARD_PASSWORD}`]);
const LB = findHost('lb1').ip;
const CP = '/opt/api7/api7-2.13.2304-cp';
const DP = '/opt/api7/api7-2.13.2304-dp';
const HOME_DP = '/home/ops/api7-2.13.2304-dp';
const changed = (r: Report) => r.results.filter((x) => x.status === 'changed').map((x) => `${x.host} ${x.play} › ${x.step}`);
const startedAt = (host: string, service: string) =>
  onHost(host, `sudo docker inspect -f '{{.State.StartedAt}}' $(sudo docker ps -q --filter label=com.docker.compose.service=${service})`).out;
const workingDir = (host: string) =>
  onHost(host, `sudo docker inspect -f '{{index .Config.Labels "com.docker.compose.project.working_dir"}}' $(sudo docker ps -q --filter label=com.docker.compose.service=api7-gateway)`).out;

/** The compose the host has, as an operator would type it: `docker compose` (v2) or `docker-compose` (v1) as `$compose`. */
const COMPOSE = 'if docker compose version >/dev/null 2>&1; then compose="docker compose"; else compose=docker-compose; fi';

function sh(host: string, script: string): void {
  const r = onHost(host, `sudo sh -c ${quote(`set -e\n${COMPOSE}\n${script}`)}`);
  expect(r.code, `${host}: ${r.out}`).toBe(0);
}

/** The guide's etcd command for member N, typed by hand (no labels of ours). */
const guideEtcdRun = (n: number) => {
  const [a, b, c] = ['lab1', 'lab2', 'lab3'].map(ip);
  const me = [a, b, c][n - 1];
  return `docker run -d --restart always --name etcd -u root -v /usr/local/etcd/etcd_data:/etcd_data -e ALLOW_NONE_AUTHENTICATION=yes ` +
    `-e ETCD_NAME=api7-etcd-${n} -e ETCD_LISTEN_PEER_URLS=http://0.0.0.0:2380 -e ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379 ` +
    `-e ETCD_ADVERTISE_CLIENT_URLS=http://${me}:2379 -e ETCD_INITIAL_ADVERTISE_PEER_URLS=http://${me}:2380 -e ETCD_INITIAL_CLUSTER_TOKEN=etcd-cluster ` +
    `-e ETCD_INITIAL_CLUSTER=api7-etcd-1=http://${a}:2380,api7-etcd-2=http://${b}:2380,api7-etcd-3=http://${c}:2380 ` +
    `-e ETCD_DATA_DIR=/etcd_data -e ETCD_ENABLE_V2=true --network=host bitnami/etcd:3.4.23`;
};

/** The operator's gateway in their home folder (the LB retries the requests the switch cuts: not measured here). */
function handMadeGateway(host: string): void {
  const hosts = ['lab1', 'lab2', 'lab3'].map((h) => `    - "http://${ip(h)}:2379"`).join('\\n');
  sh(host, [
    `rm -rf ${HOME_DP} && cd /home/ops && tar -zxf /opt/api7/bundles/api7-2.13.2304-dp.tar.gz`,
    `cd ${HOME_DP} && docker load < images/api7-gateway-2.13.2304.tar.gz >/dev/null`,
    // The guide: edit etcd.host in gateway_conf/config.yaml.
    `sed -i '/^  host:/,/^  prefix:/{/^    - /d}' gateway_conf/config.yaml && sed -i 's|^  host:.*|&\\n${hosts}|' gateway_conf/config.yaml`,
    `cd ${DP} && $compose down`,
    `cd ${HOME_DP} && $compose up -d`,
  ].join('\n'));
}

afterAll(async () => {
  // Whatever happened: the stack converged from /opt/api7 again, the operator's folders gone.
  for (const h of ['lab4', 'lab5']) onHost(h, `sudo sh -c ${quote(`${COMPOSE}; if [ -d ${HOME_DP} ]; then cd ${HOME_DP} && $compose down; fi; rm -rf ${HOME_DP}`)}`);
  const r = await play('site');
  expect(r.exitCode, JSON.stringify(r.errors)).toBe(0);
});

describe('a deployment made by hand with the guide', () => {
  it('is recognised as the stack and taken over with no failed request; a rerun changes nothing', async () => {
    // etcd on lab3: the guide's own docker run on the member's data.
    sh('lab3', `docker rm -f etcd >/dev/null && ${guideEtcdRun(3)} >/dev/null`);
    // The dashboards: stopped and started by hand in their folder, as the guide does.
    for (const h of ['lab1', 'lab2']) sh(h, `cd ${CP} && $compose down && $compose up -d api7-dashboard`);
    for (const h of ['lab4', 'lab5']) handMadeGateway(h);
    for (const h of ['lab4', 'lab5']) expect(workingDir(h), h).toBe(HOME_DP);
    for (let i = 0; i < 40 && (await httpRequest({ host: LB, port: 80, path: '/get', headers: { host: 'test.com' } })).status !== 200; i++) {
      await new Promise((ok) => setTimeout(ok, 500));
    }
    const dashboardsBefore = ['lab1', 'lab2'].map((h) => startedAt(h, 'api7-dashboard'));

    const target = probe({ host: LB, port: 80, path: '/get', headers: { host: 'test.com' } });
    const load = startLoad({ send: target.send, concurrency: 2, intervalMs: 50, maxRequests: 30_000, maxDurationMs: 600_000 });
    const r = await play('site');
    const stats = await load.stop();
    target.close();

    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(0);
    // Preflight saw our stack, not port conflicts.
    expect(r.results.filter((x) => x.play === 'preflight' && x.status === 'failed')).toEqual([]);
    // The dashboards started by hand in the bundle folder are adopted as they run.
    expect(['lab1', 'lab2'].map((h) => startedAt(h, 'api7-dashboard'))).toEqual(dashboardsBefore);
    // The gateways move to the bundle folder, the operator's project retired in the same drained turn.
    for (const h of ['lab4', 'lab5']) {
      expect(r.results.find((x) => x.host === h && x.step === 'gateway running and routing')?.changes.join(' '), h).toMatch(/replaces .*\/home\/ops\/api7-2\.13\.2304-dp/);
      expect(workingDir(h), h).toBe(DP);
    }
    // etcd on lab3 carries our spec now, rolled one member at a time.
    expect(r.results.find((x) => x.host === 'lab3' && x.step === 'etcd member')?.status).toBe('changed');
    expect(stats.sent).toBeGreaterThan(50);
    expect(stats).toMatchObject({ failed: 0, errors: {} });

    const again = await play('site');
    expect(again.exitCode).toBe(0);
    expect(changed(again)).toEqual([]);
  });
});
