// Fault injection on one lab host, for tests and the HA proof: clean shutdown, power cut, hang,
// reboot, a network cut that drops everything to and from the host's address, and a hung dockerd.
import { findHost } from './topology.ts';
import { cutRules, ensureRule, isCut, removeRule } from './firewall.ts';
import { hostInfo, waitSsh, wakeHost } from './hosts.ts';
import { docker, dockerTry } from './run.ts';

/** Clean shutdown (systemd stops its units, etcd hands over leadership). */
export async function stopHost(name: string): Promise<void> {
  await docker('stop', findHost(name).name);
}

/** Power cut: SIGKILL to the whole host. */
export async function killHost(name: string): Promise<void> {
  await docker('kill', '--signal', 'KILL', findHost(name).name);
}

/** Hang: the host and everything in it stop being scheduled; connections stay open, nothing answers. */
export async function pauseHost(name: string): Promise<void> {
  await docker('pause', findHost(name).name);
}

export async function unpauseHost(name: string): Promise<void> {
  await docker('unpause', findHost(name).name);
}

/** Boot a stopped or killed host (unpause a paused one); waits until SSH answers unless `wait: false`. */
export async function startHost(name: string, opts: { wait?: boolean } = {}): Promise<void> {
  const host = findHost(name);
  const { state } = await hostInfo(host);
  if (state === 'missing') throw new Error(`${name} does not exist: run \`npm run lab -- up\``);
  await wakeHost(host, state);
  if (opts.wait ?? true) await waitSsh(host);
}

/** Network cut: every packet to and from the host's address is dropped (host-to-host and machine). */
export async function cutHost(name: string): Promise<void> {
  for (const rule of cutRules(findHost(name).ip)) await ensureRule(rule);
}

export async function restoreHost(name: string): Promise<void> {
  for (const rule of cutRules(findHost(name).ip)) await removeRule(rule);
}

/**
 * Hung Docker engine: SIGSTOP to dockerd inside the host (from its pid file, checked to be dockerd). Containers
 * keep running under containerd; every docker command on the host hangs until `thawDocker`.
 */
export async function freezeDocker(name: string): Promise<void> {
  await signalDockerd(name, 'STOP');
}

export async function thawDocker(name: string): Promise<void> {
  await signalDockerd(name, 'CONT');
}

async function signalDockerd(name: string, signal: 'STOP' | 'CONT'): Promise<void> {
  const script = `pid=$(cat /run/docker.pid 2>/dev/null) && [ "$(cat /proc/$pid/comm 2>/dev/null)" = dockerd ] && kill -${signal} "$pid"`;
  const r = await dockerTry('exec', findHost(name).name, 'sh', '-c', script);
  if (!r.ok) throw new Error(`no dockerd runs on ${name} (its /run/docker.pid names no dockerd): install Docker there first`);
}

export async function isHostCut(name: string): Promise<boolean> {
  return isCut(findHost(name).ip);
}
