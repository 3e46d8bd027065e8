// The 'etcd member' step on three scripted hosts (fake transport): what the survey, the rolling lock and the
// health checks let through. Each host is a small world the docker/etcdctl commands read and change.
import { describe, expect, it } from 'vitest';
import { runPlaybook } from '../../lib/runner.ts';
import { definePlaybook, defineRole } from '../../lib/types.ts';
import { memberStep } from '../../roles/etcd/member.ts';
import { fakeFleet, fakeInventory } from '../helpers/fake-transport.ts';

const DIR = '/usr/local/etcd/etcd_data';
const OLD = '/srv/etcd/etcd_data';
const HOSTS = ['lab1', 'lab2', 'lab3'] as const;

interface World {
  /** Where this member's data lives (null: nowhere). */
  data: string | null;
  container?: { running: boolean; spec: string; mount: string };
  /** etcd answers health checks (a started container of a broken image does not). */
  serving: boolean;
}

const running = (spec = 'OLD', mount = DIR): World => ({ data: mount, container: { running: true, spec, mount }, serving: true });

interface Script {
  world: Record<string, World>;
  /** Hosts whose dockerd hangs: every docker command times out. */
  hung?: string[];
  /** Hosts whose next `docker run` starts a container that never gets healthy. */
  broken?: string[];
}

function responder(s: Script, log: string[]) {
  const healthy = (h: string) => !!s.world[h].container?.running && s.world[h].serving;
  return (command: string, host: string) => {
    const w = s.world[host];
    if (s.hung?.includes(host) && /docker /.test(command)) return { code: -1, stderr: 'timed out after 20 s (killed)\n' };
    if (command.includes('echo survey=done')) {
      const c = w.container;
      const lines = [`dir=yes`, `data=${w.data === DIR ? 'yes' : 'no'}`];
      if (c) lines.push(`container ${w.data === c.mount ? 'yes' : 'no'} ${JSON.stringify({ name: '/etcd', running: c.running, spec: c.spec, dataMount: c.mount })}`);
      lines.push(`port=${healthy(host) ? 0 : 1}`, 'survey=done');
      return { stdout: lines.join('\n') };
    }
    if (command.startsWith('docker image inspect')) return { stdout: 'sha256:img\n' };
    if (command.includes('etcdctl')) {
      if (!w.container?.running) return { code: 1, stderr: 'Error response from daemon: container is not running' };
      const targets = /--endpoints=(\S+)/.exec(command)![1].split(',').map((u) => /\/\/([^:]+):/.exec(u)![1]);
      if (command.includes('endpoint health')) {
        const out = targets.map((t) => (healthy(t) ? `http://${t}:2379 is healthy: ok` : `http://${t}:2379 is unhealthy: context deadline exceeded`));
        return { code: targets.every(healthy) ? 0 : 1, stdout: out.join('\n') };
      }
      if (command.includes('endpoint status')) {
        const leader = targets.find(healthy);
        return { stdout: targets.filter(healthy).map((t) => `http://${t}:2379, id${t}, 3.4.23, 20 kB, ${t === leader}, false, 2, 8, 8, `).join('\n') };
      }
      // The auth probe (ops/etcd.ts etcdAuthFact): auth is off in these worlds.
      if (command.includes(' user list')) return { stdout: 'root\n' };
      if (command.includes('member list')) return { stdout: HOSTS.map((h) => `id${h}, started, ${h}, http://${h}:2380, http://${h}:2379, false`).join('\n') };
      log.push(`${host}: etcdctl ${/etcdctl --endpoints=\S+ (.*)$/.exec(command)![1]}`);
      return {};
    }
    if (command.includes('docker stop')) {
      if (!w.container) return {};
      log.push(`${host}: stop`);
      w.container = undefined;
      return {};
    }
    if (command.includes('member.gatewright-moving')) {
      log.push(`${host}: move data`);
      w.data = DIR;
      return {};
    }
    if (command.startsWith('rm -rf --')) {
      log.push(`${host}: wipe data`);
      w.data = null;
      return {};
    }
    if (command.startsWith('docker run')) {
      const spec = /io\.gatewright\.spec=(\S+)/.exec(command)![1];
      const mount = /-v (\S+):\/etcd_data/.exec(command)![1];
      log.push(`${host}: run ${/ETCD_INITIAL_CLUSTER_STATE=(\w+)/.exec(command)![1]}`);
      w.container = { running: true, spec, mount };
      w.data = mount;
      w.serving = !s.broken?.includes(host);
      return {};
    }
    return {};
  };
}

async function run(s: Script, opts: { limit?: string; dataDir?: string } = {}) {
  const log: string[] = [];
  const fleet = fakeFleet(responder(s, log));
  const role = defineRole({
    name: 'etcd',
    defaults: { etcd_data_dir: opts.dataDir ?? DIR, etcd_cluster_token: 't', etcd_snapshot_keep: 5, health_timeout: 1 },
    steps: [memberStep],
  });
  const summary = await runPlaybook(definePlaybook({ name: 'etcd', description: '', plays: [{ name: 'etcd', hosts: 'etcd', role }] }), { limit: opts.limit }, {
    inventory: fakeInventory({ etcd: [...HOSTS] }),
    transports: fleet.factory,
    close: fleet.close,
  });
  const result = (h: string) => summary.results.find((r) => r.host === h)!;
  return { summary, log, result };
}

