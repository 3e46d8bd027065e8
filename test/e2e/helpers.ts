// What the e2e files share: the real CLI with its --json report and the run's logs, a command on a lab host,
// etcdctl on an etcd host, curl through a gateway, a route through a console, the console password, a load
// through the LB.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { findHost, PATHS, sshOptions } from '../../lab/index.ts';
import { quote } from '../../lib/shell.ts';
import type { StepResult } from '../../lib/types.ts';
import { probe } from '../../roles/verify/http.ts';
import { startLoad, type LoadStats } from '../../roles/verify/load.ts';

export interface Report {
  exitCode: number;
  results: (StepResult & { data?: Record<string, unknown> })[];
  errors: { host: string; play: string; step: string; message: string; unreachable: boolean }[];
}

/** The console password 20-stack deploys with and 30-lb-verify redeploys with: the two must agree. */
export const DASHBOARD_PASSWORD = 'e2e-Dashboard-pw';

const run = promisify(execFile);

/**
 * `play(playbook, ...flags)` runs `node bin/play.mjs <playbook> -i inventory/lab.yaml --json <file>` (npm run play) plus
 * `flags` (and `always` flags, e.g. a password var) and returns the report whatever the exit code.
 */
export function cliRunner(name: string, always: string[] = []): (playbook: string, ...flags: string[]) => Promise<Report> {
  const dir = mkdtempSync(join(tmpdir(), `gw-e2e-${name}-`));
  let runs = 0;
  return async (playbook, ...flags) => {
    const json = join(dir, `${++runs}-${playbook}.json`);
    const args = ['bin/play.mjs', playbook, '-i', PATHS.inventory, '--json', json, ...always, ...flags];
    const code = await run(process.execPath, args, { maxBuffer: 64 << 20 }).then(
      () => 0,
      (e: { code?: number }) => e.code ?? -1,
    );
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    expect(report.exitCode).toBe(code);
    return report;
  };
}

/** A command on a lab host as ops over plain OpenSSH (sudo inside when needed); `input` is its stdin. */
export function onHost(host: string, command: string, input?: string): { code: number; out: string } {
  const r = spawnSync('ssh', [...sshOptions(), `ops@${findHost(host).ip}`, command], { encoding: 'utf8', timeout: 60_000, input });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`.trim() };
}

export const ip = (host: string): string => findHost(host).ip;

/** Docker's engine is installed on `host` (the distro package, as the lab's cached .debs install it; /usr/sbin is not on ops's PATH). */
export const hasDockerEngine = (host: string): boolean =>
  onHost(host, 'test -x /usr/sbin/dockerd && dpkg-query -W -f="\\${db:Status-Abbrev}" docker.io | grep -q "^ii"').code === 0;

/** Every per-host log of a run (.runs/<stamp>/<host>.log, stamped just before the report's start). */
export function runLogs(r: Report): string {
  const started = String((r as unknown as { startedAt: string }).startedAt).replace(/[:.]/g, '-');
  const stamp = readdirSync('.runs').filter((d) => d <= started).sort().pop()!;
  const text = readdirSync(join('.runs', stamp)).map((f) => readFileSync(join('.runs', stamp, f), 'utf8')).join('\n');
  expect(text).toContain('etcd member');
  return text;
}

const ETCD_ENDPOINTS = ['lab1', 'lab2', 'lab3'].map((h) => `http://${ip(h)}:2379`).join(',');

/**
 * `etcdctl <args>` in the etcd container of `host`, against every member unless `endpoints` says otherwise.
 * `user` ("name:password") goes on stdin into ETCDCTL_USER, never into argv.
 */
export function etcdctl(host: string, args: string, opts: { endpoints?: string; user?: string } = {}): { code: number; out: string } {
  const command = `etcdctl --endpoints=${opts.endpoints ?? ETCD_ENDPOINTS} ${args}`;
  if (opts.user === undefined) return onHost(host, `sudo docker exec etcd ${command}`);
  const script = `read -r ETCDCTL_USER && export ETCDCTL_USER && exec docker exec -e ETCDCTL_USER etcd ${command}`;
  return onHost(host, `sudo sh -c ${quote(script)}`, `${opts.user}\n`);
}

/** curl from this machine to a gateway (the lab hosts are ours to send test traffic to). */
export function throughGateway(host: string, hostHeader: string, path = '/get'): { status: number; body: string } {
  const r = spawnSync('curl', ['-sS', '--max-time', '10', '-H', `Host: ${hostHeader}`, '-w', '\n%{http_code}', `http://${ip(host)}:80${path}`], { encoding: 'utf8' });
  const lines = r.stdout.trimEnd().split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

/**
 * A route through the console of `host` (curl on the host; password and token on stdin, as the roles do), at the
 * host's own address: on the bundle's bridge network a loopback request arrives from the bridge gateway.
 */
export function putRouteThroughDashboard(id: string, body: object, host = 'lab1'): void {
  const script = [
    'set -e',
    'read -r pw',
    `tok=$(printf '{"username":"admin","password":"%s"}' "$pw" | curl -sS --data @- -H 'Content-Type: application/json' http://${ip(host)}:9000/apisix/admin/user/login | sed 's/.*"token":"\\([^"]*\\)".*/\\1/')`,
    `printf 'header = "Authorization: %s"\\n' "$tok" | curl -sS -f -K - -X PUT -H 'Content-Type: application/json' --data ${quote(JSON.stringify(body))} ${quote(`http://${ip(host)}:9000/apisix/admin/routes/${id}?cluster_id=default`)}`,
  ].join('\n');
  const r = onHost(host, `sh -c ${quote(script)}`, `${DASHBOARD_PASSWORD}\n`);
  expect(r.code, r.out).toBe(0);
}

/**
 * `during()` under a steady load through the LB on the smoke route (:80 /get, Host test.com) and the console's
 * /ping (:9000): 2 clients each every 50 ms, bounded to 10 minutes / 30000 requests. Returns each target's figures;
 * what `during` throws is thrown after the load stopped.
 */
export async function underLoadThroughLb(during: () => Promise<void>): Promise<Record<string, LoadStats>> {
  const lb = findHost('lb1').ip;
  const targets = {
    ':80 /get': probe({ host: lb, port: 80, path: '/get', headers: { host: 'test.com' } }),
    ':9000 /ping': probe({ host: lb, port: 9000, path: '/ping' }, (body) => body === 'pong'),
  };
  const loads = Object.entries(targets).map(([name, t]) => ({ name, load: startLoad({ send: t.send, concurrency: 2, intervalMs: 50, maxRequests: 30_000, maxDurationMs: 600_000 }) }));
  const failure = await during().then(() => undefined, (e: unknown) => e);
  const stats = Object.fromEntries(await Promise.all(loads.map(async ({ name, load }) => [name, await load.stop()] as const)));
  Object.values(targets).forEach((t) => t.close());
  if (failure) throw failure;
  return stats;
}

/** Every target of `underLoadThroughLb` was really loaded and lost no request. */
export function expectNoFailedRequest(stats: Record<string, LoadStats>): void {
  for (const [target, s] of Object.entries(stats)) {
    expect(s.sent, target).toBeGreaterThan(50);
    expect(s, target).toMatchObject({ failed: 0, errors: {} });
  }
}
