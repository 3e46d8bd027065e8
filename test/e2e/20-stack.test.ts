// The stack (etcd, dashboards, gateways, smoke route) by the site playbook on the shared lab, through the
// real CLI and its --json report. Runs after 10-preflight-docker (Docker installed) and leaves the api7
// edition stack up and converged: later files build on it.
import { describe, expect, it } from 'vitest';
import { cliRunner, DASHBOARD_PASSWORD as PASSWORD, etcdctl, ip, onHost, putRouteThroughDashboard, runLogs, throughGateway, type Report } from './helpers.ts';

const play = cliRunner('20', ['-e', `dashboard_admin_password=${PASSWORD}`]);
const site = (...flags: string[]) => play('site', ...flags);

const changed = (r: Report) => r.results.filter((x) => x.status === 'changed');
const step = (r: Report, host: string, play: string, name: string) => r.results.find((x) => x.host === host && x.play === play && x.step === name);

function expectHealthyEtcd(): void {
  const health = etcdctl('lab1', 'endpoint health');
  expect(health.out.match(/ is healthy: /g)?.length, health.out).toBe(3);
  const status = etcdctl('lab1', 'endpoint status');
  expect(status.out.split('\n').filter((l) => l.split(', ')[4] === 'true').length, status.out).toBe(1);
}

