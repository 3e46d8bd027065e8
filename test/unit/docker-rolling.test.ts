// The docker role's restarts roll: a daemon.json change over a lab-shaped fleet, scripted facts in, the
// order of what every host did out (restart, drain, gates), with no network.
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { runPlaybook } from '../../lib/runner.ts';
import { readDirCommand, readFileCommand } from '../../lib/files.ts';
import { definePlaybook, type ExecOptions, type ExecResult } from '../../lib/types.ts';
import docker from '../../roles/docker/index.ts';
import { DAEMON_JSON, renderDaemonJson, storageChanges, wantedDaemonOptions } from '../../roles/docker/daemon-config.ts';
import { waitForDocker } from '../../roles/docker/service.ts';
import { describeGates, parseStackContainers, peersNotUp, restartGates, STACK_CONTAINERS } from '../../roles/docker/rolling.ts';
import { ORDER_WAIT_MS, RestartTurns } from '../../roles/docker/turns.ts';
import { parseServerStats } from '../../ops/lb-runtime.ts';
import { dockerFact } from '../../facts/docker.ts';
import { osFact } from '../../facts/os.ts';
import { fakeFleet, fakeInventory } from '../helpers/fake-transport.ts';
import { batchAware } from '../helpers/role-fleet.ts';

const inventory = () =>
  fakeInventory(
    { etcd: ['e1', 'e2', 'e3'], control: ['e1', 'e2'], gateway: ['g1', 'g2'], lb: ['lb1'] },
    // Gates check once and fail at once: the tests script the answers, nothing gets better by waiting.
    Object.fromEntries(['e1', 'e2', 'e3', 'g1', 'g2', 'lb1'].map((h) => [h, { health_timeout: 0, lb_ready_timeout_s: 0, lb_drain_timeout_s: 0 }])),
  );

const CONTAINERS: Record<string, string> = {
  e1: 'etcd Up 2 hours\ndashboard Up 2 hours',
  e2: 'etcd Up 2 hours\ndashboard Up 2 hours',
  e3: 'etcd Up 2 hours',
  g1: 'gateway Up 2 hours',
  g2: 'gateway Up 2 hours',
};

const DOCKER_FACT = 'SERVER=20.10.24\nSYSTEMD=yes\nPID1=systemd\nENABLED=enabled\nCOMPOSE_V1=1.29.2\n';
const OLD = renderDaemonJson({ 'live-restore': true });

interface Script {
  containers?: Record<string, string>;
  /** HAProxy status of each server (default UP). */
  lbStatus?: Record<string, string>;
  /** Hosts whose `systemctl restart docker` fails. */
  restartFails?: string[];
  /** Hosts whose etcd endpoint is unhealthy. */
  etcdDown?: string[];
  /** lb1 answers `show stat` with something that is not its CSV. */
  lbGarbage?: boolean;
  /** The running engine's version (default 20.10.24); older ones get upgraded by the role. */
  engine?: string;
}

const DEBIAN = JSON.parse(readFileSync(new URL('./fixtures/facts/debian12.json', import.meta.url), 'utf8')) as { os: string; aptPolicy: string };

function stats(status: Record<string, string>): string {
  const rows = [
    ...['e1', 'e2'].map((s) => `dashboards,${s},0,${status[s] ?? 'UP'},L7OK,`),
    ...['g1', 'g2'].flatMap((s) => ['gateways_http', 'gateways_https'].map((b) => `${b},${s},0,${status[s] ?? 'UP'},L7OK,`)),
  ];
  return `# pxname,svname,scur,status,check_status,check_desc\n${rows.join('\n')}\n`;
}

