// Fault injection on one lab host, for tests and the HA proof: clean shutdown, power cut, hang,
// reboot, and a network cut that drops everything to and from the host's address.
import { findHost } from './topology.ts';
import { cutRules, ensureRule, isCut, removeRule } from './firewall.ts';
import { hostInfo, waitSsh, wakeHost } from './hosts.ts';
import { docker } from './run.ts';

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

export async function isHostCut(name: string): Promise<boolean> {
  return isCut(findHost(name).ip);
}
