// Can the lab run here, and does the machine have the tools it uses? Installs what is missing from
// Debian's packages, without letting a package start a system-wide Docker engine.
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { $, log } from './run.ts';

/** command the lab runs -> Debian package that provides it */
export const REQUIRED_TOOLS: Record<string, string> = {
  '/usr/sbin/dockerd': 'docker.io',
  '/usr/bin/docker': 'docker.io',
  '/usr/sbin/debootstrap': 'debootstrap',
  '/usr/bin/zstd': 'zstd',
  '/usr/sbin/iptables': 'iptables',
  '/usr/bin/ssh': 'openssh-client',
  '/usr/bin/ssh-keygen': 'openssh-client',
  '/usr/bin/openssl': 'openssl',
  '/usr/bin/gzip': 'gzip',
  '/usr/bin/tar': 'tar',
};

/** Reasons the lab cannot run on this machine (empty = fine). Pure over the facts given. */
export function cannotRun(facts: { uid: number; osRelease: string; arch: string; node: string }): string[] {
  const reasons: string[] = [];
  if (facts.uid !== 0) reasons.push('the lab must run as root (it starts its own dockerd, bridges and iptables rules): use sudo');
  const id = /^ID=(.*)$/m.exec(facts.osRelease)?.[1]?.replace(/"/g, '');
  if (id !== 'debian') reasons.push(`the lab needs a Debian machine (this is "${id ?? 'unknown'}"): it builds Debian bookworm hosts with debootstrap and Debian's docker.io`);
  if (facts.arch !== 'x64') reasons.push(`the lab needs an amd64 machine (this is ${facts.arch})`);
  if (Number(facts.node.replace(/^v/, '').split('.')[0]) < 20) reasons.push(`the lab needs Node.js 20 or later (this is ${facts.node})`);
  return reasons;
}

export function checkMachine(): void {
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  const reasons = cannotRun({ uid: process.getuid?.() ?? -1, osRelease, arch: process.arch, node: process.version });
  if (reasons.length) throw new Error(`the lab cannot run here:\n  - ${reasons.join('\n  - ')}`);
  if (!existsSync('/usr/bin/node')) throw new Error('the lab copies /usr/bin/node into its images, and it is missing');
}

export function missingPackages(exists: (path: string) => boolean = existsSync): string[] {
  return [...new Set(Object.entries(REQUIRED_TOOLS).filter(([path]) => !exists(path)).map(([, pkg]) => pkg))];
}

export async function installTools(): Promise<string[]> {
  const missing = missingPackages();
  if (!missing.length) return [];
  log(`installing ${missing.join(' ')} from Debian's packages`);
  // docker.io's postinst would enable and start the system docker.service (iptables on): keep it
  // stopped with a policy-rc.d for the duration, unless the machine already has one.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# gatewright lab: no services started by package installs\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await $({ env })`apt-get update -q`;
    await $({ env })`apt-get install -y -q --no-install-recommends ${missing}`;
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  const still = missingPackages();
  if (still.length) throw new Error(`could not install ${still.join(' ')} (apt-get install ran; check the machine's apt sources)`);
  return missing;
}
