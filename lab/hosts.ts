// Lab hosts as containers of our engine: each a not-privileged container with its own address on
// labbr0, systemd (or sshd alone) as PID 1, and a bind-mounted /var/lib/docker (a nested engine on
// overlayfs would fall back to vfs). Also the SSH readiness check.
import { mkdirSync, rmSync, copyFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LabHost } from './topology.ts';
import { HOSTS, MACHINE, NET } from './topology.ts';
import { bootFiles, keysStamp, sshOptions } from './keys.ts';
import { $try, docker, dockerTry } from './run.ts';
import { sleep } from './engine.ts';

export type InitMode = 'systemd' | 'none';
export type HostState = 'running' | 'paused' | 'exited' | 'created' | 'restarting' | 'dead' | 'missing';

export const hostStateDir = (host: LabHost): string => join(MACHINE.hostsDir, host.name);

/** `docker create` arguments for a host (pure; tested by value). */
export function createArgs(host: LabHost, image: string, init: InitMode, keys: string): string[] {
  return [
    'create',
    '--name', host.name,
    '--hostname', host.name,
    '--label', `${MACHINE.label}=host`,
    '--label', `${MACHINE.label}.init=${init}`,
    '--label', `${MACHINE.label}.keys=${keys}`,
    // Not --privileged: the machine lacks CAP_SYS_RESOURCE and docker then cannot apply caps.
    '--cap-add', 'ALL',
    '--cap-drop', 'SYS_RESOURCE',
    '--security-opt', 'seccomp=unconfined',
    '--security-opt', 'apparmor=unconfined',
    '--security-opt', 'systempaths=unconfined',
    '--cgroupns', 'private',
    '--device-cgroup-rule', 'a *:* rwm',
    '--tmpfs', '/run:rw,exec,nosuid,nodev,mode=755,size=256m',
    '--tmpfs', '/run/lock',
    '--volume', `${join(hostStateDir(host), 'docker')}:/var/lib/docker`,
    '--dns', '127.0.0.1',
    '--network', NET.name,
    '--ip', host.ip,
    ...HOSTS.filter((h) => h !== host).flatMap((h) => ['--add-host', `${h.name}:${h.ip}`]),
    '--env', `LAB_INIT=${init}`,
    '--stop-signal', init === 'systemd' ? 'SIGRTMIN+3' : 'SIGTERM',
    '--stop-timeout', '30',
    image,
  ];
}

export interface HostInfo {
  state: HostState;
  image?: string;
  init?: InitMode;
  keys?: string;
}

export async function hostInfo(host: LabHost): Promise<HostInfo> {
  const r = await dockerTry('inspect', '--format', `{{.State.Status}} {{.Config.Image}} {{index .Config.Labels "${MACHINE.label}.init"}} {{index .Config.Labels "${MACHINE.label}.keys"}}`, host.name);
  if (!r.ok) return { state: 'missing' };
  const [state, image, init, keys] = r.stdout.split(' ');
  return { state: state as HostState, image, init: init as InitMode, keys };
}

export async function ensureNetwork(): Promise<void> {
  if ((await dockerTry('network', 'inspect', NET.name)).ok) return;
  await docker('network', 'create', '--driver', 'bridge', '--subnet', NET.subnet, '--gateway', NET.gateway,
    '-o', `com.docker.network.bridge.name=${NET.bridge}`, '--label', `${MACHINE.label}=network`, NET.name);
}

/** Creates a host from scratch: fresh state dir, the controller's keys copied in, then started. */
export async function createHost(host: LabHost, image: string, init: InitMode): Promise<void> {
  await removeHost(host);
  const state = hostStateDir(host);
  mkdirSync(join(state, 'docker'), { recursive: true });
  const boot = join(state, 'boot');
  for (const [path, file] of Object.entries(bootFiles(host))) {
    mkdirSync(dirname(join(boot, path)), { recursive: true });
    copyFileSync(file.from, join(boot, path));
    chmodSync(join(boot, path), file.mode);
  }
  await docker(...createArgs(host, image, init, keysStamp(host)));
  await docker('cp', `${boot}/.`, `${host.name}:/`);
  rmSync(boot, { recursive: true, force: true });
  await docker('start', host.name);
}

/** Thaws a paused host, boots a stopped or killed one; a running host is left as it is. */
export async function wakeHost(host: LabHost, state: HostState): Promise<void> {
  if (state === 'paused') await docker('unpause', host.name);
  else if (state !== 'running') await docker('start', host.name);
}

export async function removeHost(host: LabHost): Promise<void> {
  await dockerTry('rm', '-f', '-v', host.name);
  rmSync(hostStateDir(host), { recursive: true, force: true });
}

export async function sshReady(host: LabHost, timeoutSec = 2): Promise<boolean> {
  return (await $try`ssh ${sshOptions(timeoutSec)} ${`ops@${host.ip}`} true`).exitCode === 0;
}

/** Waits until ops can log in with strict host-key checking. */
export async function waitSsh(host: LabHost, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await sshReady(host))) {
    if (Date.now() > deadline) {
      const logs = (await dockerTry('logs', '--tail', '20', host.name)).stdout;
      throw new Error(`${host.name} (${host.ip}) did not accept SSH within ${timeoutMs / 1000} s\n${logs}`);
    }
    await sleep(300);
  }
}
