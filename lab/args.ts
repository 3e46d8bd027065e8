// Parsing of `npm run lab -- <command> …` (pure).
import type { InitMode } from './hosts.ts';
import { findHost, HOSTS, LAB_ID, MACHINE, NET, PATHS } from './topology.ts';

export const FAULTS = ['stop', 'kill', 'pause', 'unpause', 'start', 'cut', 'restore', 'freeze-docker', 'thaw-docker'] as const;
export type Fault = (typeof FAULTS)[number];

export type LabCommand =
  | { command: 'help' }
  | { command: 'up'; init: InitMode }
  | { command: 'down'; purge: boolean }
  | { command: 'status' }
  | { command: 'ssh'; host: string; cmd: string[] }
  | { command: Fault; host: string };

export const HELP = `Usage: npm run lab -- <command> [options]

The gateway guide's servers on this machine: Debian hosts with their own address, SSH, init system
and (once a role installs it) Docker engine, on bridge ${NET.bridge} (${NET.subnet}), and ${PATHS.inventory}.
Needs root on Debian; installs the Debian packages it lacks; runs its own dockerd. This is lab ${LAB_ID}
(env LAB_ID, default 0; each id has its own subnet, bridge, engine, caches, .lab dir and inventory).

Commands:
  up [--init=systemd|none]   build what is missing (cached in ${MACHINE.cacheDir}), start every
                             host, wait for SSH, write the inventory and the bundles; idempotent
                             (brings back stopped, paused or cut hosts). --init=none: sshd as PID 1.
  down [--purge]             remove hosts, network, engine, mounts, cgroups and iptables rules;
                             --purge also the image cache, keys and bundles
  status                     each host, its address, state and what runs on it
  ssh <host> [cmd…]          log in as ops (strict host-key checking), or run cmd
  stop <host>                clean shutdown            kill <host>      power cut
  pause <host>               hang (freeze)             unpause <host>   thaw
  start <host>               boot (or thaw) and wait for SSH
  cut <host>                 drop all traffic to/from the host         restore <host>   undo cut
  freeze-docker <host>       SIGSTOP dockerd in the host (docker hangs, containers run)
  thaw-docker <host>         SIGCONT it

Hosts: ${HOSTS.map((h) => `${h.name} ${h.ip}`).join(', ')}`;

export function parseArgs(argv: readonly string[]): LabCommand {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  const flags = rest.filter((a) => a.startsWith('--'));
  const words = rest.filter((a) => !a.startsWith('--'));
  const unknownFlags = (allowed: string[]): void => {
    const bad = flags.filter((f) => !allowed.some((a) => f === a || f.startsWith(`${a}=`)));
    if (bad.length) throw new Error(`unknown option ${bad.join(' ')} for "${command}" (see --help)`);
  };
  const needHost = (): string => {
    const host = words[0];
    if (!host) throw new Error(`"${command}" needs a host (${HOSTS.map((h) => h.name).join(', ')})`);
    return findHost(host).name;
  };
  switch (command) {
    case 'up': {
      unknownFlags(['--init']);
      const init = flags.find((f) => f.startsWith('--init='))?.slice(7) ?? 'systemd';
      if (init !== 'systemd' && init !== 'none') throw new Error(`--init must be systemd or none, not "${init}"`);
      if (words.length) throw new Error(`"up" takes no arguments (got ${words.join(' ')})`);
      return { command: 'up', init };
    }
    case 'down':
      unknownFlags(['--purge']);
      return { command: 'down', purge: flags.includes('--purge') };
    case 'status':
      unknownFlags([]);
      return { command: 'status' };
    case 'ssh': {
      // everything after the host is the remote command, flags included
      const host = rest[0];
      if (!host || host.startsWith('--')) return { command: 'ssh', host: needHost(), cmd: [] };
      findHost(host);
      return { command: 'ssh', host, cmd: rest.slice(1) };
    }
    default:
      if ((FAULTS as readonly string[]).includes(command)) {
        unknownFlags([]);
        return { command: command as Fault, host: needHost() };
      }
      throw new Error(`unknown command "${command}" (see --help)`);
  }
}
