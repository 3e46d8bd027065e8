// The 'etcd member' step on three scripted hosts (fake transport): what the survey, the rolling lock and the
// health checks let through. Each host is a small world the docker/etcdctl commands read and change.
import { describe, expect, it } from 'vitest';
import { runPlaybook } from '../../lib/runner.ts';
import { Interrupt } from '../../lib/interrupt.ts';
import { definePlaybook, defineRole, type Step } from '../../lib/types.ts';
import { healthStep } from '../../roles/etcd/health.ts';
import { memberStep } from '../../roles/etcd/member.ts';
import { fakeFleet, fakeInventory } from '../helpers/fake-transport.ts';
import { batchAware, batchNonce } from '../helpers/role-fleet.ts';

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

/** A member as the cluster lists it (`member list`). */
interface Member {
  id: string;
  name: string;
  /** The host it runs on (its peer URL is http://<host>:2380). */
  host: string;
  started: boolean;
}

interface Script {
  world: Record<string, World>;
  /** Hosts whose dockerd hangs: every docker command times out. */
  hung?: string[];
  /** Hosts whose next `docker run` starts a container that never gets healthy. */
  broken?: string[];
  /** The inventory (default: the etcd group lab1..lab3). */
  groups?: Record<string, string[]>;
  /** The cluster's membership (default: one started member per etcd host, named after it). */
  members?: Member[];
  /** The bundles' confs on the control and gateway hosts: path -> content. */
  confs?: Record<string, Record<string, string>>;
  /** Hosts whose read of the confs fails. */
  unreadable?: string[];
  /** Each `docker run -d`'s ETCD_INITIAL_CLUSTER, by host. */
  initialCluster?: Record<string, string>;
  /** Commands (by a part of them) that fail. */
  failing?: string[];
  /** Called with each command before it is answered (a signal in the middle of a change). */
  onCommand?: (command: string, host: string) => void;
}

const memberLine = (m: Member) => `${m.id}, ${m.started ? 'started' : 'unstarted'}, ${m.started ? m.name : ''}, http://${m.host}:2380, ${m.started ? `http://${m.host}:2379` : ''}, false`;

function responder(s: Script, log: string[]) {
  const healthy = (h: string) => !!s.world[h]?.container?.running && s.world[h].serving;
  s.members ??= (s.groups?.etcd ?? HOSTS).map((h) => ({ id: `id${h}`, name: h, host: h, started: true }));
  const members = s.members;
  return (command: string, host: string) => {
    s.onCommand?.(command, host);
    const w = s.world[host];
    if (s.hung?.includes(host) && /docker /.test(command)) return { code: -1, stderr: 'timed out after 20 s (killed)\n' };
    // A batched read (the health gate's): answered command by command (batchAware).
    if (batchNonce(command)) return undefined;
    if (command.includes('echo confs=done')) {
      if (s.unreadable?.includes(host)) return { code: 1, stderr: 'sudo: a password is required' };
      const files = Object.entries(s.confs?.[host] ?? {}).map(([f, text]) => `conf ${Buffer.from(text).toString('base64')} ${f}`);
      return { stdout: [...files, 'confs=done'].join('\n') };
    }
    if (command.includes('docker run --rm') && command.endsWith(' endpoint status')) {
      log.push(`${host}: endpoint status of ${/--endpoints=(\S+)/.exec(command)![1]}`);
      const targets = /--endpoints=(\S+)/.exec(command)![1].split(',');
      const up = targets.filter((t) => healthy(/([^/:]+):\d+$/.exec(t)![1]));
      return { code: up.length === targets.length ? 0 : 1, stdout: up.map((t) => `${t}, id, 3.4.23, 20 kB, false, false, 2, 8, 8, `).join('\n') };
    }
    if (command.includes('docker run --rm') && command.includes(' snapshot save ')) {
      // A one-off container of the etcd image (it needs none of the member's mounts): the member must serve.
      log.push(`${host}: etcdctl snapshot save (one-off container)`);
      return healthy(host) ? {} : { code: 1, stderr: 'Error: context deadline exceeded' };
    }
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
      const targets = /--endpoints=(\S+)/.exec(command)![1].split(',').map((u) => /\/\/([^:]+):/.exec(u)?.[1] ?? u);
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
      if (command.includes('member list')) return { stdout: members.map(memberLine).join('\n') };
      log.push(`${host}: etcdctl ${/etcdctl --endpoints=\S+ (.*)$/.exec(command)![1]}`);
      const removed = / member remove (\S+)$/.exec(command)?.[1];
      if (removed) members.splice(members.findIndex((m) => m.id === removed), 1);
      const added = / member add (\S+) --peer-urls=http:\/\/([^:]+):2380$/.exec(command);
      if (added) members.push({ id: `new${added[2]}`, name: added[1], host: added[2], started: false });
      return {};
    }
    if (s.failing?.some((f) => command.includes(f))) return { code: 1, stderr: 'cp: error writing: No space left on device' };
    // A migration's way back while the data is still in the old dir (restartMigratedCmd's else).
    if (command.startsWith('if [ -d ') && command.endsWith('else docker start etcd; fi') && w.data !== DIR) {
      log.push(`${host}: start`);
      w.container!.running = true;
      return {};
    }
    if (command === 'docker stop -t 30 etcd') {
      log.push(`${host}: stop`);
      w.container!.running = false;
      return {};
    }
    if (command.includes('docker stop')) {
      if (!w.container) return {};
      log.push(`${host}: ${w.container.running ? 'stop' : 'remove'}`);
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
      (s.initialCluster ??= {})[host] = /ETCD_INITIAL_CLUSTER=(\S+)/.exec(command)![1];
      w.container = { running: true, spec, mount };
      w.data = mount;
      w.serving = !s.broken?.includes(host);
      const joined = members.find((m) => m.host === host);
      if (joined) joined.started = true;
      return {};
    }
    return {};
  };
}

