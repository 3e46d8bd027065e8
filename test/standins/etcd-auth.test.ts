// etcd user auth: with root's right password the stand-ins work; with a wrong or missing one they
// refuse to start and say it is the credentials.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startEtcdCluster, type EtcdCluster } from './etcd-cluster.ts';
import { Harness } from './harness.ts';
import { eventually } from './http.ts';

const ROOT_PASSWORD = 'etcd-root-test-password';
let etcd: EtcdCluster;
let lab: Harness;
let upstreamPort: number;

beforeAll(async () => {
  [etcd, lab] = await Promise.all([startEtcdCluster({ size: 3 }), Harness.create()]);
  await etcd.enableAuth(ROOT_PASSWORD);
  upstreamPort = (await lab.upstream()).port;
});

afterAll(async () => {
  await lab?.close();
  await etcd?.close();
});

test('dashboard and gateway with the right root password store and serve a route', async () => {
  const dashboard = await lab.dashboard({ endpoints: etcd.endpoints, prefix: '/api7', username: 'root', password: ROOT_PASSWORD });
  const token = await dashboard.login();
  expect((await dashboard.api('PUT', '/apisix/admin/clusters/default', { name: 'default' }, { token })).status).toBe(200);
  const body = { uri: '/get', host: 'auth.test', upstream: { nodes: { [`127.0.0.1:${upstreamPort}`]: 1 } } };
  expect((await dashboard.api('PUT', '/apisix/admin/routes/a?cluster_id=default', body, { token })).status).toBe(200);
  const gateway = await lab.gateway({ layout: 'api7', endpoints: etcd.endpoints, prefix: '/api7/default', user: 'root', password: ROOT_PASSWORD });
  await eventually(() => gateway.get('/get', 'auth.test'), (a) => a.status === 200);
});

test('a wrong password stops both at start with an authentication message', async () => {
  const dashboard = await lab.spawnDashboard({ endpoints: etcd.endpoints, prefix: '/api7', username: 'root', password: 'wrong' });
  const gateway = await lab.spawnGateway({ layout: 'api7', endpoints: etcd.endpoints, prefix: '/api7/default', user: 'root', password: 'wrong' });
  expect(await dashboard.proc.exit).toBe(1);
  expect(dashboard.proc.output).toMatch(/etcd authentication failed for user 'root'/);
  expect(await gateway.proc.exit).toBe(1);
  expect(gateway.proc.output).toMatch(/etcd authentication failed for user 'root'/);
  for (const output of [dashboard.proc.output, gateway.proc.output]) expect(output).not.toContain('wrong');
});

test('no credentials against an etcd with auth enabled fail the same way', async () => {
  const gateway = await lab.spawnGateway({ layout: 'api7', endpoints: etcd.endpoints, prefix: '/api7/default' });
  expect(await gateway.proc.exit).toBe(1);
  expect(gateway.proc.output).toMatch(/etcd authentication failed/);
});

test("the shipped sample credentials do not count while conf.etcd.enable_auth is false (API7's switch)", async () => {
  const dashboard = await lab.spawnDashboard({ endpoints: etcd.endpoints, prefix: '/api7', username: 'root', password: ROOT_PASSWORD, enableAuth: false });
  expect(await dashboard.proc.exit).toBe(1);
  expect(dashboard.proc.output).toMatch(/etcd authentication failed/);
});

test('a misspelt key stops either stand-in at start, naming the key', async () => {
  const dashboard = await lab.spawnDashboard({ endpoints: etcd.endpoints, prefix: '/api7', username: 'root', password: ROOT_PASSWORD, edits: [[['conf', 'etcd', 'enable_auht'], true]] });
  const gateway = await lab.spawnGateway({ layout: 'api7', endpoints: etcd.endpoints, prefix: '/api7/default', user: 'root', password: ROOT_PASSWORD, edits: [[['etcd', 'username'], 'root']] });
  expect(await dashboard.proc.exit).toBe(1);
  expect(dashboard.proc.output).toContain('conf.etcd.enable_auht: unknown key');
  expect(await gateway.proc.exit).toBe(1);
  expect(gateway.proc.output).toContain('etcd.username: unknown key');
});
