// Adopting a hand-made deployment (issue 10, item 5), after 20-stack: on the running stack, the guide's steps
// are done by hand first: every etcd member re-run with the guide's own `docker run --name etcd` on its data,
// one member at a time so the cluster keeps its quorum; on lab2 the cp bundle unpacked by hand in the
// operator's home (`tar -zxvf`, `docker load`, only conf.yaml's etcd keys edited, `docker compose up
// api7-dashboard`); lab1's dashboard stopped and started by hand in its folder; each gateway moved by hand
// to a folder unpacked in the home (config.yaml's etcd.host edited, `docker compose up -d`). The site run then
// recognises all of it as the stack (preflight reports no port conflict), takes it over while the LB serves
// every request on :80 and :9000, and a rerun changes nothing.
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ETCD_IMAGE, findHost } from '../../lab/index.ts';
import { httpRequest } from '../../roles/verify/http.ts';
import { quote } from '../../lib/shell.ts';
import { LABEL_ROLE } from '../../ops/fingerprint.ts';
import { cliRunner, DASHBOARD_PASSWORD, etcdctl, expectNoFailedRequest, ip, onHost, underLoadThroughLb, type Report } from './helpers.ts';

const play = cliRunner('25', ['-e', `dashboard_admin_password=${DASHBOARD_PASSWORD}`]);
const LB = findHost('lb1').ip;
const CP = '/opt/api7/api7-2.13.2304-cp';
const DP = '/opt/api7/api7-2.13.2304-dp';
const HOME_CP = '/home/ops/api7-2.13.2304-cp';
const HOME_DP = '/home/ops/api7-2.13.2304-dp';
const ETCD = ['lab1', 'lab2', 'lab3'];
const changed = (r: Report) => r.results.filter((x) => x.status === 'changed').map((x) => `${x.host} ${x.play} › ${x.step}`);
const inspectService = (host: string, service: string, format: string) =>
  onHost(host, `sudo docker inspect -f '${format}' $(sudo docker ps -q --filter label=com.docker.compose.service=${service})`).out;
const workingDir = (host: string, service: string) => inspectService(host, service, '{{index .Config.Labels "com.docker.compose.project.working_dir"}}');
const stepOf = (r: Report, host: string, step: string) => r.results.find((x) => x.host === host && x.step === step);

/** The compose the host has, as an operator would type it: `docker compose` (v2) or `docker-compose` (v1) as `$compose`. */
const COMPOSE = 'if docker compose version >/dev/null 2>&1; then compose="docker compose"; else compose=docker-compose; fi';

function sh(host: string, script: string): void {
  const r = onHost(host, `sudo sh -c ${quote(`set -e\n${COMPOSE}\n${script}`)}`);
  expect(r.code, `${host}: ${r.out}`).toBe(0);
}

async function until(what: string, ok: () => boolean | Promise<boolean>, tries = 60): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what}: not within ${tries / 2} s`);
}

const healthyMembers = () => etcdctl('lab1', 'endpoint health').out.match(/ is healthy: /g)?.length ?? 0;

/** The guide's etcd command for member N, typed by hand (no labels of ours), with the lab's etcd image. */
const guideEtcdRun = (n: number) => {
  const [a, b, c] = ETCD.map(ip);
  const me = [a, b, c][n - 1];
  return `docker run --restart always --name etcd -u root -v /usr/local/etcd/etcd_data:/etcd_data -e ALLOW_NONE_AUTHENTICATION=yes ` +
    `-e ETCD_NAME=api7-etcd-${n} -e ETCD_LISTEN_PEER_URLS=http://0.0.0.0:2380 -e ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379 ` +
    `-e ETCD_ADVERTISE_CLIENT_URLS=http://${me}:2379 -e ETCD_INITIAL_ADVERTISE_PEER_URLS=http://${me}:2380 -e ETCD_INITIAL_CLUSTER_TOKEN=etcd-cluster ` +
    `-e ETCD_INITIAL_CLUSTER=api7-etcd-1=http://${a}:2380,api7-etcd-2=http://${b}:2380,api7-etcd-3=http://${c}:2380 ` +
    `-e ETCD_DATA_DIR=/etcd_data -e ETCD_ENABLE_V2=true --network=host -d ${ETCD_IMAGE}`;
};

/** The etcd members one at a time, as an operator keeps quorum: the next only once all three answer healthy. */
async function handMadeEtcd(): Promise<void> {
  for (const [i, h] of ETCD.entries()) {
    sh(h, `docker rm -f etcd >/dev/null && ${guideEtcdRun(i + 1)} >/dev/null`);
    await until(`etcd on ${h} healthy again, 3/3`, () => healthyMembers() === 3);
  }
}

/** The guide's list under a YAML key of `file`, as the operator types it in (sed: the shipped items out, ours in). */
const sedList = (file: string, key: string, indent: string, items: string[]) =>
  `sed -i '/^${indent}${key}:/,/^${indent}[a-z_]*:/{/^${indent}  - /d}' ${file} ` +
  `&& sed -i 's|^${indent}${key}:.*|&${items.map((x) => `\\n${indent}  - ${x}`).join('')}|' ${file}`;

/** The operator's dashboard in their home folder: the guide's steps for the control plane. */
function handMadeDashboard(host: string): void {
  const endpoints = ETCD.map((h) => `${ip(h)}:2379`);
  sh(host, [
    `rm -rf ${HOME_CP} && cd /home/ops && tar -zxf /opt/api7/bundles/api7-2.13.2304-cp.tar.gz`,
    `cd ${HOME_CP} && docker load < images/api7-dashboard-2.13.2304.tar.gz >/dev/null`,
    // The guide: edit conf.etcd in dashboard_conf/conf.yaml (endpoints; the rest of its keys as shipped).
    sedList('dashboard_conf/conf.yaml', 'endpoints', '    ', endpoints),
    `cd ${CP} && $compose down`,
    // The guide's `docker compose up api7-dashboard -d`, flags first: the lab's compose v1 takes them only there.
    `cd ${HOME_CP} && $compose up -d api7-dashboard`,
  ].join('\n'));
}

