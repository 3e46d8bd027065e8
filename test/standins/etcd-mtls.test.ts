// etcd over TLS with client certificates: the dashboard uses conf.etcd.mtls only when mtls.enable is
// true (endpoints without a scheme then go over https), the gateway uses APISIX's etcd.tls.{cert,key}
// and apisix.ssl.ssl_trusted_certificate. One real etcd member on loopback requiring client certs.
import { spawn, spawnSync, type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { authProbeCmd, parseAuthProbe } from '../../ops/etcdctl.ts';
import { IN_CERTS } from '../../ops/layout.ts';
import { Harness } from './harness.ts';
import { eventually } from './http.ts';
import { freePort } from './ports.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'gatewright-etcd-tls-'));
const f = (name: string) => path.join(dir, name);
let etcd: ChildProcess;
let lab: Harness;
let clientPort: number;

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCerts(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth'], ['client', 'extendedKeyUsage=clientAuth']]) {
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
  }
}

beforeAll(async () => {
  makeCerts();
  clientPort = await freePort();
  const peer = `http://127.0.0.1:${await freePort()}`;
  const client = `https://127.0.0.1:${clientPort}`;
  const log = openSync(f('etcd.log'), 'w');
  etcd = spawn('etcd', [
    '--name', 'tls1', '--data-dir', f('data'), '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `tls1=${peer}`,
    '--cert-file', f('server.crt'), '--key-file', f('server.key'), '--trusted-ca-file', f('ca.crt'), '--client-cert-auth',
  ], { stdio: ['ignore', log, log] });
  closeSync(log);
  const health = ['--endpoints', client, '--cacert', f('ca.crt'), '--cert', f('client.crt'), '--key', f('client.key'), 'endpoint', 'health'];
  for (let i = 0; ; i++) {
    try {
      execFileSync('etcdctl', health, { stdio: 'ignore' });
      break;
    } catch (err) {
      if (i >= 40) throw err;
      await sleep(250);
    }
  }
  lab = await Harness.create();
}, 60_000);

afterAll(async () => {
  await lab?.close();
  etcd?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const mtls = (enable: boolean): [string[], unknown][] => [
  [['conf', 'etcd', 'mtls', 'enable'], enable],
  [['conf', 'etcd', 'mtls', 'ca_file'], f('ca.crt')],
  [['conf', 'etcd', 'mtls', 'cert_file'], f('client.crt')],
  [['conf', 'etcd', 'mtls', 'key_file'], f('client.key')],
];

test('the dashboard with mtls.enable true reaches etcd over https with its client certificate', async () => {
  const dashboard = await lab.dashboard({ endpoints: [`127.0.0.1:${clientPort}`], prefix: '/api7', edits: mtls(true) });
  const token = await dashboard.login();
  expect((await dashboard.api('PUT', '/apisix/admin/clusters/default', { name: 'default' }, { token })).status).toBe(200);
});

test('the same files with mtls.enable false are not used: the dashboard cannot reach etcd', async () => {
  const dashboard = await lab.spawnDashboard({ endpoints: [`127.0.0.1:${clientPort}`], prefix: '/api7', edits: mtls(false) });
  expect(await dashboard.proc.exit).toBe(1);
  expect(dashboard.proc.output).toMatch(/cannot reach etcd/);
});

test("the gateway with etcd.tls.cert/key and apisix.ssl.ssl_trusted_certificate serves the cluster's routes", async () => {
  const upstream = await lab.upstream();
  const dashboard = await lab.dashboard({ endpoints: [`127.0.0.1:${clientPort}`], prefix: '/api7', edits: mtls(true) });
  const token = await dashboard.login();
  const body = { uri: '/get', host: 'tls.test', upstream: { nodes: { [`127.0.0.1:${upstream.port}`]: 1 } } };
  expect((await dashboard.api('PUT', '/apisix/admin/routes/t?cluster_id=default', body, { token })).status).toBe(200);
  const gateway = await lab.gateway({
    layout: 'api7',
    endpoints: [`https://127.0.0.1:${clientPort}`],
    prefix: '/api7/default',
    edits: [[['etcd', 'tls', 'cert'], f('client.crt')], [['etcd', 'tls', 'key'], f('client.key')], [['apisix', 'ssl', 'ssl_trusted_certificate'], f('ca.crt')]],
  });
  await eventually(() => gateway.get('/get', 'tls.test'), (a) => a.status === 200);
});

// Last: it turns auth on for a while. The etcd role's auth probe, against a member that requires client
// certificates and whose certificate's CommonName names a user with the root role (etcd would take it as the
// user of a request without credentials). Both ways: curl to the member's HTTP gateway, and etcdctl in the
// member's container when curl cannot answer (a stub `docker exec etcd etcdctl` runs etcdctl here, with the
// container's certificate folder mapped to the host's). Each stub of the other way fails loudly.
test('the auth probe reads auth off, on, off again, over curl and over etcdctl, whatever the certificate\'s CN', async () => {
  const certs = f('host-certs');
  mkdirSync(certs);
  copyFileSync(f('ca.crt'), path.join(certs, 'ca.pem'));
  copyFileSync(f('client.crt'), path.join(certs, 'cert.pem'));
  copyFileSync(f('client.key'), path.join(certs, 'key.pem'));
  const stub = (way: string, name: string, body: string) => {
    mkdirSync(f(way), { recursive: true });
    writeFileSync(path.join(f(way), name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(f(way), name), 0o755);
  };
  stub('curl', 'docker', 'echo "docker stub: the probe fell back to etcdctl" >&2; exit 97');
  stub('etcdctl', 'curl', 'echo "curl: (7) Failed to connect" >&2; exit 7');
  stub('etcdctl', 'docker', `[ "$1 $2 $3" = "exec etcd etcdctl" ] || exit 98; shift 3\nexec etcdctl $(printf '%s\\n' "$@" | sed 's|^\\(--[a-z]*=\\)${IN_CERTS}/|\\1${certs}/|')`);
  const url = `https://127.0.0.1:${clientPort}`;
  const probe = (way: 'curl' | 'etcdctl') => {
    const r = spawnSync('/bin/sh', ['-c', authProbeCmd(url, certs)], { env: { ...process.env, PATH: `${f(way)}:${process.env.PATH}` } });
    return parseAuthProbe({ code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), ok: r.status === 0 }, url);
  };
  const etcdctl = (...args: string[]) =>
    execFileSync('etcdctl', ['--endpoints', url, '--cacert', f('ca.crt'), '--cert', f('client.crt'), '--key', f('client.key'), ...args], { stdio: 'pipe' });

  expect([probe('curl'), probe('etcdctl')]).toEqual(['off', 'off']);
  etcdctl('user', 'add', 'root', '--new-user-password', 'probe-root-pw');
  etcdctl('user', 'add', 'client', '--new-user-password', 'probe-client-pw');
  etcdctl('user', 'grant-role', 'client', 'root');
  etcdctl('auth', 'enable');
  try {
    expect(execFileSync('etcdctl', ['--endpoints', url, '--cacert', f('ca.crt'), '--cert', f('client.crt'), '--key', f('client.key'), 'user', 'list']).toString()).toMatch(/root/);
    expect([probe('curl'), probe('etcdctl')]).toEqual(['on', 'on']);
  } finally {
    etcdctl('--user', 'root:probe-root-pw', 'auth', 'disable');
  }
  expect([probe('curl'), probe('etcdctl')]).toEqual(['off', 'off']);
});