/** Runs the docker play on etcd:control:gateway with a daemon.json change; `log` is what happened, in order. */
async function roll(s: Script = {}, options: Record<string, unknown> = { 'log-opts': { 'max-size': '11m' } }) {
  const log: string[] = [];
  const upgraded = new Set<string>();
  const respond = (command: string, host: string, opts: ExecOptions): Partial<ExecResult> | undefined => {
    const stdin = String(opts.stdin ?? '');
    if (command === dockerFact.command) {
      return { stdout: upgraded.has(host) || !s.engine ? DOCKER_FACT : DOCKER_FACT.replace('20.10.24', s.engine) };
    }
    if (command === osFact.command) return { stdout: DEBIAN.os };
    if (command.includes('apt-cache policy')) return { stdout: DEBIAN.aptPolicy };
    if (command.includes('install -y --no-install-recommends docker.io docker-compose')) {
      log.push(`${host} upgrade`);
      upgraded.add(host);
      return {};
    }
    if (command === readFileCommand(DAEMON_JSON)) return { stdout: `644 root root\n${OLD}` };
    if (command === readDirCommand('/etc/docker')) return { stdout: '755 root root\n' };
    if (command === STACK_CONTAINERS) return { stdout: (s.containers ?? CONTAINERS)[host] ?? '' };
    if (command === 'systemctl restart docker') {
      log.push(`${host} restart`);
      return s.restartFails?.includes(host) ? { code: 1, stderr: 'Job for docker.service failed' } : {};
    }
    if (command === waitForDocker('systemd')) log.push(`${host} dockerd answers`);
    if (command.includes('etcdctl') && command.includes('endpoint health')) {
      const endpoints = /--endpoints=(\S+)/.exec(command)![1].split(',');
      log.push(`${host} etcd health ${endpoints.map((e) => /\/\/(\w+):/.exec(e)![1]).join(',')}`);
      const up = endpoints.filter((e) => !s.etcdDown?.some((d) => e.includes(`//${d}:`)));
      return { stdout: up.map((e) => `${e} is healthy: successfully committed proposal: took = 2ms`).join('\n') };
    }
    if (command.includes('etcdctl') && command.includes('endpoint status')) {
      const endpoints = /--endpoints=(\S+)/.exec(command)![1].split(',');
      return { stdout: endpoints.map((e, i) => `${e}, id${i}, 3.4.23, 20 kB, ${e.includes('//e1:')}, false, 2, 8, 8, `).join('\n') };
    }
    if (command.includes('UNIX-CONNECT')) {
      if (stdin.startsWith('show stat')) return { stdout: s.lbGarbage ? 'Permission denied.\n' : stats(s.lbStatus ?? {}) };
      const set = /set server \w+\/(\w+) state (\w+)/.exec(stdin);
      if (set) log.push(`${host} ${set[2]} ${set[1]}`);
      return { stdout: '' };
    }
    if (command.startsWith('curl -sS') && command.includes('/apisix/prometheus/metrics')) {
      log.push(`${host} gateway health`);
      return { stdout: 'ok\n__gatewright_status__:200{"error_msg":"404 Route Not Found"}\n__gatewright_status__:404' };
    }
    if (command === 'curl -K -') {
      if (stdin.includes('/ping')) {
        log.push(`${host} dashboard ping`);
        return { stdout: 'pong\n__gatewright_status__:200' };
      }
      if (stdin.includes('prometheus')) {
        log.push(`${host} gateway health`);
        return { stdout: 'ok\n__gatewright_status__:200' };
      }
      return { stdout: '{"error_msg":"404 Route Not Found"}\n__gatewright_status__:404' };
    }
    return undefined;
  };
  const fleet = fakeFleet(batchAware(respond));
  const inv = inventory();
  for (const h of inv.hosts.values()) h.vars.docker_daemon_options = options;
  const summary = await runPlaybook(
    definePlaybook({ name: 'docker', description: '', plays: [{ name: 'docker', hosts: 'etcd:control:gateway', role: docker }] }),
    {},
    { inventory: inv, transports: fleet.factory, close: fleet.close },
  );
  const restarted = log.filter((l) => l.endsWith(' restart')).map((l) => l.split(' ')[0]);
  const step = (host: string) => summary.results.find((r) => r.host === host && r.step === 'restart Docker if daemon.json changed');
  return { log, summary, restarted, step, fleet };
}