async function run(s: Script, opts: { limit?: string; dataDir?: string; interrupt?: Interrupt; log?: string[]; steps?: Step[] } = {}) {
  const log = opts.log ?? [];
  const fleet = fakeFleet(batchAware(responder(s, log)));
  const role = defineRole({
    name: 'etcd',
    defaults: { etcd_data_dir: opts.dataDir ?? DIR, etcd_cluster_token: 't', etcd_snapshot_keep: 5, health_timeout: 1 },
    steps: opts.steps ?? [memberStep],
  });
  const summary = await runPlaybook(definePlaybook({ name: 'etcd', description: '', plays: [{ name: 'etcd', hosts: 'etcd', role }] }), { limit: opts.limit }, {
    inventory: fakeInventory(s.groups ?? { etcd: [...HOSTS] }),
    transports: fleet.factory,
    close: fleet.close,
    interrupt: opts.interrupt,
  });
  const result = (h: string) => summary.results.find((r) => r.host === h)!;
  return { summary, log, result, fleet };
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
    expect(changes(log)).toEqual(['lab1: etcdctl member remove idlab3', 'lab1: etcdctl member add api7-etcd-3 --peer-urls=http://lab3:2380', 'lab3: remove', 'lab3: wipe data', 'lab3: run existing']);
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

  it('a migration whose move fails: the member is started again on its old dir, as it was, and the roll stops', async () => {
    const s: Script = { world: Object.fromEntries(HOSTS.map((h) => [h, running('OLD', OLD)])), failing: ['member.gatewright-moving'] };
    const { summary, log, result } = await run(s);
    expect(summary.exitCode).toBe(2);
    const first = HOSTS.find((h) => /No space left/.test(result(h).reason ?? ''))!;
    expect(changes(log)).toEqual([`${first}: stop`, `${first}: start`]);
    for (const h of HOSTS) expect([s.world[h].container, s.world[h].data]).toEqual([{ running: true, spec: 'OLD', mount: OLD }, OLD]);
  });

  it('a changed etcd_data_dir moves each member\'s data one at a time and never starts a new cluster', async () => {
    const s: Script = { world: Object.fromEntries(HOSTS.map((h) => [h, running('OLD', OLD)])) };
    const { summary, log } = await run(s);
    expect(summary.exitCode).toBe(0);
    const steps = changes(log);
    expect(steps).toHaveLength(12);
    for (let i = 0; i < 12; i += 4) {
      const h = steps[i].split(':')[0];
      // Stopped, not removed, until its data is whole in the new dir.
      expect(steps.slice(i, i + 4)).toEqual([`${h}: stop`, `${h}: move data`, `${h}: remove`, `${h}: run existing`]);
    }
    expect(HOSTS.map((h) => s.world[h].container?.mount)).toEqual([DIR, DIR, DIR]);
  });
});

