// The runner under faults on the shared lab: a server left drained by hand is drift the lb play repairs; a
// second run is refused while one holds the hosts (and a stale lock is broken on request); Ctrl-C in the
// middle of a rolling gateway change leaves no server drained, and SIGTERM puts back at once what a drain or
// verify took down; an etcd and control host dead before `site` stops only its own work; a gateway host killed
// in the middle of `site` leaves the other gateway deployed and serving, and after `lab start` a rerun converges. Each case puts the
// lab back in its resting state, and afterAll does it again whatever failed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostStatuses, killHost, PATHS, startHost } from '../../lab/index.ts';
import { quote } from '../../lib/shell.ts';
import { LOCK_FILE } from '../../lib/lock.ts';
import { stackVars } from '../../vars/schema.ts';
import { DASHBOARD_CONF, dashboardDir } from '../../ops/layout.ts';
import { adminSocketCommand, parseServerStats, setServerState, SHOW_SERVERS, socketInput, type ServerStat } from '../../ops/lb-runtime.ts';
import { httpRequest } from '../../roles/verify/http.ts';
import { cliRunner, DASHBOARD_PASSWORD, etcdctl, ip, onHost, type Report } from './helpers.ts';

const PASSWORD = ['-e', `dashboard_admin_password=${DASHBOARD_PASSWORD}`];
const play = cliRunner('60', PASSWORD);
const dir = mkdtempSync(join(tmpdir(), 'gw-e2e-60-spawned-'));
const MINUTE = 60_000;
/** The first control host's conf.yaml, where the bundle of the inventory's version unpacks (the lab's: the default). */
const DASHBOARD_CONF_PATH = `${dashboardDir({})}/${DASHBOARD_CONF}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const changed = (r: Report) => r.results.filter((x) => x.status === 'changed').map((x) => `${x.host} ${x.step}`);

/** Polls `check` every second, at most `ms`; throws with the last answer. */
async function waitUntil(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; Date.now() < deadline && i < ms / 500; i++) {
    if (await check()) return;
    await sleep(1000);
  }
  throw new Error(`${what}: not after ${ms / 1000} s`);
}

/** HAProxy's runtime API on lb1 (what the lb role uses), stdin carrying the commands. */
function lbSocket(commands: string[]): string {
  const r = onHost('lb1', `sudo sh -c ${quote(adminSocketCommand(stackVars({ vars: {} }).lb_admin_socket))}`, socketInput(commands));
  expect(r.code, r.out).toBe(0);
  return r.out;
}
const lbServers = (): ServerStat[] => parseServerStats(lbSocket([SHOW_SERVERS]));
const outOfRotation = () => lbServers().filter((s) => /^(DRAIN|MAINT)/.test(s.status)).map((s) => `${s.backend}/${s.server} ${s.status}`);

/** Five requests of the guide's check through lb1, each answered 200. */
async function servesThroughLb(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const res = await httpRequest({ host: ip('lb1'), port: 80, path: '/get', headers: { host: 'test.com' } });
    expect(res.status).toBe(200);
  }
}

/** The CLI as its own process (the launcher runs it in-process: nothing between us and its signals), output collected. */
function spawnPlay(playbook: string, flags: string[]) {
  const json = join(dir, `${Date.now()}-${playbook}.json`);
  const child = spawn('node', ['bin/play.mjs', playbook, '-i', PATHS.inventory, '--json', json, ...PASSWORD, ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exit = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : -2))));
  return {
    child,
    output: () => output,
    exit,
    report: () => JSON.parse(readFileSync(json, 'utf8')) as Report,
    /** Waits (bounded) until the output matches. */
    sees: (pattern: RegExp, ms: number) => waitUntil(`${playbook} printing ${pattern}`, ms, () => pattern.test(output)),
  };
}

/** The CLI to the end, synchronously (no --json: a refused run writes none). */
function runCli(playbook: string, flags: string[] = []): { code: number; out: string } {
  const r = spawnSync('node', ['bin/play.mjs', playbook, '-i', PATHS.inventory, ...PASSWORD, ...flags], { encoding: 'utf8', timeout: 10 * MINUTE });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** The resting state: every host running, site converged with the e2e password. */
async function rest(): Promise<void> {
  const statuses = await hostStatuses();
  for (const s of statuses) if (s.state !== 'running') await startHost(s.name);
  onHost('lb1', `sudo rm -f ${LOCK_FILE}`);
  const r = await play('site');
  expect(r.errors).toEqual([]);
  expect(r.exitCode).toBe(0);
}

afterAll(rest, 30 * MINUTE);

describe('faults in the middle of a run', () => {
  it('a healthy server left in DRAIN by hand is readied by the next lb run (changed); the run after changes nothing', async () => {
    lbSocket([setServerState('gateways_http', 'lab5', 'drain'), setServerState('gateways_https', 'lab5', 'drain')]);
    expect(outOfRotation()).toEqual(['gateways_http/lab5 DRAIN', 'gateways_https/lab5 DRAIN']);
    const first = await play('lb');
    expect(first.exitCode).toBe(0);
    expect(first.results.find((r) => r.step === 'no server left drained or in maintenance')).toMatchObject({
      status: 'changed',
      changes: ['ready gateways_http/lab5 (was DRAIN)', 'ready gateways_https/lab5 (was DRAIN)'],
    });
    expect(outOfRotation()).toEqual([]);
    const again = await play('lb');
    expect(again.exitCode).toBe(0);
    expect(changed(again)).toEqual([]);
  }, 10 * MINUTE);

  it('a server whose weight was set to 0 by hand (haproxy 2.6 still says UP) gets its configured weight back from the next lb run; the run after changes nothing', async () => {
    const weightOf = (server: string) => lbServers().find((s) => s.backend === 'gateways_http' && s.server === server)?.weight;
    lbSocket(['set weight gateways_http/lab5 0']);
    expect(weightOf('lab5')).toBe(0);
    const first = await play('lb');
    expect(first.exitCode).toBe(0);
    expect(first.results.find((r) => r.step === 'no server left drained or in maintenance')).toMatchObject({
      status: 'changed',
      changes: ['ready gateways_http/lab5 (was UP, weight 0)'],
    });
    expect(weightOf('lab5')).toBe(weightOf('lab4'));
    expect(weightOf('lab5')).toBeGreaterThan(0);
    expect(outOfRotation()).toEqual([]);
    const again = await play('lb');
    expect(again.exitCode).toBe(0);
    expect(changed(again)).toEqual([]);
  }, 10 * MINUTE);

  it('a second run against the same hosts is refused at once (exit 4) naming the holder, while the first completes', async () => {
    const first = spawnPlay('site', []);
    // A converged site holds the lock for about 2 s: the run prints its header once it holds it, and is frozen
    // there (SIGSTOP) so it keeps holding it for as long as the second run takes, however fast both are.
    const deadline = Date.now() + 5 * MINUTE;
    while (!/PLAYBOOK site/.test(first.output()) && Date.now() < deadline) await sleep(20);
    first.child.kill('SIGSTOP');
    try {
      await waitUntil(`site holding ${LOCK_FILE} on lb1`, MINUTE, () => onHost('lb1', `cat ${LOCK_FILE}`).out.startsWith('gatewright site run by'));
      const t0 = Date.now();
      const second = runCli('lb');
      expect(second.code, second.out).toBe(4);
      expect(second.out).toMatch(/another run holds the lock \(\/run\/gatewright\.lock\) on lb1:\n {2}lb1: gatewright site run by \S+@\S+ \(pid \d+\) since \d{4}-/);
      expect(second.out).toContain('--break-lock');
      expect(Date.now() - t0).toBeLessThan(2 * MINUTE); // refused, not queued behind the first
    } finally {
      first.child.kill('SIGCONT');
      expect(await first.exit, first.output()).toBe(0);
    }
    expect(first.report().exitCode).toBe(0);
    expect(onHost('lb1', `sudo test -e ${LOCK_FILE}`).code).not.toBe(0); // released at the end
  }, 15 * MINUTE);

  it('a stale lock (dead controller) refuses the run until --break-lock breaks it', async () => {
    const ghost = 'gatewright site run by ops@gone-controller (pid 4242) since 2026-01-01T00:00:00.000Z';
    expect(onHost('lb1', `printf '%s\\n' ${quote(ghost)} | sudo tee ${LOCK_FILE} >/dev/null`).code).toBe(0);
    const refused = runCli('lb');
    expect(refused.code).toBe(4);
    expect(refused.out).toContain(`lb1: ${ghost}`);
    const broken = runCli('lb', ['--break-lock']);
    expect(broken.code, broken.out).toBe(0);
    expect(broken.out).toContain(`lb1: broke the run lock held by: ${ghost}`);
    expect(onHost('lb1', `sudo test -e ${LOCK_FILE}`).code).not.toBe(0);
  }, 10 * MINUTE);

  /**
   * A rolling gateway change to interrupt: both gateways' config.yaml written after their container started (the
   * bundles' ports come from their compose files, so a port variable no longer changes anything to restart for).
   */
  const touchGatewayConfs = () =>
    ['lab4', 'lab5'].forEach((h) => expect(onHost(h, 'sudo touch /opt/api7/api7-2.13.2304-dp/gateway_conf/config.yaml').code, h).toBe(0));

  it('Ctrl-C during a rolling gateway change: exit 130, no server left drained; a rerun restores the resting state', async () => {
    touchGatewayConfs();
    const run = spawnPlay('gateway', []);
    let drained: string[] = [];
    try {
      await waitUntil('a gateway drained on lb1', 10 * MINUTE, () => (drained = outOfRotation()).length > 0);
      run.child.kill('SIGINT');
      const code = await Promise.race([run.exit, sleep(10 * MINUTE).then(() => 'still running')]);
      expect(code, run.output()).toBe(130);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    expect(drained.join(' ')).toMatch(/^gateways_https?\/lab[45] DRAIN/);
    expect(run.output()).toContain('interrupted (SIGINT): no new step starts');
    expect(outOfRotation()).toEqual([]);
    expect(run.report().exitCode).toBe(130);
    await rest();
  }, 25 * MINUTE);

  it('SIGTERM during a rolling gateway change puts the drained server back at once and releases the locks: exit 143', async () => {
    touchGatewayConfs();
    const run = spawnPlay('gateway', []);
    try {
      await waitUntil('a gateway drained on lb1', 10 * MINUTE, () => outOfRotation().length > 0);
      run.child.kill('SIGTERM');
      const code = await Promise.race([run.exit, sleep(3 * MINUTE).then(() => 'still running')]);
      expect(code, run.output()).toBe(143);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    expect(run.output()).toMatch(/interrupted \(SIGTERM\): putting back now: lab[45] drained on lb1/);
    expect(outOfRotation()).toEqual([]);
    for (const h of ['lb1', 'lab4', 'lab5']) expect(onHost(h, `sudo test -e ${LOCK_FILE}`).code, h).not.toBe(0);
    await rest();
  }, 25 * MINUTE);

  it('SIGTERM while verify has a gateway stopped starts it again before exiting', async () => {
    const running = () => onHost('lab4', "sudo docker ps --filter name=api7-gateway --format '{{.Names}}'").out.includes('api7-gateway');
    expect(running()).toBe(true);
    const run = spawnPlay('verify', ['--tags', 'data-plane']);
    try {
      await waitUntil('verify stopping the gateway on lab4', 10 * MINUTE, () => !running());
      run.child.kill('SIGTERM');
      const code = await Promise.race([run.exit, sleep(5 * MINUTE).then(() => 'still running')]);
      expect(code, run.output()).toBe(143);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    expect(run.output()).toContain('putting back now: gateway stopped on lab4');
    expect(running()).toBe(true);
    await rest();
  }, 25 * MINUTE);

  it('an etcd and control host (lab2) dead before site: its members are known losses, the rest converge and serve; after lab start a rerun converges', async () => {
    await killHost('lab2');
    const r = await play('site');
    const node = (play: string, host: string) => (r as unknown as { nodes: { play: string; host: string; status: string }[] }).nodes.find((n) => n.play === play && n.host === host)?.status;
    expect(r.exitCode).toBe(3); // unreachable, not failed
    expect(r.errors.every((e) => e.host === 'lab2' && e.unreachable), JSON.stringify(r.errors)).toBe(true);
    // lab1's etcd gate counts lab2's member out as a known loss; what builds on etcd and on the dashboards goes on.
    expect(node('etcd', 'lab1')).toBe('ok');
    expect(node('dashboard', 'lab1')).toBe('ok');
    for (const h of ['lab4', 'lab5']) expect(node('gateway', h)).toBe('ok');
    expect(node('lb', 'lb1')).toBe('ok');
    expect((r as unknown as { warnings?: { message: string }[] }).warnings?.map((w) => w.message)).toContainEqual(expect.stringMatching(/^etcd serves with 2\/3 members: lab2 unreachable in this run/));
    await servesThroughLb();
    await startHost('lab2');
    await rest();
  }, 20 * MINUTE);

  it('a gateway host killed in the middle of site: the other gateway does the run-once probe route, deploys and serves through the LB; after lab start a rerun converges', async () => {
    // Without the probe route no gateway passes its health gate: lab5 can pass only if the route is written
    // by whichever gateway host is still alive. A converged host is read once, at its first play; so that the
    // run looks at lab4 again after the kill, the dashboards' conf is spoilt by hand (the dashboard play rewrites
    // it and recreates them, one at a time): after that change every later play reads again what it looks at.
    // lab4, the gateway play's first host, is killed once its batch is read, while the dashboards roll.
    expect(etcdctl('lab1', 'del /api7/default/routes/gatewright-probe').out).toBe('1');
    for (const h of ['lab1', 'lab2']) expect(onHost(h, `sudo sed -i 's#prefix: /api7 #prefix: /api7-spoilt #' ${DASHBOARD_CONF_PATH}`).code).toBe(0);
    const run = spawnPlay('site', ['-v']);
    try {
      await run.sees(/\[lab4\] docker: (ok|changed|OK|CHANGED)/i, 15 * MINUTE);
      await killHost('lab4');
      await Promise.race([run.exit, sleep(10 * MINUTE)]);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    const report = run.report();
    const node = (play: string, host: string) => (report as unknown as { nodes: { play: string; host: string; status: string }[] }).nodes.find((n) => n.play === play && n.host === host);
    // Killed in its gateway bundle play or in the gateway play itself: unreachable either way, its gateway not deployed.
    expect((report as unknown as { hosts: Record<string, { unreachable: number }> }).hosts.lab4?.unreachable, run.output()).toBe(1);
    expect(['unreachable', 'skipped'], run.output()).toContain(node('gateway', 'lab4')?.status);
    expect(node('gateway', 'lab5')?.status, run.output()).toMatch(/^(ok|changed)$/);
    expect(report.errors.filter((e) => e.host !== 'lab4')).toEqual([]);
    const probe = report.results.find((r) => r.step === 'probe route through the control plane (console API)' && r.status === 'changed');
    expect(probe?.host).toBe('lab5');
    // Served through the LB with lab4 gone, once HAProxy has marked it down.
    await waitUntil('lb1 marking lab4 down', 2 * MINUTE, () => lbServers().filter((s) => s.server === 'lab4').every((s) => s.status.startsWith('DOWN')));
    await servesThroughLb();
    await startHost('lab4');
    const rerun = await play('site');
    expect(rerun.errors).toEqual([]);
    expect(rerun.exitCode).toBe(0);
    const again = await play('site');
    expect(again.exitCode).toBe(0);
    expect(changed(again)).toEqual([]);
  }, 40 * MINUTE);
});
