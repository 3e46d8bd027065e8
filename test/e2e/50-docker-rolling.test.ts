// A docker_daemon_options change on the built lab (after 30): dockerd restarts roll one host at a time
// over etcd, control and gateway hosts, drained from lb1 and health-gated, while requests flow through
// lb1 and every host's dockerd is sampled every 0.3 s. live-restore (the role's default) keeps the
// containers running across the restarts. The options go back afterwards and a site rerun changes nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { findHost, sshOptions } from '../../lab/index.ts';
import { quote } from '../../lib/shell.ts';
import { adminSocketCommand, parseServerStats, SHOW_SERVERS, socketInput } from '../../ops/lb-runtime.ts';
import { probe } from '../../roles/verify/http.ts';
import { startLoad, type LoadStats } from '../../roles/verify/load.ts';
import { cliRunner, DASHBOARD_PASSWORD, etcdctl, onHost, type Report } from './helpers.ts';

const play = cliRunner('50', ['-e', `dashboard_admin_password=${DASHBOARD_PASSWORD}`]);
const STACK = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5'];
const LIMIT = ['--limit', STACK.join(',')];
const RESTART = 'restart Docker if daemon.json changed';
const RESTING = { 'live-restore': true };
const CHANGED = { 'live-restore': true, 'log-opts': { 'max-size': '11m' } };
const LB = findHost('lb1').ip;

const daemonJson = (host: string) => JSON.parse(onHost(host, 'cat /etc/docker/daemon.json').out) as unknown;
const dockerdPid = (host: string) => onHost(host, 'pidof dockerd').out;
/** When each stack container last started (etcd by our label, the bundles' by compose's): unchanged means it ran through the restart. */
const startedAt = (host: string) =>
  onHost(host, "{ sudo docker ps -q --filter label=io.gatewright.role; sudo docker ps -q --filter label=com.docker.compose.service; } | sort -u | xargs -r sudo docker inspect --format '{{.Name}} {{.State.StartedAt}}'").out;

interface Sample {
  at: number;
  /** dockerd's pid when it answered; undefined: it did not. */
  pid?: string;
}