describe('the stack on the lab (site playbook)', () => {
  it('from docker-only hosts reaches 3 healthy etcd members, 2 dashboards, 2 gateways and the guide check', async () => {
    const r = await site();
    expect(r.exitCode, JSON.stringify(r.errors)).toBe(0);
    expectHealthyEtcd();
    for (const h of ['lab1', 'lab2']) expect(onHost(h, 'curl -sS http://127.0.0.1:9000/ping').out).toBe('pong');
    for (const h of ['lab4', 'lab5']) {
      expect(onHost(h, 'curl -sS -o /dev/null -w "%{http_code}" http://127.0.0.1:9091/apisix/prometheus/metrics').out).toBe('200');
    }

    // The guide's closing check, with a route of our own created through a dashboard.
    putRouteThroughDashboard('e2e-guide-check', { uri: '/get', host: 'e2e.test.com', upstream: { type: 'roundrobin', nodes: { [`${ip('upstream1')}:80`]: 1 } } });
    for (const gw of ['lab4', 'lab5']) {
      let res = throughGateway(gw, 'e2e.test.com');
      for (let i = 0; i < 20 && res.status !== 200; i++) {
        await new Promise((ok) => setTimeout(ok, 250));
        res = throughGateway(gw, 'e2e.test.com');
      }
      expect(res.status, res.body).toBe(200);
      expect(JSON.parse(res.body).url).toBe('http://e2e.test.com/get');
      // And the site's own smoke route (Host test.com), as the guide ends.
      const smoke = throughGateway(gw, 'test.com');
      expect(smoke.status, smoke.body).toBe(200);
      expect(JSON.parse(smoke.body).headers.Host).toBe('test.com');
    }

    // Secrets stay out of the report and the logs; conf files holding them are 0600.
    expect(JSON.stringify(r)).not.toContain(PASSWORD);
    expect(runLogs(r)).not.toContain(PASSWORD);
    expect(onHost('lab1', 'sudo stat -c %a /opt/api7/2.13.2304/cp/dashboard_conf/conf.yaml').out).toBe('600');
  });

  it('a second run changes nothing', async () => {
    const r = await site();
    expect(r.exitCode).toBe(0);
    expect(changed(r).map((x) => `${x.host} ${x.play} › ${x.step}`)).toEqual([]);
  });

  it('a new Prometheus port restarts only the gateways, one at a time; the next run puts it back', async () => {
    const before = ['lab1', 'lab2'].map((h) => onHost(h, 'sudo docker inspect -f {{.State.StartedAt}} api7-dashboard').out);
    const r = await site('-e', 'gateway_prometheus_port=9092');
    expect(r.exitCode, JSON.stringify(r.errors)).toBe(0);
    expect(new Set(changed(r).map((x) => x.play))).toEqual(new Set(['gateway']));
    expect(step(r, 'lab4', 'gateway', 'gateway running and routing')?.status).toBe('changed');
    expect(step(r, 'lab5', 'gateway', 'gateway running and routing')?.status).toBe('changed');
    expect(onHost('lab4', 'curl -sS -o /dev/null -w "%{http_code}" http://127.0.0.1:9092/apisix/prometheus/metrics').out).toBe('200');
    expect(['lab1', 'lab2'].map((h) => onHost(h, 'sudo docker inspect -f {{.State.StartedAt}} api7-dashboard').out)).toEqual(before);

    // One at a time: the gateway restarted second started only after the first one said it was running.
    const started = ['lab4', 'lab5'].map((h) => ({ h, at: onHost(h, 'sudo docker inspect -f {{.State.StartedAt}} api7-gateway').out }));
    started.sort((a, b) => a.at.localeCompare(b.at));
    const [first, second] = started;
    const running = onHost(first.h, 'sudo docker logs --timestamps api7-gateway 2>&1 | grep -m1 "gateway is running"').out.split(' ')[0];
    expect(running, `${first.h} log`).toMatch(/^\d{4}-/);
    expect(new Date(second.at).getTime()).toBeGreaterThanOrEqual(new Date(running).getTime());

    const back = await site();
    expect(back.exitCode).toBe(0);
    expect(new Set(changed(back).map((x) => x.play))).toEqual(new Set(['gateway']));
  });

  it('an etcd member that lost its data directory and stopped rejoins on the next run, with the data', async () => {
    expect(etcdctl('lab1', 'put /gatewright-e2e/before-wipe kept').code).toBe(0);
    expect(onHost('lab3', 'sudo docker stop etcd && sudo rm -rf /usr/local/etcd/etcd_data').code).toBe(0);

    const r = await site();
    expect(r.exitCode, JSON.stringify(r.errors)).toBe(0);
    expect(step(r, 'lab3', 'etcd', 'etcd member')?.changes.join(' ')).toMatch(/has no data: remove and re-add it through lab[12]/);
    expect(changed(r).filter((x) => x.play !== 'etcd')).toEqual([]);
    expectHealthyEtcd();
    const members = etcdctl('lab1', 'member list').out.split('\n');
    expect(members.filter((m) => m.includes(', started, ')).length, members.join('\n')).toBe(3);
    // Read from the healed member alone.
    expect(etcdctl('lab3', 'get --print-value-only /gatewright-e2e/before-wipe', { endpoints: `http://${ip('lab3')}:2379` }).out).toBe('kept');
    // A snapshot was taken before the cluster was changed.
    const snapshots = ['lab1', 'lab2'].map((h) => onHost(h, 'sudo ls /usr/local/etcd/snapshots').out).join('\n');
    expect(snapshots).toMatch(/etcd-.*\.db/);
  });

  it('edition apisix starts the same stack (APISIX 3 layout, prefix /apisix); the api7 stack is restored after', async () => {
    const r = await site('-e', 'api7_edition=apisix');
    expect(r.exitCode, JSON.stringify(r.errors)).toBe(0);
    expect(onHost('lab4', 'sudo cat /opt/api7/2.13.2304/dp/gateway_conf/config.yaml').out).toMatch(/deployment:\n\s+role: data_plane/);
    expect(etcdctl('lab1', 'get --keys-only --prefix /apisix/routes/').out).toContain('/apisix/routes/gatewright-smoke');
    expect(throughGateway('lab5', 'test.com').status).toBe(200);

    const back = await site();
    expect(back.exitCode, JSON.stringify(back.errors)).toBe(0);
    expect(onHost('lab4', 'sudo cat /opt/api7/2.13.2304/dp/gateway_conf/config.yaml').out).toMatch(/prefix: \/api7\/default/);
    const again = await site();
    expect(changed(again).map((x) => `${x.host} ${x.play} › ${x.step}`)).toEqual([]);
  });
});
