// The docker role on scripted hosts: facts in, planned and run commands out. The engine is read once per run
// (in the role's batch) and again only after a change of ours touched it. The rolling restarts across hosts
// are in docker-rolling.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readDirCommand, readFileCommand } from '../../lib/files.ts';
import type { ExecResult } from '../../lib/types.ts';
import docker from '../../roles/docker/index.ts';
import { DAEMON_JSON, renderDaemonJson } from '../../roles/docker/daemon-config.ts';
import { DPKG_CONFIGURE } from '../../roles/docker/install.ts';
import { STACK_CONTAINERS } from '../../roles/docker/rolling.ts';
import { RESET_FAILED, waitForDocker } from '../../roles/docker/service.ts';
import { aptCandidatesFact, dockerFact } from '../../facts/docker.ts';
import { osFact } from '../../facts/os.ts';
import { batchCommands, runRole } from '../helpers/role-fleet.ts';

const DEBIAN = JSON.parse(readFileSync(new URL('./fixtures/facts/debian12.json', import.meta.url), 'utf8')) as Record<string, string>;
const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600';
const CONF = renderDaemonJson({ 'live-restore': true });

/** A host's state; the script's commands move it as the real ones would. */
interface State {
  installed?: string;
  running?: boolean;
  enabled?: boolean;
  unconfigured?: boolean;
  compose?: boolean;
  daemonJson?: string;
  dockerDir?: boolean;
}

const CONVERGED: State = { installed: '20.10.24+dfsg1', running: true, enabled: true, compose: true, daemonJson: CONF, dockerDir: true };
const FRESH: State = {};

function dockerOutput(s: State): string {
  return [
    `SERVER=${s.running ? s.installed : ''}`,
    ...(s.running ? [] : [`DOCKERD=${s.installed ? `Docker version ${s.installed}, build 5d6db84` : ''}`, 'CLIENT=']),
    'SYSTEMD=yes',
    'PID1=systemd',
    `ENABLED=${s.enabled ? 'enabled' : s.installed ? 'disabled' : ''}`,
    `DPKG=${s.installed ? `${s.unconfigured ? 'iU' : 'ii'} docker.io ` : ''}`,
    'COMPOSE_V2=',
    `COMPOSE_V1=${s.compose ? '1.29.2' : ''}`,
  ].join('\n');
}

type Answer = Partial<ExecResult> | undefined;

function host(s: State, override: (command: string) => Answer = () => undefined) {
  return (command: string): Answer => {
    const o = override(command);
    if (o) return o;
    if (command === dockerFact.command) return { stdout: dockerOutput(s) };
    if (command === osFact.command) return { stdout: DEBIAN.os };
    if (command === readDirCommand('/etc/docker')) return { stdout: s.dockerDir ? '755 root root\n' : 'missing\n' };
    if (command === readFileCommand(DAEMON_JSON)) return { stdout: s.daemonJson === undefined ? 'missing\n' : `644 root root\n${s.daemonJson}` };
    if (command === APT_POLICY.command) return { stdout: DEBIAN.aptPolicy };
    if (command === STACK_CONTAINERS) return { stdout: '' };
    if (command === INSTALL) Object.assign(s, { installed: '20.10.24+dfsg1', compose: true, dockerDir: true, unconfigured: false });
    if (command === 'systemctl enable --now docker') Object.assign(s, { running: true, enabled: true });
    if (command === DPKG_CONFIGURE) s.unconfigured = false;
    if (command === `${APT} install -y docker-compose`) s.compose = true;
    return undefined;
  };
}

const run = (s: State, opts: { check?: boolean } = {}, override?: (command: string) => Answer) => runRole(docker, { gateway: ['g1'] }, host(s, override), opts);
const APT_POLICY = aptCandidatesFact(['docker.io', 'docker-compose', 'apparmor', 'ca-certificates', 'xz-utils']);
// The recorded Debian 12 cache has apparmor and ca-certificates, not xz-utils: the Recommends it can install.
const INSTALL = `${APT} install -y --no-install-recommends docker.io docker-compose apparmor ca-certificates`;
const START = [RESET_FAILED, 'systemctl enable --now docker', waitForDocker('systemd')];