describe('the etcd group changes (scripted hosts)', () => {
  const named = (hosts: string[]): Member[] => hosts.map((h, i) => ({ id: `id${h}`, name: `api7-etcd-${i + 1}`, host: h, started: true }));
  const CP = '/opt/api7/api7-2.13.2304-cp/dashboard_conf/conf.yaml';
  const DP = '/opt/api7/api7-2.13.2304-dp/gateway_conf/config.yaml';
  const dashboardConf = (endpoints: string[]) => `conf:\n  etcd:\n    endpoints:\n${endpoints.map((e) => `      - ${e}\n`).join('')}    prefix: /api7\n`;
  const gatewayConf = (hosts: string[]) => `etcd:\n  host:\n${hosts.map((e) => `    - "${e}"\n`).join('')}  prefix: /api7/default\n`;
  const bare = (): World => ({ data: null, serving: false });
  const sent = (fleet: { transports: Map<string, { commands: string[] }> }, h: string) => fleet.transports.get(h)?.commands ?? [];

  /** The etcd group replaced by lab6..lab8 while lab1..lab3 still run the cluster the stack's confs name. */
  const replaced = (over: Partial<Script> = {}): Script => ({
    world: { lab1: running(), lab2: running(), lab3: running(), lab6: bare(), lab7: bare(), lab8: bare() },
    groups: { etcd: ['lab6', 'lab7', 'lab8'], control: ['lab1', 'lab2'], gateway: ['lab4'] },
    members: named(['lab1', 'lab2', 'lab3']),
    confs: {
      lab1: { [CP]: dashboardConf(['lab1:2379', 'lab2:2379', 'lab3:2379']) },
      lab2: { [CP]: dashboardConf(['lab1:2379', 'lab2:2379', 'lab3:2379']) },
      lab4: { [DP]: gatewayConf(['http://lab1:2379', 'http://lab2:2379', 'http://lab3:2379']) },
    },
    ...over,
  });

  it('the group replaced while the old cluster still serves the stack: no member bootstraps; each says what it found and what to do', async () => {
    const s = replaced();
    const { summary, log, result, fleet } = await run(s);
    expect(summary.exitCode).toBe(2);
    for (const h of ['lab6', 'lab7', 'lab8']) {
      const why = result(h).reason!;
      expect(why).toMatch(new RegExp(`^not bootstrapping a new etcd cluster on ${h}: the stack is configured with etcd endpoints outside the etcd group: `));
      expect(why).toContain(`lab1:2379 (${CP} on lab1, ${CP} on lab2, ${DP} on lab4)`);
      expect(why).toMatch(/lab1:2379, lab2:2379, lab3:2379 answer `endpoint status` \(asked from lab\d\): that cluster serves the stack now/);
      expect(why).toMatch(/add the new hosts one per run .* remove their members/);
      expect(sent(fleet, h).filter((c) => c.startsWith('docker run -d'))).toEqual([]);
    }
    // Asked once for the play, from one etcd host: a read, nothing else anywhere.
    expect(log).toEqual([expect.stringMatching(/^lab[678]: endpoint status of lab1:2379,lab2:2379,lab3:2379$/)]);
  });

  it('the old cluster down: still no bootstrap (down is not gone), saying how to go on either way', async () => {
    const s = replaced();
    for (const h of ['lab1', 'lab2', 'lab3']) s.world[h].serving = false;
    const { summary, result } = await run(s);
    expect(summary.exitCode).toBe(2);
    expect(result('lab6').reason).toMatch(/none answered `endpoint status` from lab\d .*that cluster may be down, which is not gone.*Only if that cluster is gone for good/);
  });

  it('a control host whose confs cannot be read is unknown: no bootstrap, and nobody is asked', async () => {
    const { summary, log, result } = await run(replaced({ unreadable: ['lab2'] }));
    expect(summary.exitCode).toBe(2);
    expect(result('lab7').reason).toMatch(/could not be read on lab2 \(reading the bundles' confs failed \(exit 1\): sudo: a password is required\), and unknown is not "none"/);
    expect(log).toEqual([]);
  });

  it('a fresh stack (confs as shipped, or already naming the group) bootstraps', async () => {
    const s = replaced({ confs: { lab1: { [CP]: dashboardConf(['127.0.0.1:2379']) }, lab4: { [DP]: gatewayConf(['http://lab6:2379', 'http://lab7:2379', 'http://lab8:2379']) } } });
    const { summary, log } = await run(s);
    expect(summary.exitCode, JSON.stringify(summary.errors)).toBe(0);
    expect(log.sort()).toEqual(['lab6: run new', 'lab7: run new', 'lab8: run new']);
  });

  it('3 -> 4: the new member is added and started with the live member list plus itself; the others are not touched', async () => {
    const spec = await wantedSpecs();
    const s: Script = {
      world: { lab1: running(spec.lab1), lab2: running(spec.lab2), lab3: running(spec.lab3), lab4: bare() },
      groups: { etcd: ['lab1', 'lab2', 'lab3', 'lab4'] },
      members: named(['lab1', 'lab2', 'lab3']),
    };
    const { summary, log } = await run(s);
    expect(summary.exitCode, JSON.stringify(summary.errors)).toBe(0);
    expect(changes(log)).toEqual(['lab1: etcdctl member add api7-etcd-4 --peer-urls=http://lab4:2380', 'lab4: wipe data', 'lab4: run existing']);
    expect(s.initialCluster).toEqual({ lab4: 'api7-etcd-1=http://lab1:2380,api7-etcd-2=http://lab2:2380,api7-etcd-3=http://lab3:2380,api7-etcd-4=http://lab4:2380' });
    expect(s.members!.map((m) => [m.name, m.started])).toEqual([['api7-etcd-1', true], ['api7-etcd-2', true], ['api7-etcd-3', true], ['api7-etcd-4', true]]);
  });

  it('3 -> 5: one new member per run; the other fails saying so and nothing is done for it; the cluster gate does not wait for it', async () => {
    const spec = await wantedSpecs();
    const s: Script = {
      world: { lab1: running(spec.lab1), lab2: running(spec.lab2), lab3: running(spec.lab3), lab4: bare(), lab5: bare() },
      groups: { etcd: ['lab1', 'lab2', 'lab3', 'lab4', 'lab5'] },
      members: named(['lab1', 'lab2', 'lab3']),
    };
    const { summary, log, fleet } = await run(s, { steps: [memberStep, healthStep] });
    expect(summary.exitCode).toBe(2);
    const failed = summary.results.filter((r) => r.status === 'failed');
    expect(failed.map((r) => [r.host, r.step])).toEqual([['lab5', 'etcd member']]);
    expect(failed[0].reason).toMatch(/^add one etcd host per run: lab4 joins the cluster in this run, lab5 in a later one .*Nothing was changed for lab5/);
    for (const h of ['lab1', 'lab2', 'lab3', 'lab4']) expect(summary.results.find((r) => r.host === h && r.step === 'etcd cluster healthy')?.status).toBe('ok');
    expect(changes(log)).toEqual(['lab1: etcdctl member add api7-etcd-4 --peer-urls=http://lab4:2380', 'lab4: wipe data', 'lab4: run existing']);
    expect(s.initialCluster).toEqual({ lab4: 'api7-etcd-1=http://lab1:2380,api7-etcd-2=http://lab2:2380,api7-etcd-3=http://lab3:2380,api7-etcd-4=http://lab4:2380' });
    expect(s.members).toHaveLength(4);
    // Only reads reached lab5 (its survey, the image's ID, its health as another member's turn asked it).
    expect(sent(fleet, 'lab5').filter((c) => /docker (run|stop|rm)|rm -rf|member (add|remove)/.test(c) && !c.includes('survey=done'))).toEqual([]);
  });

  it('a new host in a retired host\'s place (same default name) while that host\'s member still runs: nothing is removed', async () => {
    const spec = await wantedSpecs();
    const s: Script = {
      world: { lab1: running(spec.lab1), lab2: running(spec.lab2), lab3: running(spec.lab3), lab6: bare() },
      groups: { etcd: ['lab1', 'lab2', 'lab6'] },
      members: named(['lab1', 'lab2', 'lab3']),
    };
    const { summary, log, result } = await run(s);
    expect(summary.exitCode).toBe(2);
    expect(result('lab6').reason).toMatch(/^the etcd member name api7-etcd-3 is taken by member api7-etcd-3 \(idlab3, http:\/\/lab3:2380\), which is not lab6\. Not removing it/);
    expect(changes(log)).toEqual([]);
    expect(s.members!.map((m) => m.id)).toEqual(['idlab1', 'idlab2', 'idlab3']);
    expect(s.world.lab3.container?.running).toBe(true);
  });
});

describe('a forced interrupt while a member is replaced', () => {
  it('SIGTERM during the remove: the run puts the member back (its planned docker run) before it exits, and takes no other member down', async () => {
    const interrupt = new Interrupt();
    const s: Script = { world: Object.fromEntries(HOSTS.map((h) => [h, running('OLD')])) };
    const log: string[] = [];
    s.onCommand = (command) => {
      if (interrupt.requested || !command.includes('docker stop -t 30 etcd')) return;
      interrupt.request('SIGTERM');
      // What lib/cli.ts does on a forced signal: put back what is held, then exit (here: a mark in the log).
      void interrupt.restoreAll().then(() => log.push('exited'));
    };
    const r = await run(s, { interrupt, log });
    expect(r.summary.exitCode).toBe(143);
    const first = HOSTS.find((h) => s.world[h].container?.spec !== 'OLD')!;
    // The member's planned docker run reached its host before the (simulated) exit.
    expect(changes(log)).toEqual([`${first}: stop`, `${first}: run existing`, 'exited']);
    for (const h of HOSTS.filter((x) => x !== first)) {
      expect(s.world[h].container).toEqual({ running: true, spec: 'OLD', mount: DIR });
      expect(r.result(h).reason).toMatch(new RegExp(`interrupted \\(SIGTERM\\)`));
    }
  });
});
