// The stack (etcd, dashboards, gateways, smoke route) by the site playbook on the shared lab, through the
// real CLI and its --json report. Runs after 10-preflight-docker, which leaves the stack hosts bare: on a
// fresh lab the first `site` installs Docker there too. Leaves the api7 edition stack up and converged:
// later files build on it.
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { ETCD_VERSION, PATHS } from '../../lab/index.ts';
import { loadInventory } from '../../lib/inventory.ts';
import { cliRunner, DASHBOARD_PASSWORD as PASSWORD, etcdctl, hasDockerEngine, ip, onHost, putRouteThroughDashboard, runLogs, throughGateway, type Report } from './helpers.ts';

const play = cliRunner('20', ['-e', `dashboard_admin_password=${PASSWORD}`]);
const site = (...flags: string[]) => play('site', ...flags);

const CP = '/opt/api7/api7-2.13.2304-cp';
const DP = '/opt/api7/api7-2.13.2304-dp';
/** The bundle's container of a compose service, found as the roles find it (compose names it from the folder). */
const container = (host: string, service: string) => onHost(host, `sudo docker ps -q --filter label=com.docker.compose.service=${service}`).out;
const inspectService = (host: string, service: string, format: string) =>
  onHost(host, `sudo docker inspect -f '${format}' $(sudo docker ps -q --filter label=com.docker.compose.service=${service})`).out;
