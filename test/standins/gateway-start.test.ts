// The gateway's start-up rules against a real 3-node etcd: both config layouts, and APISIX's
// "refuse to start when half or more of the etcd hosts are unreachable".
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startEtcdCluster, type EtcdCluster } from './etcd-cluster.ts';
import { Harness, type Dashboard } from './harness.ts';
import { eventually } from './http.ts';

let etcd: EtcdCluster;
let lab: Harness;
let upstreamPort: number;
let api7Dashboard: Dashboard;
let apisixDashboard: Dashboard;

const route = (host: string) => ({ uri: '/get', host, upstream: { nodes: { [`127.0.0.1:${upstreamPort}`]: 1 } } });

beforeAll(async () => {
  [etcd, lab] = await Promise.all([startEtcdCluster({ size: 3 }), Harness.create()]);
  upstreamPort = (await lab.upstream()).port;
  [api7Dashboard, apisixDashboard] = await Promise.all([
    lab.dashboard({ endpoints: etcd.endpoints, prefix: '/api7' }),
    lab.dashboard({ endpoints: etcd.endpoints, prefix: '/apisix' }),
  ]);
});

afterAll(async () => {
  await lab?.close();
  await etcd?.close();
});

test('API7 2.x layout (etcd at the top, prefix /api7/<cluster>) serves the routes of its cluster', async () => {
  const token = await api7Dashboard.login();
  await api7Dashboard.api('PUT', '/apisix/admin/clusters/blue', { name: 'blue' }, { token });
  expect((await api7Dashboard.api('PUT', '/apisix/admin/routes/1?cluster_id=blue', route('blue.test'), { token })).status).toBe(200);
  expect(await etcd.etcdctl(['get', '--prefix', '--keys-only', '/api7/blue/routes/'])).toContain('/api7/blue/routes/1');
  const gateway = await lab.gateway({ layout: 'api7', endpoints: etcd.endpoints, prefix: '/api7/blue' });
  expect((await gateway.get('/get', 'blue.test')).status).toBe(200);
});

test('APISIX 3 layout (deployment.etcd, prefix /apisix) serves routes written without a cluster', async () => {
  const token = await apisixDashboard.login();
  expect((await apisixDashboard.api('PUT', '/apisix/admin/routes/7', route('three.test'), { token })).status).toBe(200);
  expect(await etcd.etcdctl(['get', '--prefix', '--keys-only', '/apisix/routes/'])).toContain('/apisix/routes/7');
  const gateway = await lab.gateway({ layout: 'apisix3', endpoints: etcd.endpoints, prefix: '/apisix' });
  const answer = await eventually(() => gateway.get('/get', 'three.test'), (a) => a.status === 200);
  expect(answer.json().url).toBe('http://three.test/get');
});

test('starts with 1 of 3 etcd members down', async () => {
  await etcd.members[2].stop();
  const gateway = await lab.gateway({ layout: 'apisix3', endpoints: etcd.endpoints, prefix: '/apisix' });
  expect((await gateway.get('/get', 'three.test')).status).toBe(200);
});

test('refuses to start, saying why, with 2 of 3 etcd members down', async () => {
  await etcd.members[1].stop();
  const gateway = await lab.spawnGateway({ layout: 'apisix3', endpoints: etcd.endpoints, prefix: '/apisix' });
  expect(await gateway.proc.exit).toBe(1);
  expect(gateway.proc.output).toMatch(/failed to connect etcd: [23] of 3 hosts unreachable, refusing to start/);
  expect(gateway.proc.output).not.toMatch(/gateway is running/);
});