/** The operator's gateway in their home folder: the guide's steps for the data plane. */
function handMadeGateway(host: string): void {
  const hosts = ETCD.map((h) => `"http://${ip(h)}:2379"`);
  sh(host, [
    `rm -rf ${HOME_DP} && cd /home/ops && tar -zxf /opt/api7/bundles/api7-2.13.2304-dp.tar.gz`,
    `cd ${HOME_DP} && docker load < images/api7-gateway-2.13.2304.tar.gz >/dev/null`,
    // The guide: edit etcd.host in gateway_conf/config.yaml.
    sedList('gateway_conf/config.yaml', 'host', '  ', hosts),
    `cd ${DP} && $compose down`,
    `cd ${HOME_DP} && $compose up -d`,
  ].join('\n'));
}

afterAll(async () => {
  // Whatever happened: the stack converged from /opt/api7 again, the operator's folders gone.
  const home: [string, string][] = [['lab2', HOME_CP], ['lab4', HOME_DP], ['lab5', HOME_DP]];
  for (const [h, dir] of home) onHost(h, `sudo sh -c ${quote(`${COMPOSE}; if [ -d ${dir} ]; then cd ${dir} && $compose down; fi; rm -rf ${dir}`)}`);
  const r = await play('site');
  expect(r.exitCode, JSON.stringify(r.errors)).toBe(0);
});

describe('a deployment made by hand with the guide', () => {
  it('is recognised as the stack and taken over with no failed request on :80 and :9000; a rerun changes nothing', async () => {
    await handMadeEtcd();
    // None of our labels on the members now: the run must recognise the guide's containers by their name.
    for (const h of ETCD) expect(JSON.parse(onHost(h, "sudo docker inspect -f '{{json .Config.Labels}}' etcd").out) ?? {}, h).not.toHaveProperty([LABEL_ROLE]);

    handMadeDashboard('lab2');
    // Only the guide's key differs from the shipped file (compared parsed).
    const [shipped, edited] = [`tar -xzOf /opt/api7/bundles/api7-2.13.2304-cp.tar.gz api7-2.13.2304-cp/dashboard_conf/conf.yaml`, `cat ${HOME_CP}/dashboard_conf/conf.yaml`]
      .map((c) => parse(onHost('lab2', `sudo ${c}`).out) as { conf: { etcd: { endpoints: string[] } } });
    expect(edited.conf.etcd.endpoints).toEqual(ETCD.map((h) => `${ip(h)}:2379`));
    expect({ ...edited, conf: { ...edited.conf, etcd: { ...edited.conf.etcd, endpoints: shipped.conf.etcd.endpoints } } }).toEqual(shipped);
    sh('lab1', `cd ${CP} && $compose down && $compose up -d api7-dashboard`);
    for (const h of ['lab4', 'lab5']) handMadeGateway(h);

    expect(workingDir('lab2', 'api7-dashboard')).toBe(HOME_CP);
    for (const h of ['lab4', 'lab5']) expect(workingDir(h, 'api7-gateway'), h).toBe(HOME_DP);
    // The LB serves both planes again before the takeover is measured.
    const serves = async (port: number, path: string, headers?: Record<string, string>) =>
      (await httpRequest({ host: LB, port, path, headers }).catch(() => ({ status: 0 }))).status === 200;
    await until('the LB serving :80 and :9000', async () => (await serves(80, '/get', { host: 'test.com' })) && (await serves(9000, '/ping')), 40);
    const lab1Started = inspectService('lab1', 'api7-dashboard', '{{.State.StartedAt}}');

    let r: Report | undefined;
    const stats = await underLoadThroughLb(async () => {
      r = await play('site');
    });

    expect(r!.errors).toEqual([]);
    expect(r!.exitCode).toBe(0);
    // Preflight saw our stack, not port conflicts.
    expect(r!.results.filter((x) => x.play === 'preflight' && x.status === 'failed')).toEqual([]);
    // Every etcd member carries our spec now, rolled one at a time, the data kept.
    for (const h of ETCD) expect(stepOf(r!, h, 'etcd member')?.status, h).toBe('changed');
    expect(healthyMembers()).toBe(3);
    // lab1's dashboard, started by hand in the bundle folder, is adopted as it runs.
    expect(inspectService('lab1', 'api7-dashboard', '{{.State.StartedAt}}')).toBe(lab1Started);
    // lab2's dashboard and the gateways move to the bundle folder, the operator's project retired in the same drained turn.
    expect(stepOf(r!, 'lab2', 'dashboard running and healthy')?.changes.join(' ')).toMatch(/replaces .*\/home\/ops\/api7-2\.13\.2304-cp/);
    expect(workingDir('lab2', 'api7-dashboard')).toBe(CP);
    for (const h of ['lab4', 'lab5']) {
      expect(stepOf(r!, h, 'gateway running and routing')?.changes.join(' '), h).toMatch(/replaces .*\/home\/ops\/api7-2\.13\.2304-dp/);
      expect(workingDir(h, 'api7-gateway'), h).toBe(DP);
    }
    expectNoFailedRequest(stats);

    const again = await play('site');
    expect(again.exitCode).toBe(0);
    expect(changed(again)).toEqual([]);
  });
});