describe('docker: the engine read once', () => {
  it('a converged host: every step ok, and the only command is the batch (engine, OS, /etc/docker, daemon.json)', async () => {
    const { commands, results, summary } = await run({ ...CONVERGED });
    expect(summary.exitCode).toBe(0);
    expect(results('g1').map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(commands('g1')).toHaveLength(1);
    expect(batchCommands(commands('g1')[0])).toEqual([dockerFact.command, osFact.command, readDirCommand('/etc/docker'), readFileCommand(DAEMON_JSON)]);
  });

  it('a fresh host (--check): install, /etc/docker, daemon.json, start, and compose as the facts say, from the one read', async () => {
    const { commands, step } = await run({ ...FRESH }, { check: true });
    expect(commands('g1')).toEqual([expect.stringContaining('gwfacts-'), APT_POLICY.command]);
    // daemon.json before the package, so the package's own start of dockerd uses it: no restart to follow.
    expect(step('g1', 'Docker >= 20.10.7 installed')?.planned).toEqual([
      '$ mkdir -p -- /etc/docker',
      'write /etc/docker/daemon.json (mode 0644)',
      `$ ${INSTALL}`,
    ]);
    expect(step('g1', 'daemon.json (docker_daemon_options)')).toMatchObject({ status: 'ok' });
    expect(step('g1', 'Docker enabled and running')?.planned).toEqual(START.map((c) => `$ ${c}`));
    expect(step('g1', 'restart Docker if daemon.json changed')).toMatchObject({ status: 'ok' });
  });

  it('a fresh host, applied: each change, then one fresh read of the engine per change that touched it', async () => {
    const s = { ...FRESH };
    // The fake's put does not move its state: what the write before the install put there is what the host holds.
    const wrote = (command: string): Answer => (command === 'mkdir -p -- /etc/docker' ? void Object.assign(s, { dockerDir: true, daemonJson: CONF }) : undefined);
    const { commands, summary, fleet, results } = await run(s, {}, wrote);
    expect(summary.exitCode).toBe(0);
    expect(commands('g1').slice(1)).toEqual([
      APT_POLICY.command,
      'mkdir -p -- /etc/docker',
      INSTALL,
      dockerFact.command, // the install's verify
      readDirCommand('/etc/docker'), // the package may have made them: read again after an install
      readFileCommand(DAEMON_JSON),
      ...START,
      dockerFact.command, // the start's verify; compose and the restart step read no more
    ]);
    expect(fleet.transports.get('g1')!.puts).toEqual([{ path: DAEMON_JSON, content: CONF, opts: { mode: 0o644, become: true } }]);
    expect(s).toMatchObject({ running: true, enabled: true });
    expect(results('g1').map((r) => r.status)).toEqual(['changed', 'ok', 'changed', 'ok', 'ok']); // no restart
  });
});

describe('docker: each drift, the commands it plans (--check)', () => {
  it.each([
    ['dockerd stopped', { running: false }, 'Docker enabled and running', START],
    ['dockerd running but not enabled at boot', { enabled: false }, 'Docker enabled and running', START],
    ['an interrupted apt run (unpacked, not configured)', { running: false, unconfigured: true }, 'Docker >= 20.10.7 installed', [DPKG_CONFIGURE]],
    ['no compose', { compose: false }, 'compose available (docker compose or docker-compose)', [`${APT} install -y docker-compose`]],
    ['an engine older than 20.10.7, stopped', { installed: '20.10.5', running: false }, 'Docker >= 20.10.7 installed', [INSTALL]],
  ] as const)('%s', async (_name, drift, name, commands) => {
    const { step } = await run({ ...CONVERGED, ...drift }, { check: true });
    expect(step('g1', name)).toMatchObject({ status: 'changed', planned: commands.map((c) => `$ ${c}`) });
  });

  it('daemon.json changed on a running dockerd: written in its restart turn, with the restart', async () => {
    const { step, commands } = await run({ ...CONVERGED, daemonJson: '{}\n' }, { check: true });
    expect(step('g1', 'daemon.json (docker_daemon_options)')).toMatchObject({
      status: 'changed',
      changes: ["update /etc/docker/daemon.json (mode 0644, owner root:root), in this host's restart turn"],
    });
    expect(step('g1', 'restart Docker if daemon.json changed')).toMatchObject({
      status: 'changed',
      planned: ['write /etc/docker/daemon.json (mode 0644, owner root:root)', '$ systemctl restart docker', `$ ${waitForDocker('systemd')}`],
    });
    // What runs in the containers decides the restart's gates: read for this change only.
    expect(commands('g1').slice(1)).toEqual([STACK_CONTAINERS, STACK_CONTAINERS]);
  });
});

describe('docker: failures name the host and the step; unknown is never absent', () => {
  it('an engine read that fails is no "not installed": nothing is installed', async () => {
    const { summary, commands } = await run({ ...CONVERGED }, {}, (c) => (c === dockerFact.command ? { code: 1, stderr: 'sudo: a password is required' } : undefined));
    expect(summary.errors[0]).toMatchObject({ host: 'g1', step: 'Docker >= 20.10.7 installed', message: expect.stringMatching(/^cannot read the Docker engine \(exit 1\): sudo: a password is required/) });
    expect(commands('g1').some((c) => c.includes('install -y'))).toBe(false);
  });

  it('a daemon.json that cannot be read is no "missing file": nothing is written', async () => {
    const { summary, fleet } = await run({ ...CONVERGED }, {}, (c) => (c === readFileCommand(DAEMON_JSON) ? { code: 1, stderr: 'cat: Permission denied' } : undefined));
    expect(summary.errors[0]).toMatchObject({ host: 'g1', step: 'daemon.json (docker_daemon_options)', message: expect.stringMatching(/^cannot read \/etc\/docker\/daemon\.json: cat: Permission denied on g1/) });
    expect(fleet.transports.get('g1')!.puts).toEqual([]);
  });

  it('a failed install stops the host there: dockerd is not started', async () => {
    const { summary, commands } = await run({ ...FRESH }, {}, (c) => (c === INSTALL ? { code: 100, stderr: 'E: Unable to locate package docker.io' } : undefined));
    expect(summary.errors[0]).toMatchObject({ host: 'g1', step: 'Docker >= 20.10.7 installed', message: expect.stringContaining('E: Unable to locate package docker.io') });
    expect(commands('g1')).not.toContain('systemctl enable --now docker');
  });
});
