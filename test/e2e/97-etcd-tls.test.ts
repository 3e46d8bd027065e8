// etcd with client TLS (client-cert-auth) and auth on, deployed by `site` on fresh lab hosts: client TLS is
// chosen at a cluster's first deployment, so this file recreates the lab. One certificate serves each member as
// its server and client certificate and the consoles and gateways as their client certificate. Its CommonName
// is `root`, the name of etcd's admin user, which etcd takes as the user of a request that brings no
// credentials: the etcd role's auth probe must read auth as on all the same, and a rerun must change nothing.
// The lab ends as the earlier files left it (recreated, site without TLS), unless the next file takes it
// down anyway (LAB_DOWN_TEST=1, as in CI).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { down, up } from '../../lab/index.ts';
import { cliRunner, DASHBOARD_PASSWORD, ip, onHost, runLogs, throughGateway, type Report } from './helpers.ts';

const ETCD_HOSTS = ['lab1', 'lab2', 'lab3'];
const ROOT_PASSWORD = 'e2e-Tls:root/pw#97!';
const dir = mkdtempSync(join(tmpdir(), 'gw-e2e-97-certs-'));
const file = (name: string) => join(dir, name);
/** Where the etcd role puts the member's ca.pem, cert.pem and key.pem on the host (<etcd_data_dir>/../certs). */
const HOST_CERTS = '/usr/local/etcd/certs';

/** A CA and one certificate for every etcd host's address, good as server and as client, CN root. */
function makeCerts(): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=gatewright-e2e-etcd-ca', '-keyout', file('ca.key'), '-out', file('ca.pem'));
  const sans = ETCD_HOSTS.map((h) => `IP:${ip(h)}`).join(',');
  writeFileSync(file('ext'), `subjectAltName=${sans},IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=root', '-keyout', file('key.pem'), '-out', file('csr'));
  openssl('x509', '-req', '-in', file('csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('ext'), '-out', file('cert.pem'));
  writeFileSync(file('root-password'), `${ROOT_PASSWORD}\n`, { mode: 0o600 });
}

const tlsSite = cliRunner('97', [
  '-e', `dashboard_admin_password=${DASHBOARD_PASSWORD}`,
  '-e', 'etcd_tls_enabled=true',
  '-e', `etcd_tls_ca_file=${file('ca.pem')}`,
  '-e', `etcd_tls_cert_file=${file('cert.pem')}`,
  '-e', `etcd_tls_key_file=${file('key.pem')}`,
  '-e', 'etcd_auth_enabled=true',
  '-e', `etcd_root_password=${ROOT_PASSWORD}`,
]);
const plainSite = cliRunner('97-restore', ['-e', `dashboard_admin_password=${DASHBOARD_PASSWORD}`]);
const changedSteps = (r: Report) => r.results.filter((x) => x.status === 'changed').map((x) => `${x.host} ${x.play} › ${x.step}`);

/** curl on an etcd host to a member's client port; `tls`: which certificates it presents. */
function curlEtcd(host: string, path: string, tls: 'none' | 'ca only' | 'client cert'): { code: number; out: string } {
  const flags = { none: '', 'ca only': `--cacert ${HOST_CERTS}/ca.pem`, 'client cert': `--cacert ${HOST_CERTS}/ca.pem --cert ${HOST_CERTS}/cert.pem --key ${HOST_CERTS}/key.pem` }[tls];
  const scheme = tls === 'none' ? 'http' : 'https';
  return onHost(host, `sudo curl -sS --max-time 5 ${flags} ${scheme}://${ip(host)}:2379${path}`);
}

/** etcdctl in `host`'s member with the member's certificates, and `user` ("name:password") from stdin. */
function etcdctlTls(host: string, args: string, user?: string): { code: number; out: string } {
  const tls = `--endpoints=https://${ip(host)}:2379 --cacert=/etcd-certs/ca.pem --cert=/etcd-certs/cert.pem --key=/etcd-certs/key.pem`;
  if (user === undefined) return onHost(host, `sudo docker exec etcd etcdctl ${tls} ${args}`);
  return onHost(host, `sudo sh -c 'read -r ETCDCTL_USER && export ETCDCTL_USER && exec docker exec -e ETCDCTL_USER etcd etcdctl ${tls} ${args}'`, `${user}\n`);
}

describe('etcd with client TLS and auth, on fresh hosts (site playbook)', () => {
  let first: Report;

  beforeAll(async () => {
    makeCerts();
    await down();
    await up();
    first = await tlsSite('site');
  });

  afterAll(async () => {
    if (process.env.LAB_DOWN_TEST === '1') return;
    await down();
    await up();
    expect((await plainSite('site')).exitCode).toBe(0);
  });

  it('deploys the stack with every etcd client on TLS and auth on; no secret in the report or the logs', () => {
    expect(first.errors).toEqual([]);
    expect(first.exitCode).toBe(0);
    const key = readFileSync(file('key.pem'), 'utf8').split('\n').find((l) => l.length > 40)!;
    for (const secret of [ROOT_PASSWORD, key]) {
      expect(JSON.stringify(first)).not.toContain(secret);
      expect(runLogs(first)).not.toContain(secret);
    }
    for (const host of ETCD_HOSTS) expect(onHost(host, `sudo stat -c %a ${HOST_CERTS}/key.pem`).out).toBe('600');
  });

  it('each member answers only TLS clients that present a certificate', () => {
    for (const host of ETCD_HOSTS) {
      expect(curlEtcd(host, '/health', 'client cert').out).toMatch(/"health":\s*"true"/);
      expect(curlEtcd(host, '/health', 'none').out).not.toMatch(/"health"/);
      expect(curlEtcd(host, '/health', 'ca only').code).not.toBe(0);
    }
    const members = etcdctlTls('lab1', 'member list', `root:${ROOT_PASSWORD}`);
    expect(members.code, members.out).toBe(0);
    expect(members.out.match(/https:\/\/10\.\d+\.\d+\.\d+:2379/g)).toHaveLength(3);
  });

  it('auth is on: a login that etcd does not know is refused, root with its password is not', () => {
    const stranger = etcdctlTls('lab2', 'user list', 'nobody:not-the-password');
    expect(stranger.code).not.toBe(0);
    expect(stranger.out).toMatch(/authentication failed/);
    const root = etcdctlTls('lab2', 'user list', `root:${ROOT_PASSWORD}`);
    expect(root.code, root.out).toBe(0);
    expect(root.out).toMatch(/^root$/m);
  });

  it('the consoles and gateways work through it: the smoke route answers through both gateways', async () => {
    for (const gw of ['lab4', 'lab5']) {
      await vi.waitFor(() => expect(throughGateway(gw, 'test.com').status).toBe(200), { timeout: 30_000, interval: 1000 });
    }
  });

  it('a rerun reads auth as on (the certificate names root) and changes nothing', async () => {
    const again = await tlsSite('site');
    expect(again.errors).toEqual([]);
    expect(changedSteps(again)).toEqual([]);
    expect(again.exitCode).toBe(0);
  });
});