/** A file as the bundle tarball on the host ships it. */
const shipped = (host: string, plane: 'cp' | 'dp', file: string) =>
  onHost(host, `sudo tar -xzOf /opt/api7/bundles/api7-2.13.2304-${plane}.tar.gz api7-2.13.2304-${plane}/${file}`).out;

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
/** Every key path of a parsed document with its value; lists of maps by index (users.0.password), other lists whole. */
function flat(v: unknown, at = ''): Record<string, unknown> {
  const under = (k: string | number) => (at ? `${at}.${k}` : String(k));
  if (isMap(v)) return Object.assign({}, ...Object.entries(v).map(([k, x]) => flat(x, under(k))));
  if (Array.isArray(v) && v.length && v.every(isMap)) return Object.assign({}, ...v.map((x, i) => flat(x, under(i))));
  return { [at]: v };
}
const differingKeys = (a: string, b: string) => {
  const [x, y] = [flat(parse(a)), flat(parse(b))];
  return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]));
};
const commentsOf = (t: string) => t.split('\n').map((l) => /#\s*(.*)$/.exec(l)?.[1]?.trim()).filter(Boolean).sort();

const changed = (r: Report) => r.results.filter((x) => x.status === 'changed');
const step = (r: Report, host: string, play: string, name: string) => r.results.find((x) => x.host === host && x.play === play && x.step === name);

function expectHealthyEtcd(): void {
  const health = etcdctl('lab1', 'endpoint health');
  expect(health.out.match(/ is healthy: /g)?.length, health.out).toBe(3);
  const status = etcdctl('lab1', 'endpoint status');
  expect(status.out.split('\n').filter((l) => l.split(', ')[4] === 'true').length, status.out).toBe(1);
}

const STACK = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5'];
/** The plays that build something on each stack host (besides docker). */
const BUILT_BY: Record<string, string[]> = { lab1: ['etcd', 'dashboard'], lab2: ['etcd', 'dashboard'], lab3: ['etcd'], lab4: ['gateway'], lab5: ['gateway'] };

describe('the stack on the lab (site playbook)', () => {
  /** The first test's run, when there were bare hosts to run it on; the next test checks the stack it built. */
  let fromBare: Report | undefined;

  it('from bare hosts: site installs Docker from the cached .debs (with compose) and builds the stack on them', async (ctx) => {
    const bare = STACK.filter((h) => !hasDockerEngine(h));
    // 10 leaves the stack hosts this run's lab created without Docker.
    for (const fresh of inject('labCreatedHosts').filter((h) => STACK.includes(h))) expect(bare, fresh).toContain(fresh);
    if (!bare.length) ctx.skip('every stack host has Docker already (lab reused): `site` from bare hosts needs a fresh lab (lab down, then up)');
    fromBare = await site();
    expect(fromBare.exitCode, JSON.stringify(fromBare.errors)).toBe(0);
    for (const h of STACK) {
      expect(step(fromBare, h, 'docker', 'Docker >= 20.10.7 installed')?.status, h).toBe(bare.includes(h) ? 'changed' : 'ok');
      expect(onHost(h, 'sudo docker info --format "{{.ServerVersion}}"').out, h).toMatch(/^20\.10\.\d+/);
      expect(onHost(h, 'docker-compose version --short').out, h).toMatch(/^1\.29\./);
      expect(onHost(h, 'systemctl is-enabled docker').out, h).toBe('enabled');
    }
    // The same run built the stack on the hosts it had just given Docker.
    for (const h of bare) {
      const plays = new Set(changed(fromBare).filter((x) => x.host === h).map((x) => x.play));
      expect([...plays].sort(), h).toEqual(expect.arrayContaining(['docker', ...BUILT_BY[h]].sort()));
    }
  });

  it('reaches 3 healthy etcd members, 2 dashboards, 2 gateways and the guide check', async () => {
    const r = fromBare ?? (await site());
    expect(r.exitCode, JSON.stringify(r.errors)).toBe(0);
    expectHealthyEtcd();
    // At the host's own address, as the LB reaches it (not over the bundle's bridge from loopback).
    for (const h of ['lab1', 'lab2']) expect(onHost(h, `curl -sS http://${ip(h)}:9000/ping`).out).toBe('pong');
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
    expect(onHost('lab1', `sudo stat -c %a ${CP}/dashboard_conf/conf.yaml`).out).toBe('600');
  });

  it("runs the bundles as shipped: their registry-named images, their compose files byte for byte, conf edited only in the named keys, etcd from the inventory's image with the guide's env", () => {
    for (const h of ['lab1', 'lab2']) {
      expect(inspectService(h, 'api7-dashboard', '{{.Config.Image}}'), h).toBe('api7ee.azurecr.io/api7-dashboard:2.13.2304');
      // compose's own project, network and published port (the guide's `docker ps`), in the bundle's folder.
      expect(inspectService(h, 'api7-dashboard', '{{index .Config.Labels "com.docker.compose.project.working_dir"}}'), h).toBe(CP);
      // compose v2 names it api7-2132304-cp-api7-dashboard-1, v1 api7-2132304-cp_api7-dashboard_1.
      expect(inspectService(h, 'api7-dashboard', '{{.Name}}'), h).toMatch(/^\/api7-2132304-cp[-_]api7-dashboard[-_]1$/);
      expect(inspectService(h, 'api7-dashboard', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}'), h).toBe('api7-2132304-cp_api7');
      expect(onHost(h, `sudo sha256sum < ${CP}/docker-compose.yaml`).out, h).toBe(onHost(h, `sudo tar -xzOf /opt/api7/bundles/api7-2.13.2304-cp.tar.gz api7-2.13.2304-cp/docker-compose.yaml | sha256sum`).out);
      const [ship, deployed] = [shipped(h, 'cp', 'dashboard_conf/conf.yaml'), onHost(h, `sudo cat ${CP}/dashboard_conf/conf.yaml`).out];
      // The guide's conf.etcd keys, plus the console login: the JWT secret and the admin user's password.
      // allow_list stays as shipped (the lab sets no dashboard_allow_list).
      const admin = (parse(ship) as { authentication: { users: { username: string }[] } }).authentication.users.findIndex((u) => u.username === 'admin');
      expect(admin, h).toBeGreaterThanOrEqual(0);
      const named = new RegExp(`^(conf\\.etcd\\.(name|endpoints|enable_auth|username|password|mtls\\.(enable|key_file|cert_file|ca_file)|prefix)|authentication\\.secret|authentication\\.users\\.${admin}\\.password)$`);
      expect(differingKeys(ship, deployed).filter((k) => !named.test(k)), h).toEqual([]);
      expect(differingKeys(ship, deployed), h).toContain('conf.etcd.endpoints');
      expect(commentsOf(deployed), h).toEqual(commentsOf(ship));
    }
    for (const h of ['lab4', 'lab5']) {
      expect(inspectService(h, 'api7-gateway', '{{.Config.Image}}'), h).toBe('api7ee.azurecr.io/api7-gateway:2.13.2304');
      expect(onHost(h, `sudo sha256sum < ${DP}/docker-compose.yaml`).out, h).toBe(onHost(h, `sudo tar -xzOf /opt/api7/bundles/api7-2.13.2304-dp.tar.gz api7-2.13.2304-dp/docker-compose.yaml | sha256sum`).out);
      const [ship, deployed] = [shipped(h, 'dp', 'gateway_conf/config.yaml'), onHost(h, `sudo cat ${DP}/gateway_conf/config.yaml`).out];
      expect(differingKeys(ship, deployed).filter((k) => !/^etcd\.(host|prefix)$/.test(k)), h).toEqual([]);
      expect(commentsOf(deployed), h).toEqual(commentsOf(ship));
      expect(onHost(h, `ls ${DP}`).out.split('\n')).toEqual(expect.arrayContaining(['cli.sh', 'docker-compose.yaml', 'gateway_conf', 'gateway_logs', 'images']));
    }
    // The image the inventory names: the lab pins its own etcd (Debian's, under bitnami's name), not the default 3.4.13.
    const etcdVersion = loadInventory(PATHS.inventory).hosts.get('lab1')!.vars.etcd_version;
    expect(etcdVersion).toBe(ETCD_VERSION);
    ['lab1', 'lab2', 'lab3'].forEach((h, i) => {
      const env = onHost(h, "sudo docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' etcd").out.split('\n');
      expect(env, h).toEqual(expect.arrayContaining([
        'ALLOW_NONE_AUTHENTICATION=yes', `ETCD_NAME=api7-etcd-${i + 1}`, 'ETCD_INITIAL_CLUSTER_TOKEN=etcd-cluster', 'ETCD_DATA_DIR=/etcd_data', 'ETCD_ENABLE_V2=true',
      ]));
      expect(onHost(h, "sudo docker inspect -f '{{.Config.Image}}' etcd").out, h).toBe(`bitnami/etcd:${etcdVersion}`);
      expect(onHost(h, "sudo docker inspect -f '{{.Config.User}} {{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}}' etcd").out, h).toBe('root host always');
      expect(onHost(h, `sudo docker inspect -f '{{range .Mounts}}{{if eq .Destination "/etcd_data"}}{{.Source}}{{end}}{{end}}' etcd`).out, h).toBe('/usr/local/etcd/etcd_data');
    });
  });

  it('a second run changes nothing', async () => {
    const r = await site();
    expect(r.exitCode).toBe(0);
    expect(changed(r).map((x) => `${x.host} ${x.play} › ${x.step}`)).toEqual([]);
  });

  it('--check -v on the converged stack plans no write and no command (a drift would print them: next test)', async () => {
    const r = await site('--check', '-v');
    expect(r.exitCode).toBe(0);
    expect(r.results.filter((x) => x.planned?.length).map((x) => `${x.host} ${x.step}: ${x.planned!.join('; ')}`)).toEqual([]);
  });

  it("an operator's edit of a key we do not own is kept, and restarts only the gateways, one at a time, to be read", async () => {
    const before = ['lab1', 'lab2'].map((h) => inspectService(h, 'api7-dashboard', '{{.State.StartedAt}}'));
    const edit = (from: string, to: string) =>
      ['lab4', 'lab5'].forEach((h) => expect(onHost(h, `sudo sed -i 's/^  error_log_level: ${from}/  error_log_level: ${to}/' ${DP}/gateway_conf/config.yaml`).code).toBe(0));
    edit('warn', 'error');
    // Planned first: --check prints the exact command the run then runs on each gateway, and runs none of them.
    const plan = await site('--check');
    for (const h of ['lab4', 'lab5']) {
      expect(step(plan, h, 'gateway', 'gateway running and routing')?.planned, h).toContainEqual(expect.stringMatching(/^\$ .*compose.* up -d --force-recreate api7-gateway$/));
    }
    const r = await site();
    expect(r.exitCode, JSON.stringify(r.errors)).toBe(0);
    expect(new Set(changed(r).map((x) => x.play))).toEqual(new Set(['gateway']));
    for (const h of ['lab4', 'lab5']) {
      expect(step(r, h, 'gateway', 'gateway running and routing')?.changes.join(' '), h).toMatch(/conf written after the container started/);
      expect(parse(onHost(h, `sudo cat ${DP}/gateway_conf/config.yaml`).out).nginx_config.error_log_level, h).toBe('error');
    }
    expect(['lab1', 'lab2'].map((h) => inspectService(h, 'api7-dashboard', '{{.State.StartedAt}}'))).toEqual(before);

    // One at a time: the gateway restarted second started only after the first one said it was running.
    const started = ['lab4', 'lab5'].map((h) => ({ h, at: inspectService(h, 'api7-gateway', '{{.State.StartedAt}}') }));
    started.sort((a, b) => a.at.localeCompare(b.at));
    const [first, second] = started;
    const running = onHost(first.h, `sudo docker logs --timestamps ${container(first.h, 'api7-gateway')} 2>&1 | grep -m1 "gateway is running"`).out.split(' ')[0];
    expect(running, `${first.h} log`).toMatch(/^\d{4}-/);
    expect(new Date(second.at).getTime()).toBeGreaterThanOrEqual(new Date(running).getTime());

    edit('error', 'warn');
    const back = await site();
    expect(back.exitCode).toBe(0);
    expect(new Set(changed(back).map((x) => x.play))).toEqual(new Set(['gateway']));
    const again = await site();
    expect(changed(again).map((x) => `${x.host} ${x.play} › ${x.step}`)).toEqual([]);
  });

  it('an etcd member that lost its data directory and stopped rejoins on the next run, with the data', async () => {
    expect(etcdctl('lab1', 'put /gatewright-e2e/before-wipe kept').code).toBe(0);
    expect(onHost('lab3', 'sudo docker stop etcd && sudo rm -rf /usr/local/etcd/etcd_data').code).toBe(0);

    const r = await site();
    expect(r.exitCode, JSON.stringify(r.errors)).toBe(0);
    expect(step(r, 'lab3', 'etcd', 'etcd member')?.changes.join(' ')).toMatch(/has no data: \(re\)add it to the cluster through lab[12]$/);
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
    expect(onHost('lab4', `sudo cat ${DP}/gateway_conf/config.yaml`).out).toMatch(/deployment:\n\s+role: data_plane/);
    expect(etcdctl('lab1', 'get --keys-only --prefix /apisix/routes/').out).toContain('/apisix/routes/gatewright-smoke');
    expect(throughGateway('lab5', 'test.com').status).toBe(200);

    const back = await site();
    expect(back.exitCode, JSON.stringify(back.errors)).toBe(0);
    expect(onHost('lab4', `sudo cat ${DP}/gateway_conf/config.yaml`).out).toMatch(/prefix: \/api7\/default/);
    const again = await site();
    expect(changed(again).map((x) => `${x.host} ${x.play} › ${x.step}`)).toEqual([]);
  });
});