/** The spec the role wants on each host: what a first converging run labels the containers with. */
async function wantedSpecs(): Promise<Record<string, string>> {
  const s: Script = { world: Object.fromEntries(HOSTS.map((h) => [h, running()])) };
  await run(s);
  return Object.fromEntries(HOSTS.map((h) => [h, s.world[h].container!.spec]));
}

const changes = (log: string[]) => log.filter((l) => !/snapshot save/.test(l));

describe('the etcd member step under faults (scripted hosts)', () => {
  it('a hung dockerd on lab2 during a spec change: every member step fails naming lab2 and nothing changes anywhere', async () => {
    const s: Script = { world: Object.fromEntries(HOSTS.map((h) => [h, running('OLD')])), hung: ['lab2'] };
    const { summary, log, result } = await run(s);
    expect(summary.exitCode).toBe(2);
    expect(result('lab2').reason).toMatch(/could not read the etcd state of lab2: its survey .*timed out.*Nothing was changed on any member/);
    for (const h of ['lab1', 'lab3']) expect(result(h).reason).toMatch(/needs a change but the state of lab2 \(.*timed out.*\) could not be read/);
    expect(log).toEqual([]);
    expect(HOSTS.map((h) => s.world[h].data)).toEqual([DIR, DIR, DIR]);
  });

  it('a member that lost its data (stopped, dir empty) is removed and re-added, the others untouched', async () => {
    const spec = await wantedSpecs();
    const s: Script = { world: { lab1: running(spec.lab1), lab2: running(spec.lab2), lab3: { data: null, container: { running: false, spec: spec.lab3, mount: DIR }, serving: false } } };
    const { summary, log } = await run(s);
    expect(summary.exitCode).toBe(0);
    expect(changes(log)).toEqual(['lab1: etcdctl member remove idlab3', 'lab1: etcdctl member add api7-etcd-3 --peer-urls=http://lab3:2380', 'lab3: stop', 'lab3: wipe data', 'lab3: run existing']);
  });

  it('the rejoin re-checks the others: with another member unhealthy it removes nothing', async () => {
    const spec = await wantedSpecs();
    const s: Script = { world: { lab1: running(spec.lab1), lab2: { ...running(spec.lab2), serving: false }, lab3: { data: null, container: { running: false, spec: spec.lab3, mount: DIR }, serving: false } } };
    const { summary, log, result } = await run(s);
    expect(summary.exitCode).toBe(2);
    expect(result('lab3').reason).toMatch(/not taking etcd member lab3 down: lab2 is not healthy/);
    expect(changes(log)).toEqual([]);
  });

  it('a rolling change stops at the first member that fails its health gate: the other two keep their old container', async () => {
    const s: Script = { world: Object.fromEntries(HOSTS.map((h) => [h, running('OLD')])), broken: [...HOSTS] };
    const { summary, log, result } = await run(s);
    expect(summary.exitCode).toBe(2);
    const touched = HOSTS.filter((h) => s.world[h].container?.spec !== 'OLD');
    expect(touched).toHaveLength(1);
    const [first] = touched;
    expect(changes(log)).toEqual([`${first}: stop`, `${first}: run existing`]);
    expect(result(first).reason).toMatch(new RegExp(`etcd member ${first}: not healthy after 1 s`));
    for (const h of HOSTS.filter((x) => x !== first)) {
      expect(result(h).reason).toMatch(new RegExp(`not changing etcd member ${h}: the rolling change stopped at ${first}`));
      expect(s.world[h].container).toEqual({ running: true, spec: 'OLD', mount: DIR });
    }
  });

  it('a stopped member is started before the healthy ones are recreated', async () => {
    const s: Script = { world: { lab1: running('OLD'), lab2: running('OLD'), lab3: { ...running('OLD'), container: { running: false, spec: 'OLD', mount: DIR }, serving: false } } };
    const { summary, log } = await run(s);
    expect(summary.exitCode).toBe(0);
    const runs = log.filter((l) => / run /.test(l));
    expect(runs[0]).toBe('lab3: run existing');
    expect(runs).toHaveLength(3);
  });

  it('refuses to take a healthy member down while another member is down and not in this run (--limit)', async () => {
    const s: Script = { world: { lab1: running('OLD'), lab2: running('OLD'), lab3: { ...running('OLD'), container: { running: false, spec: 'OLD', mount: DIR }, serving: false } } };
    const { summary, log, result } = await run(s, { limit: 'lab1:lab2' });
    expect(summary.exitCode).toBe(2);
    const first = ['lab1', 'lab2'].find((h) => /^not taking etcd member/.test(result(h).reason ?? ''))!;
    expect(result(first).reason).toMatch(new RegExp(`not taking etcd member ${first} down: lab3 is not healthy`));
    expect(changes(log)).toEqual([]);
  });

  it('a changed etcd_data_dir moves each member\'s data one at a time and never starts a new cluster', async () => {
    const s: Script = { world: Object.fromEntries(HOSTS.map((h) => [h, running('OLD', OLD)])) };
    const { summary, log } = await run(s);
    expect(summary.exitCode).toBe(0);
    const steps = changes(log);
    expect(steps).toHaveLength(9);
    for (let i = 0; i < 9; i += 3) {
      const h = steps[i].split(':')[0];
      expect(steps.slice(i, i + 3)).toEqual([`${h}: stop`, `${h}: move data`, `${h}: run existing`]);
    }
    expect(HOSTS.map((h) => s.world[h].container?.mount)).toEqual([DIR, DIR, DIR]);
  });
});