describe('a daemon.json change rolls dockerd restarts over the whole play', () => {
  it('one host at a time in inventory order, each drained and gated by what runs on it', async () => {
    const { log, summary, step } = await roll();
    expect(summary.exitCode).toBe(0);
    expect(log).toEqual([
      // e1: etcd member + dashboard: the other members healthy, drained, restarted, healthy again, readied.
      'e1 etcd health e2,e3',
      'lb1 drain e1',
      'e1 restart',
      'e1 dockerd answers',
      'e1 etcd health e1',
      'e1 etcd health e1,e2,e3',
      'e1 dashboard ping',
      'lb1 ready e1',
      'e2 etcd health e1,e3',
      'lb1 drain e2',
      'e2 restart',
      'e2 dockerd answers',
      'e2 etcd health e2',
      'e2 etcd health e1,e2,e3',
      'e2 dashboard ping',
      'lb1 ready e2',
      // e3: an etcd member only: nothing to drain.
      'e3 etcd health e1,e2',
      'e3 restart',
      'e3 dockerd answers',
      'e3 etcd health e3',
      'e3 etcd health e1,e2,e3',
      'lb1 drain g1',
      'g1 restart',
      'g1 dockerd answers',
      'g1 gateway health',
      'lb1 ready g1',
      'lb1 drain g2',
      'g2 restart',
      'g2 dockerd answers',
      'g2 gateway health',
      'lb1 ready g2',
    ]);
    expect(step('e1')?.changes).toEqual([
      'restart Docker (daemon.json changed), one host at a time: the other etcd members healthy first; e1 drained from the LBs (control); then etcd, dashboard healthy again',
    ]);
    expect(step('g2')?.changes[0]).toMatch(/g2 drained from the LBs \(gateway\); then gateway healthy again$/);
    expect(summary.results.find((r) => r.host === 'g2' && r.step === 'daemon.json (docker_daemon_options)')?.changes).toEqual([
      "update /etc/docker/daemon.json (mode 0644, owner root:root), in this host's restart turn",
    ]);
  });

  it('a failed restart on host k stops the roll: the hosts after it are never drained nor restarted', async () => {
    const { log, summary, restarted, fleet } = await roll({ restartFails: ['e2'] });
    expect(summary.exitCode).toBe(2);
    expect(restarted).toEqual(['e1', 'e2']);
    // The new daemon.json is written in each host's turn: the hosts the roll never reached keep the old one.
    const wrote = (h: string) => fleet.transports.get(h)!.puts.filter((p) => p.path === DAEMON_JSON).length;
    expect(['e1', 'e2', 'e3', 'g1', 'g2'].map(wrote)).toEqual([1, 1, 0, 0, 0]);
    // e2 went back to ready (the LB's checks keep a broken server out); nothing touched g1 or g2.
    expect(log.filter((l) => l.startsWith('lb1'))).toEqual(['lb1 drain e1', 'lb1 ready e1', 'lb1 drain e2', 'lb1 ready e2']);
    expect(log.some((l) => /^(e3|g1|g2) /.test(l))).toBe(false);
    for (const host of ['e3', 'g1', 'g2']) {
      expect(summary.errors.find((e) => e.host === host)?.message).toBe(
        `not restarting dockerd on ${host}: the rolling restart stopped at e2, which failed; this host is left untouched`,
      );
    }
  });

  it('refuses to restart an etcd host while another member is unhealthy, and stops there', async () => {
    const { summary, restarted } = await roll({ etcdDown: ['e3'] });
    expect(restarted).toEqual([]);
    expect(summary.errors.find((e) => e.host === 'e1')?.message).toMatch(/e1: the other etcd members healthy before its dockerd restarts: .* \(last: 1\/2 of the other members healthy\)/);
  });

  it('refuses to drain a gateway while the other one is not UP in the LB', async () => {
    const { summary, restarted, log } = await roll({ lbStatus: { g2: 'DOWN' }, containers: { g1: 'gateway Up 1 hour', g2: 'gateway Up 1 hour' } });
    expect(restarted).toEqual(['e1', 'e2', 'e3']); // no stack container there: only dockerd is the gate
    expect(log.filter((l) => l.includes('drain'))).toEqual([]);
    expect(summary.errors.find((e) => e.host === 'g1')?.message).toMatch(/the other gateways_http\/gateways_https servers UP .*lb1: gateways_http\/g2 DOWN, lb1: gateways_https\/g2 DOWN/);
    expect(summary.errors.find((e) => e.host === 'g2')?.message).toMatch(/stopped at g1/);
  });

  it('an LB whose stats cannot be read is not taken for one that routes nothing: the first host it serves stops the roll', async () => {
    const { summary, restarted } = await roll({ lbGarbage: true });
    expect(restarted).toEqual([]);
    expect(summary.errors.find((e) => e.host === 'e1')?.message).toMatch(/the other dashboards servers UP .*unexpected answer to show stat: Permission denied/);
  });

  it('a fresh site (no stack container yet) needs no gate beyond dockerd, and still rolls', async () => {
    const { log, summary, restarted } = await roll({ containers: {} });
    expect(summary.exitCode).toBe(0);
    expect(restarted).toEqual(['e1', 'e2', 'e3', 'g1', 'g2']);
    // Each dockerd answers again before the next one goes down.
    expect(log).toEqual(restarted.flatMap((h) => [`${h} restart`, `${h} dockerd answers`]));
  });

  it('refuses a data-root change where the stack runs (it would come back without its containers); a fresh host takes it', async () => {
    const { summary, restarted } = await roll({ containers: { g2: 'gateway Up 1 hour' } }, { 'data-root': '/srv/docker' });
    expect(restarted).toEqual(['e1', 'e2', 'e3', 'g1']);
    expect(summary.errors.find((e) => e.host === 'g2')?.message).toMatch(/^\/etc\/docker\/daemon\.json: refusing to change data-root while the stack's containers live in this dockerd/);
    expect(summary.results.find((r) => r.host === 'g2' && r.step === 'daemon.json (docker_daemon_options)')?.status).toBe('failed');
  });

  it('an engine upgrade over a running dockerd rolls the same way, gated per host', async () => {
    const { log, summary } = await roll({ engine: '20.10.5' }, {});
    expect(summary.exitCode).toBe(0);
    expect(log.filter((l) => / (upgrade|drain|ready)/.test(l) || l.endsWith('etcd health e1,e2,e3'))).toEqual([
      'lb1 drain e1', 'e1 upgrade', 'e1 etcd health e1,e2,e3', 'lb1 ready e1',
      'lb1 drain e2', 'e2 upgrade', 'e2 etcd health e1,e2,e3', 'lb1 ready e2',
      'e3 upgrade', 'e3 etcd health e1,e2,e3',
      'lb1 drain g1', 'g1 upgrade', 'lb1 ready g1',
      'lb1 drain g2', 'g2 upgrade', 'lb1 ready g2',
    ]);
    expect(summary.results.find((r) => r.host === 'e3' && r.step.startsWith('Docker >='))?.changes[0]).toMatch(
      /^install docker\.io \+ docker-compose from .* \(replacing 20\.10\.5\), one host at a time: the other etcd members healthy first; then etcd healthy again$/,
    );
  });

  it('an unchanged daemon.json restarts nothing', async () => {
    const { summary, restarted } = await roll({}, {});
    expect(summary.exitCode).toBe(0);
    expect(restarted).toEqual([]);
  });
});

describe('restart turns follow inventory order', () => {
  const tick = () => new Promise((r) => setImmediate(r));
  function fleet(started: string[]) {
    const turns = new RestartTurns(['a', 'b', 'c']);
    for (const h of started) turns.started.add(h);
    const got: string[] = [];
    const take = (h: string) => void turns.take(h).then(() => got.push(h));
    return { turns, got, take };
  }

  it('a host that gets there first lets an earlier one still on its way go first, then goes', async () => {
    const { turns, got, take } = fleet(['a', 'b', 'c']);
    take('c');
    take('b');
    await tick();
    expect(got).toEqual([]);
    take('a');
    await tick();
    expect(got).toEqual(['a']);
    // As the restart step does: the turn ends, then the host is past it.
    turns.release();
    await tick();
    expect(got).toEqual(['a']); // a is not past its restart yet
    turns.reach('a');
    await tick();
    expect(got).toEqual(['a', 'b']); // one at a time
    turns.release();
    turns.reach('b');
    await tick();
    expect(got).toEqual(['a', 'b', 'c']);
  });

  it('an earlier host that left the role (failed) or never started is not waited for', async () => {
    const { turns, got, take } = fleet(['a', 'c']);
    take('c');
    await tick();
    expect(got).toEqual([]); // a is on its way; b never started
    turns.reach('a');
    await tick();
    expect(got).toEqual(['c']);
  });

  it('an earlier host still reading its batched facts (its node runs, no step yet) is waited for; once its node ends, not', async () => {
    const running = new Set(['a']);
    const turns = new RestartTurns(['a', 'b'], (h) => running.has(h));
    const got: string[] = [];
    void turns.take('b').then(() => got.push('b'));
    await tick();
    expect(got).toEqual([]); // a has started no step yet, but its node runs: b lets it go first
    running.delete('a'); // a's node ended (unreachable while reading its facts): no one waits for it
    await new Promise((r) => setTimeout(r, 1100)); // the turns look again within a second
    expect(got).toEqual(['b']);
  });

  it('waits for an earlier host a bounded time only', async () => {
    vi.useFakeTimers();
    try {
      const { got, take } = fleet(['a', 'b']);
      take('b');
      await vi.advanceTimersByTimeAsync(ORDER_WAIT_MS - 1);
      expect(got).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(got).toEqual(['b']);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('restart gates', () => {
  it.each([
    ['etcd Up 2 hours\ndashboard Up 2 hours', { etcd: true, drain: ['control'], after: ['etcd', 'dashboard'] }],
    ['gateway Up 5 seconds (healthy)', { etcd: false, drain: ['gateway'], after: ['gateway'] }],
    // A stopped container carries no traffic: nothing to drain or wait for.
    ['etcd Exited (1) 3 minutes ago\ngateway Restarting (1) 2 seconds ago', { etcd: false, drain: [], after: [] }],
    ['', { etcd: false, drain: [], after: [] }],
  ])('%j', (ps, gates) => {
    expect(restartGates(parseStackContainers(ps).running)).toEqual(gates);
  });

  it('says what it will wait for', () => {
    expect(describeGates('lab3', restartGates([]))).toBe('no stack container runs here: dockerd answering is the gate');
  });

  it('the other servers must be UP in an LB that routes to the host; an LB that does not route to it has no say', () => {
    const s = parseServerStats(stats({ g2: 'DRAIN', e2: 'MAINT' }));
    expect(peersNotUp(s, 'g1', 'gateway')).toEqual(['gateways_http/g2 DRAIN', 'gateways_https/g2 DRAIN']);
    expect(peersNotUp(s, 'e1', 'control')).toEqual(['dashboards/e2 MAINT']);
    expect(peersNotUp(s, 'g2', 'gateway')).toEqual([]);
    expect(peersNotUp(s, 'lab9', 'gateway')).toEqual([]);
  });
});

describe('daemon.json content', () => {
  it('live-restore is on by default, under the operator options, which can turn it off', () => {
    expect(renderDaemonJson(wantedDaemonOptions({ 'log-opts': { 'max-size': '11m' } }))).toBe(
      '{\n  "live-restore": true,\n  "log-opts": {\n    "max-size": "11m"\n  }\n}\n',
    );
    expect(wantedDaemonOptions(undefined)).toEqual({ 'live-restore': true });
    expect(wantedDaemonOptions({ 'live-restore': false })).toEqual({ 'live-restore': false });
    expect(() => wantedDaemonOptions('{"a":1')).toThrow(/docker_daemon_options must be a mapping/);
  });

  it.each([
    [undefined, {}, []],
    [undefined, { 'data-root': '/srv/docker' }, ['data-root']],
    ['{"data-root": "/srv/docker"}', { 'data-root': '/srv/docker', 'log-level': 'warn' }, []],
    ['{"data-root": "/srv/docker"}', { 'live-restore': true }, ['data-root']],
    ['{"storage-driver": "overlay2"}', { 'storage-driver': 'vfs' }, ['storage-driver']],
    ['{ not json', {}, ['(the current daemon.json is not JSON)']],
  ] as const)('storage keys changed: %s -> %j', (old, wanted, moved) => {
    expect(storageChanges(old, wanted)).toEqual(moved);
  });
});
