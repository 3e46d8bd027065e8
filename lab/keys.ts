// SSH identities of the lab, generated on the controller so they are stable across down/up: the
// client key ops logs in with, one host key per host, and the known_hosts that pins them by address.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabHost } from './topology.ts';
import { HOSTS, PATHS } from './topology.ts';
import { $ } from './run.ts';

export const hostKeyPath = (host: LabHost): string => join(PATHS.hostKeysDir, `${host.name}_ed25519`);

async function ensureKey(path: string, comment: string): Promise<void> {
  if (existsSync(path) && existsSync(`${path}.pub`)) return;
  await $`rm -f ${path} ${`${path}.pub`}`;
  await $`ssh-keygen -q -t ed25519 -N ${''} -C ${comment} -f ${path}`;
}

/** known_hosts lines: `<ip> <type> <key>` for every host (pure over the public keys). */
export function knownHostsText(entries: { ip: string; publicKey: string }[]): string {
  return entries.map((e) => `${e.ip} ${e.publicKey.trim().split(/\s+/).slice(0, 2).join(' ')}\n`).join('');
}

export async function ensureKeys(): Promise<void> {
  mkdirSync(PATHS.hostKeysDir, { recursive: true, mode: 0o700 });
  await ensureKey(PATHS.clientKey, 'ops@gatewright-lab');
  for (const host of HOSTS) await ensureKey(hostKeyPath(host), `root@${host.name}`);
  const text = knownHostsText(HOSTS.map((h) => ({ ip: h.ip, publicKey: readFileSync(`${hostKeyPath(h)}.pub`, 'utf8') })));
  writeFileSync(PATHS.knownHosts, text, { mode: 0o644 });
}

/** Short hash of the keys a host was given: a host whose keys changed on the controller is recreated. */
export function keysStamp(host: LabHost): string {
  const h = createHash('sha256');
  for (const file of Object.values(bootFiles(host))) h.update(readFileSync(file.from));
  return h.digest('hex').slice(0, 12);
}

/** The files a host gets before its first boot, relative to its root. */
export function bootFiles(host: LabHost): Record<string, { from: string; mode: number }> {
  return {
    'home/ops/.ssh/authorized_keys': { from: `${PATHS.clientKey}.pub`, mode: 0o600 },
    'etc/ssh/ssh_host_ed25519_key': { from: hostKeyPath(host), mode: 0o600 },
    'etc/ssh/ssh_host_ed25519_key.pub': { from: `${hostKeyPath(host)}.pub`, mode: 0o644 },
  };
}

/** Plain OpenSSH options for logging in to a lab host with strict host-key checking. */
export function sshOptions(connectTimeoutSec = 5): string[] {
  return [
    '-i', PATHS.clientKey,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${PATHS.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${connectTimeoutSec}`,
    '-o', 'LogLevel=ERROR',
  ];
}
