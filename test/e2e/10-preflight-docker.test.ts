// preflight and docker on the shared lab, through the real CLI and its --json report. preflight runs on every
// host; the docker play only on the hosts outside the stack (lb1, upstream1): the stack hosts stay bare, for
// 20-stack's `site` from bare hosts to install Docker there (its first test checks that install as this file
// checks lb1's and upstream1's). Leaves lb1 and upstream1 with Docker installed and running.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { HOSTS } from '../../lab/index.ts';
import { cliRunner, hasDockerEngine, onHost, type Report } from './helpers.ts';

const play = cliRunner('10');

const step = (r: Report, host: string, name: string) => r.results.find((x) => x.host === host && x.step === name);
const VERDICT = 'host meets the requirements';
const INSTALLED = 'Docker >= 20.10.7 installed';
const RUNNING = 'Docker enabled and running';
const names = HOSTS.map((h) => h.name);
/** The hosts the site playbook gives no Docker: this file's docker play is theirs, the stack hosts' is 20-stack's `site`. */
const OUTSIDE = ['lb1', 'upstream1'];
const LIMIT = ['--limit', OUTSIDE.join(',')];

describe('preflight on the lab', () => {
  let holder: string | undefined; // pid of the listener we start on lab4

  afterAll(() => {
    if (holder) onHost('lab4', `sudo kill ${holder}`);
  });

  it('passes on every host, one step per check, and changes nothing', async () => {
    const r = await play('preflight');
    expect(r.exitCode).toBe(0);
    for (const host of names) {
      expect(step(r, host, VERDICT)?.status, host).toBe('ok');
      expect(step(r, host, 'memory')?.data?.info, host).toMatch(/^memory \d+ MB$/);
      expect(step(r, host, 'kernel version')?.status, host).toBe('ok');
    }
    expect(step(r, 'lab4', 'ports of the host roles are free')?.data?.info).toBe('ports 80, 443, 9091 free or held by our stack');
    expect(step(r, 'upstream1', 'ports of the host roles are free')?.status).toBe('skipped');
    // A host this run's lab created has no Docker yet: its version check waits for the install.
    for (const host of inject('labCreatedHosts')) {
      expect(step(r, host, 'Docker version (when installed)'), host).toMatchObject({ status: 'skipped', reason: 'Docker is not installed yet' });
    }
    expect(r.results.filter((x) => x.status === 'changed')).toEqual([]);
  });

  // A port of lab4's roles that nothing of ours holds, even on a lab reused after a full deployment.
  const PORT = 19091;
  const portVar = `gateway_prometheus_port=${PORT}`;

  it('a taken port fails only that host, naming the port, its variable and the holder', async () => {
    // nc from the host image holds it, detached so ssh returns.
    holder = onHost('lab4', `sudo sh -c 'setsid nc -lk 0.0.0.0 ${PORT} >/dev/null 2>&1 </dev/null & echo $!'`).out;
    expect(holder).toMatch(/^\d+$/);
    const listening = () => onHost('lab4', `ss -ltnH "sport = :${PORT}"`).out !== '';
    for (let i = 0; i < 50 && !listening(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(listening()).toBe(true);

    const r = await play('preflight', '-e', portVar);
    expect(r.exitCode).toBe(2);
    const failed = r.results.filter((x) => x.status === 'failed');
    expect(failed.map((x) => `${x.host}: ${x.step}`)).toEqual([`lab4: ${VERDICT}`]);
    expect(failed[0].reason).toBe(`lab4: port ${PORT} (gateway_prometheus_port) is in use by nc (pid ${holder})`);
    // A failed host gets no firewall change.
    expect(step(r, 'lab4', 'firewall opens the ports of the host roles')).toBeUndefined();
  });

  it('raised thresholds (-e) fail every host, each listing all of its problems at once', async () => {
    const r = await play('preflight', '-e', portVar, '-e', 'preflight_min_memory_mb=99999999', '-e', 'preflight_min_cpus=64');
    expect(r.exitCode).toBe(2);
    for (const host of names) {
      const reason = step(r, host, VERDICT)?.reason ?? '';
      expect(reason, host).toMatch(new RegExp(`^${host}: `));
      expect(reason, host).toMatch(/\d+ CPUs < 64 \(preflight_min_cpus\)/);
      expect(reason, host).toMatch(/memory \d+ MB < 99999999 MB \(preflight_min_memory_mb\)/);
    }
    expect(step(r, 'lab4', VERDICT)?.reason).toContain(`port ${PORT} (gateway_prometheus_port) is in use by nc (pid ${holder})`);

    onHost('lab4', `sudo kill ${holder}`);
    holder = undefined;
  });
});

describe('docker on the lab', () => {
  const answers = (host: string) => onHost(host, 'sudo docker info --format "{{.ServerVersion}}"');

  // The options set below are this file's: the role's own daemon.json (live-restore only) goes back, one
  // host at a time, so a site rerun after this file changes nothing.
  afterAll(async () => {
    const back = await play('docker', ...LIMIT);
    expect(back.exitCode).toBe(0);
    for (const host of OUTSIDE) expect(JSON.parse(onHost(host, 'cat /etc/docker/daemon.json').out), host).toEqual({ 'live-restore': true });
  });

  it('installs Docker from the cached .debs where it is missing on lb1 and upstream1, starts it, with compose; the stack hosts stay bare', async () => {
    const bare = names.filter((h) => !hasDockerEngine(h));
    const without = OUTSIDE.filter((h) => bare.includes(h));
    // Hosts this run's lab created have no Docker: they are the ones the role must install on.
    for (const fresh of inject('labCreatedHosts')) expect(bare).toContain(fresh);
    const r = await play('docker', ...LIMIT);
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect([...new Set(r.results.map((x) => x.host))].sort()).toEqual(OUTSIDE);
    for (const host of OUTSIDE) {
      expect(step(r, host, INSTALLED)?.status, host).toBe(without.includes(host) ? 'changed' : 'ok');
      expect(answers(host).out, host).toMatch(/^20\.10\.\d+/);
      expect(onHost(host, 'docker-compose version --short').out, host).toMatch(/^1\.29\./);
    }
    // The stack hosts this run's lab created are still bare: 20-stack's `site` installs there.
    for (const fresh of inject('labCreatedHosts').filter((h) => !OUTSIDE.includes(h))) expect(hasDockerEngine(fresh), fresh).toBe(false);
  });

  it('a second run changes nothing', async () => {
    const r = await play('docker', ...LIMIT);
    expect(r.exitCode).toBe(0);
    expect(r.results.filter((x) => x.status === 'changed').map((x) => `${x.host}: ${x.step}`)).toEqual([]);
  });

  it('a stopped daemon is brought back, on that host only', async () => {
    onHost('upstream1', 'sudo systemctl stop docker.socket docker.service');
    expect(answers('upstream1').code).not.toBe(0);
    const r = await play('docker', ...LIMIT);
    expect(r.exitCode).toBe(0);
    expect(r.results.filter((x) => x.status === 'changed').map((x) => `${x.host}: ${x.step}`)).toEqual([`upstream1: ${RUNNING}`]);
    expect(answers('upstream1').out).toMatch(/^20\.10\./);
  });

  it('daemon.json: written and the daemon restarted once; a rerun changes nothing', async () => {
    // On a reused lab the file may hold an earlier run's options: ask for different ones.
    const maxFile = onHost('upstream1', 'cat /etc/docker/daemon.json 2>/dev/null').out.includes('"max-file": "3"') ? '4' : '3';
    const wanted = { 'log-driver': 'json-file', 'log-opts': { 'max-file': maxFile, 'max-size': '50m' } };
    const options = JSON.stringify({ docker_daemon_options: wanted });
    const first = await play('docker', '--limit', 'upstream1', '-e', options);
    expect(first.exitCode).toBe(0);
    expect(first.results.filter((x) => x.status === 'changed').map((x) => x.step)).toEqual([
      'daemon.json (docker_daemon_options)',
      'restart Docker if daemon.json changed',
    ]);
    expect(onHost('upstream1', 'sudo docker info --format "{{.LoggingDriver}} {{.LiveRestoreEnabled}}"').out).toBe('json-file true');
    // live-restore is the role's default under the operator's options.
    expect(JSON.parse(onHost('upstream1', 'cat /etc/docker/daemon.json').out)).toEqual({ 'live-restore': true, ...wanted });
    const again = await play('docker', '--limit', 'upstream1', '-e', options);
    expect(again.results.filter((x) => x.status === 'changed')).toEqual([]);
  });

  it('with no service manager (docker_service_manager: none): dockerd runs detached, restarts on a daemon.json change', async () => {
    const changed = (r: Report) => r.results.filter((x) => x.status === 'changed').map((x) => x.step);
    const pid = () => onHost('lb1', 'cat /var/run/docker.pid').out;
    const none = ['--limit', 'lb1', '-e', 'docker_service_manager=none'];
    onHost('lb1', 'sudo systemctl stop docker.socket docker.service');
    expect(answers('lb1').code).not.toBe(0);

    const started = await play('docker', ...none);
    expect(started.exitCode).toBe(0);
    expect(changed(started)).toEqual([RUNNING]);
    expect(step(started, 'lb1', RUNNING)?.changes).toEqual(['start Docker (dockerd detached (no init system))']);
    const first = pid();
    expect(onHost('lb1', `ps -o args= -p ${first}`).out).toBe('dockerd'); // ours, not systemd's unit
    expect(answers('lb1').out).toMatch(/^20\.10\./);

    const maxFile = onHost('lb1', 'cat /etc/docker/daemon.json 2>/dev/null').out.includes('"max-file": "2"') ? '5' : '2';
    const options = JSON.stringify({ docker_daemon_options: { 'log-opts': { 'max-file': maxFile } } });
    const restarted = await play('docker', ...none, '-e', options);
    expect(changed(restarted)).toEqual(['daemon.json (docker_daemon_options)', 'restart Docker if daemon.json changed']);
    const second = pid();
    expect(second).not.toBe(first);
    expect(onHost('lb1', `ps -o args= -p ${second}`).out).toBe('dockerd');
    expect(onHost('lb1', 'sudo docker info --format "{{json .}}"').out).toContain('"ServerVersion":"20.10.');
    // The detached dockerd reads the same daemon.json: live-restore holds without systemd too.
    expect(onHost('lb1', 'sudo docker info --format "{{.LiveRestoreEnabled}}"').out).toBe('true');

    // Back under systemd for the files after this one: stop ours, and the role (auto) starts the unit.
    onHost('lb1', `sudo kill ${second}`);
    for (let i = 0; i < 60 && onHost('lb1', `sudo kill -0 ${second}`).code === 0; i++) await new Promise((r) => setTimeout(r, 500));
    const back = await play('docker', '--limit', 'lb1', '-e', options);
    expect(changed(back)).toEqual([RUNNING]);
    expect(onHost('lb1', 'systemctl is-active docker').out).toBe('active');
  });

  it('preflight still passes with Docker running (a rerun on a converged host)', async () => {
    const r = await play('preflight', ...LIMIT);
    expect(r.exitCode).toBe(0);
    for (const host of OUTSIDE) expect(step(r, host, 'Docker version (when installed)')?.data?.info, host).toMatch(/^Docker 20\.10\./);
    expect(r.results.filter((x) => x.status === 'changed')).toEqual([]);
  });
});
