// The stand-in stack against a real 3-node etcd: routes written through one dashboard are served by two
// gateways to real upstreams, and the whole keeps its contract through etcd faults.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEtcdCluster, type EtcdCluster } from './etcd-cluster.ts';
import { Harness, type Dashboard, type Gateway } from './harness.ts';
import { ask, eventually } from './http.ts';

let etcd: EtcdCluster;
let lab: Harness;
let dashboard: Dashboard;
let otherDashboard: Dashboard;
let gateways: Gateway[];
let upstreams: { port: number }[];
let token: string;

const route = (port: number, extra: object = {}) => ({
  uri: '/get',
  host: 'test.com',
  upstream: { type: 'roundrobin', nodes: { [`127.0.0.1:${port}`]: 1 } },
  ...extra,
});

beforeAll(async () => {
  [etcd, lab] = await Promise.all([startEtcdCluster({ size: 3 }), Harness.create()]);
  upstreams = await Promise.all([lab.upstream('up1'), lab.upstream('up2')]);
  const etcdOptions = { endpoints: etcd.endpoints, prefix: '/api7' };
  [dashboard, otherDashboard] = await Promise.all([
    lab.dashboard(etcdOptions),
    // admits only 127.0.0.2: the tests' usual source 127.0.0.1 must be refused
    lab.dashboard({ ...etcdOptions, allowList: ['127.0.0.2/32'] }),
  ]);
  const gatewayOptions = { layout: 'api7' as const, endpoints: etcd.endpoints, prefix: '/api7/default' };
  gateways = await Promise.all([lab.gateway({ ...gatewayOptions, tls: true }), lab.gateway(gatewayOptions)]);
  token = await dashboard.login();
  expect((await dashboard.api('PUT', '/apisix/admin/clusters/default', { name: 'default' }, { token })).status).toBe(200);
});

afterAll(async () => {
  await lab?.close();
  await etcd?.close();
});

describe('dashboard', () => {
  test('answers /ping and reports its version', async () => {
    const answer = await dashboard.api('GET', '/ping');
    expect(answer.body).toBe('pong');
    expect(answer.headers['x-api7-version']).toBe('2.13.2304');
  });

  test('refuses a wrong password with 401 and a non-zero code', async () => {
    const answer = await dashboard.api('POST', '/apisix/admin/user/login', { username: 'admin', password: 'wrong' });
    expect(answer.status).toBe(401);
    expect(answer.json().code).not.toBe(0);
  });

  test('refuses admin calls without a valid token', async () => {
    expect((await dashboard.api('GET', '/apisix/admin/routes')).status).toBe(401);
    expect((await dashboard.api('GET', '/apisix/admin/routes', undefined, { token: `${token}x` })).status).toBe(401);
  });

  test('enforces allow_list: 403 from other addresses, served from listed ones', async () => {
    const refused = await otherDashboard.api('GET', '/ping');
    expect(refused.status).toBe(403);
    expect(refused.json().code).not.toBe(0);
    expect((await otherDashboard.api('GET', '/ping', undefined, { localAddress: '127.0.0.2' })).body).toBe('pong');
  });

  test('PUT of a route into an unknown cluster is 404', async () => {
    const answer = await dashboard.api('PUT', '/apisix/admin/routes/r0?cluster_id=nope', route(upstreams[0].port), { token });
    expect(answer.status).toBe(404);
  });

  test('rejects an invalid route body with 400', async () => {
    const answer = await dashboard.api('PUT', '/apisix/admin/routes/bad?cluster_id=default', { uri: '/x' }, { token });
    expect(answer.status).toBe(400);
  });
});