/** Every host's dockerd, sampled on the host every 0.3 s (bounded: 15 minutes): `<ms> <pid>`, `-` when it does not answer. */
function sampleDockerd(host: string): { stop(): Promise<Sample[]> } {
  const loop =
    'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); ' +
    'if timeout 2 docker version --format x >/dev/null 2>&1; then s=$(pidof dockerd); else s=-; fi; ' +
    'echo "$(date +%s%3N) ${s:--}"; sleep 0.3; done';
  const child: ChildProcess = spawn('ssh', [...sshOptions(), `ops@${findHost(host).ip}`, `sudo sh -c ${quote(loop)}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    async stop() {
      child.kill();
      await new Promise((r) => child.once('close', r));
      return out
        .split('\n')
        .map((l) => /^(\d+) (\d+|-)$/.exec(l.trim()))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => ({ at: Number(m[1]), pid: m[2] === '-' ? undefined : m[2] }));
    },
  };
}

/**
 * Per host, each stretch where its dockerd was not the same answering daemon: from the last sample that
 * answered before (a restart shows as a new pid even when no sample fell in the gap) to the first after.
 */
function restartWindows(samples: Record<string, Sample[]>): { host: string; from: number; to: number }[] {
  const spans: { host: string; from: number; to: number }[] = [];
  for (const [host, list] of Object.entries(samples)) {
    let last: Sample | undefined;
    let open: number | undefined;
    for (const s of list) {
      if (s.pid === undefined) {
        open ??= last?.at ?? s.at;
        continue;
      }
      if (open !== undefined || (last && s.pid !== last.pid)) spans.push({ host, from: open ?? last!.at, to: s.at });
      open = undefined;
      last = s;
    }
    if (open !== undefined) spans.push({ host, from: open, to: Number.POSITIVE_INFINITY });
  }
  return spans;
}

const lbServers = () => parseServerStats(onHost('lb1', `sudo sh -c ${quote(adminSocketCommand('/var/lib/haproxy/admin.sock'))}`, socketInput([SHOW_SERVERS])).out);

describe('docker daemon options roll, one dockerd at a time', () => {
  let restored = false;
  const restore = async (): Promise<Report> => {
    restored = true;
    return play('docker', ...LIMIT);
  };

  afterAll(async () => {
    if (!restored) await restore();
  });

  it('a docker_daemon_options change under load: never two dockerds down, no failed request, etcd 3/3', async () => {
    for (const host of STACK) expect(daemonJson(host), `${host}: the resting daemon.json`).toEqual(RESTING);
    const pids = Object.fromEntries(STACK.map((h) => [h, dockerdPid(h)]));
    const started = Object.fromEntries(STACK.map((h) => [h, startedAt(h)]));

    const samplers = Object.fromEntries(STACK.map((h) => [h, sampleDockerd(h)]));
    const targets = [probe({ host: LB, port: 80, path: '/get', headers: { host: 'test.com' } }), probe({ host: LB, port: 9000, path: '/ping' }, (b) => b === 'pong')];
    const loads = targets.map((t) => startLoad({ send: t.send, concurrency: 2, intervalMs: 50, maxRequests: 30_000, maxDurationMs: 600_000 }));
    let report: Report;
    let stats: LoadStats[];
    let samples: Record<string, Sample[]>;
    try {
      report = await play('docker', ...LIMIT, '-e', JSON.stringify({ docker_daemon_options: { 'log-opts': { 'max-size': '11m' } } }));
    } finally {
      stats = await Promise.all(loads.map((l) => l.stop()));
      for (const t of targets) t.close();
      samples = Object.fromEntries(await Promise.all(STACK.map(async (h) => [h, await samplers[h].stop()] as const)));
    }

    expect(report.errors).toEqual([]);
    expect(report.exitCode).toBe(0);
    for (const host of STACK) {
      const restart = report.results.find((r) => r.host === host && r.step === RESTART);
      expect(restart?.status, host).toBe('changed');
      expect(restart?.changes[0], host).toMatch(/^restart Docker \(daemon\.json changed\), one host at a time: /);
      expect(daemonJson(host), host).toEqual(CHANGED);
      expect(dockerdPid(host), `${host}: dockerd restarted`).not.toBe(pids[host]);
      // live-restore on the lab's nested 20.10 engines: the stack's containers never stopped.
      expect(startedAt(host), host).toBe(started[host]);
    }
    expect(report.results.find((r) => r.host === 'lab4' && r.step === RESTART)?.changes[0]).toContain('lab4 drained from the LBs (gateway)');

    // The samplers saw every host's restart, and no two restart windows overlap.
    const windows = restartWindows(samples);
    for (const host of STACK) expect(windows.filter((w) => w.host === host).length, `${host}: restart seen by the sampler`).toBeGreaterThan(0);
    const overlapping = windows.flatMap((a, i) => windows.slice(i + 1).filter((b) => b.host !== a.host && a.from < b.to && b.from < a.to).map((b) => `${a.host}+${b.host}`));
    expect(overlapping).toEqual([]);
    // In inventory order: each host's restart window ends before the next one's begins.
    const firstWindow = (h: string) => windows.find((w) => w.host === h)!.from;
    expect([...STACK].sort((a, b) => firstWindow(a) - firstWindow(b))).toEqual(STACK);

    for (const s of stats) {
      expect(s.sent).toBeGreaterThan(50);
      expect(s).toMatchObject({ failed: 0, errors: {} });
    }
    expect(etcdctl('lab1', 'endpoint health').out.split('\n').filter((l) => / is healthy: /.test(l))).toHaveLength(3);
    expect(lbServers().filter((s) => s.status !== 'UP')).toEqual([]);
  });

  it('an option dockerd refuses stops the roll at the first host: the rest untouched, the stack still serving', async () => {
    const files = Object.fromEntries(STACK.map((h) => [h, daemonJson(h)]));
    const pids = Object.fromEntries(STACK.map((h) => [h, dockerdPid(h)]));
    const targets = [probe({ host: LB, port: 80, path: '/get', headers: { host: 'test.com' } }), probe({ host: LB, port: 9000, path: '/ping' }, (b) => b === 'pong')];
    const loads = targets.map((t) => startLoad({ send: t.send, concurrency: 2, intervalMs: 50, maxRequests: 30_000, maxDurationMs: 600_000 }));
    let report: Report;
    let stats: LoadStats[];
    try {
      report = await play('docker', ...LIMIT, '-e', JSON.stringify({ docker_daemon_options: { 'gatewright-not-an-option': true } }));
    } finally {
      stats = await Promise.all(loads.map((l) => l.stop()));
      for (const t of targets) t.close();
    }

    expect(report.exitCode).toBe(2);
    const failed = report.results.filter((r) => r.status === 'failed');
    expect(failed.map((r) => `${r.host}: ${r.step}`)).toEqual(STACK.map((h) => `${h}: ${RESTART}`));
    expect(failed[0].reason).toContain('systemctl restart docker');
    for (const host of STACK.slice(1)) {
      expect(failed.find((r) => r.host === host)?.reason, host).toBe(
        `not restarting dockerd on ${host}: the rolling restart stopped at lab1, which failed; this host is left untouched`,
      );
      // Untouched: the same file and the same dockerd.
      expect(daemonJson(host), host).toEqual(files[host]);
      expect(dockerdPid(host), host).toBe(pids[host]);
    }
    expect(daemonJson('lab1')).toMatchObject({ 'gatewright-not-an-option': true });
    expect(onHost('lab1', 'sudo docker version --format "{{.Server.Version}}"').code).not.toBe(0);
    // lab1's dockerd is down, its containers are not (live-restore): etcd 3/3 seen from lab2, lab1 back in the LB.
    for (const s of stats) expect(s).toMatchObject({ failed: 0, errors: {} });
    expect(etcdctl('lab2', 'endpoint health').out.split('\n').filter((l) => / is healthy: /.test(l))).toHaveLength(3);
    expect(lbServers().filter((s) => s.status !== 'UP')).toEqual([]);

    // A rerun with a good file writes it on lab1 (its dockerd is down: no turn needed) and starts dockerd there only.
    const fixed = await play('docker', ...LIMIT, '-e', JSON.stringify({ docker_daemon_options: { 'log-opts': { 'max-size': '11m' } } }));
    expect(fixed.errors).toEqual([]);
    expect(fixed.results.filter((r) => r.status === 'changed').map((r) => `${r.host}: ${r.step}`)).toEqual([
      'lab1: daemon.json (docker_daemon_options)',
      'lab1: Docker enabled and running',
    ]);
    expect(daemonJson('lab1')).toEqual(CHANGED);
    expect(etcdctl('lab1', 'endpoint health').out.split('\n').filter((l) => / is healthy: /.test(l))).toHaveLength(3);
  });

  it('the options go back (rolling again), and a site rerun changes nothing', async () => {
    const back = await restore();
    expect(back.errors).toEqual([]);
    expect(back.exitCode).toBe(0);
    for (const host of STACK) expect(daemonJson(host), host).toEqual(RESTING);
    const site = await play('site');
    expect(site.exitCode).toBe(0);
    expect(site.results.filter((r) => r.status === 'changed').map((r) => `${r.host}: ${r.step}`)).toEqual([]);
    expect(etcdctl('lab1', 'endpoint health').out.split('\n').filter((l) => / is healthy: /.test(l))).toHaveLength(3);
    expect(lbServers().filter((s) => s.status !== 'UP')).toEqual([]);
  });
});