describe('gateways', () => {
  test('a route written through one dashboard is served by both gateways, and read back through the other', async () => {
    const put = await dashboard.api('PUT', '/apisix/admin/routes/r1?cluster_id=default', route(upstreams[0].port), { token });
    expect(put.json()).toMatchObject({ code: 0, data: { id: 'r1', uri: '/get' } });
    for (const gateway of gateways) {
      const answer = await eventually(() => gateway.get('/get?x=1', 'test.com'), (a) => a.status === 200);
      expect(answer.json()).toMatchObject({ args: { x: '1' }, url: 'http://test.com/get?x=1', headers: { 'X-Forwarded-For': '127.0.0.1' } });
      expect(answer.headers.server).toBe('APISIX/2.13.2304');
    }
    const read = await otherDashboard.api('GET', '/apisix/admin/routes?cluster_id=default', undefined, { token, localAddress: '127.0.0.2' });
    expect(read.json().data.rows.map((r: { id: string }) => r.id)).toContain('r1');
  });

  test('unknown host or path is 404 with APISIX error body', async () => {
    const answer = await gateways[0].get('/get', 'other.com');
    expect(answer.status).toBe(404);
    expect(answer.json()).toEqual({ error_msg: '404 Route Not Found' });
  });

  test('balances round-robin by weight (node list form, prefix URI)', async () => {
    const nodes = [
      { host: '127.0.0.1', port: upstreams[0].port, weight: 2 },
      { host: '127.0.0.1', port: upstreams[1].port, weight: 1 },
    ];
    await dashboard.api('PUT', '/apisix/admin/routes/rr?cluster_id=default', { uri: '/anything/*', hosts: ['rr.test'], upstream: { nodes } }, { token });
    await eventually(() => gateways[1].get('/anything/a', 'rr.test'), (a) => a.status === 200);
    const seen: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      const name = String((await gateways[1].get(`/anything/${i}`, 'rr.test')).headers['x-upstream-name']);
      seen[name] = (seen[name] ?? 0) + 1;
    }
    expect(seen).toEqual({ up1: 20, up2: 10 });
  });

  test('answers on the TLS listener', async () => {
    const answer = await gateways[0].get('/get', 'test.com', true);
    expect(answer.status).toBe(200);
    expect(answer.json().headers['X-Forwarded-Proto']).toBe('https');
  });

  test('502 when the upstream is unreachable', async () => {
    const closed = { uri: '/dead', upstream: { nodes: { '127.0.0.1:1': 1 } } };
    await dashboard.api('PUT', '/apisix/admin/routes/dead?cluster_id=default', closed, { token });
    const answer = await eventually(() => gateways[0].get('/dead', 'any.host'), (a) => a.status !== 404);
    expect(answer.status).toBe(502);
  });

  test('the watch picks up a route update and a delete', async () => {
    await dashboard.api('PUT', '/apisix/admin/routes/w?cluster_id=default', route(upstreams[0].port, { uri: '/status/201', host: 'w.test' }), { token });
    await eventually(() => gateways[1].get('/status/201', 'w.test'), (a) => a.status === 201);
    await dashboard.api('PUT', '/apisix/admin/routes/w?cluster_id=default', route(upstreams[0].port, { uri: '/status/202', host: 'w.test' }), { token });
    await eventually(() => gateways[1].get('/status/202', 'w.test'), (a) => a.status === 202);
    expect((await gateways[1].get('/status/201', 'w.test')).status).toBe(404);
    expect((await dashboard.api('DELETE', '/apisix/admin/routes/w?cluster_id=default', undefined, { token })).status).toBe(200);
    await eventually(() => gateways[1].get('/status/202', 'w.test'), (a) => a.status === 404);
  });

  test('exports the Prometheus metrics of the contract', async () => {
    await gateways[0].get('/get', 'test.com');
    const text = await gateways[0].metrics();
    expect(text).toMatch(/^apisix_http_status\{code="200",route="r1",matched_uri="\/get",matched_host="test.com",[^}]*\} \d+$/m);
    expect(text).toMatch(/^apisix_etcd_reachable 1$/m);
    expect(text).toMatch(/^apisix_node_info\{hostname="[^"]+",version="2.13.2304"\} 1$/m);
    expect(text).toMatch(/^apisix_routes_total [1-9]\d*$/m);
  });
});

describe('etcd faults', () => {
  test('dashboard writes fail with a 5xx JSON without quorum, and succeed again once it is back', async () => {
    // Talks only to the member that stays up, so the failure is the lost quorum, not a dead endpoint.
    const survivor = await lab.dashboard({ endpoints: [etcd.members[0].clientUrl], prefix: '/api7' });
    await etcd.members[1].stop();
    await etcd.members[2].stop();
    const body = route(upstreams[0].port, { host: 'q.test' });
    const failed = await survivor.api('PUT', '/apisix/admin/routes/q?cluster_id=default', body, { token });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(failed.json()).toMatchObject({ code: expect.any(Number), message: expect.stringMatching(/^etcd: /) });
    expect(failed.json().code).not.toBe(0);
    await Promise.all([etcd.members[1].start(), etcd.members[2].start()]);
    await etcd.waitHealthy();
    const retried = await eventually(() => survivor.api('PUT', '/apisix/admin/routes/q?cluster_id=default', body, { token }), (a) => a.status === 200, 30_000);
    expect(retried.json().code).toBe(0);
    await survivor.proc.stop();
  });

  test('gateways keep serving with the whole etcd stopped, and resync when it is back', async () => {
    await Promise.all(etcd.members.map((m) => m.stop()));
    for (const gateway of gateways) {
      for (let i = 0; i < 5; i++) expect((await gateway.get('/get', 'test.com')).status).toBe(200);
      await eventually(() => gateway.metrics(), (t) => /^apisix_etcd_reachable 0$/m.test(t), 20_000);
    }
    await Promise.all(etcd.members.map((m) => m.start()));
    await etcd.waitHealthy();
    await eventually(
      () => dashboard.api('PUT', '/apisix/admin/routes/back?cluster_id=default', route(upstreams[0].port, { host: 'back.test' }), { token }),
      (a) => a.status === 200,
      30_000,
    );
    for (const gateway of gateways) {
      await eventually(() => gateway.get('/get', 'back.test'), (a) => a.status === 200, 30_000);
      expect(await gateway.metrics()).toMatch(/^apisix_etcd_reachable 1$/m);
    }
  });
});

describe('processes', () => {
  test('each stand-in idles light (regression guard; node 20 alone is ~40 MiB, etcd3+grpc-js add ~20)', () => {
    for (const proc of [dashboard.proc, otherDashboard.proc, ...gateways.map((g) => g.proc)]) {
      const rss = proc.rssMiB();
      console.log(`${proc.name} pid ${proc.pid}: ${rss.toFixed(1)} MiB RSS`);
      expect(rss, proc.name).toBeLessThan(96);
    }
  });

  test('a gateway stopped under load finishes the request in flight and exits 0', async () => {
    await dashboard.api('PUT', '/apisix/admin/routes/slow?cluster_id=default', route(upstreams[0].port, { uri: '/delay/*', host: 'slow.test' }), { token });
    await eventually(() => gateways[1].get('/delay/0', 'slow.test'), (a) => a.status === 200);
    const inFlight = gateways[1].get('/delay/2', 'slow.test');
    await new Promise((r) => setTimeout(r, 500)); // let the request reach the upstream
    const exitCode = gateways[1].proc.stop();
    expect((await inFlight).status).toBe(200);
    expect(await exitCode).toBe(0);
    expect(gateways[1].proc.output).toMatch(/SIGTERM received/);
  });
});
