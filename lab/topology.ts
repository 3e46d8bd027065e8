// The lab's fixed shape: hosts, addresses, groups, and where its state lives on the machine.
// Everything else in lab/ reads these names; docs/ARCHITECTURE.md "The lab" is the same table.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export type HostImage = 'host' | 'lb' | 'upstream';

export interface LabHost {
  name: string;
  ip: string;
  /** Inventory groups, in the order they are written. */
  groups: string[];
  image: HostImage;
}

export const HOSTS: readonly LabHost[] = [
  { name: 'lab1', ip: '10.77.0.11', groups: ['etcd', 'control'], image: 'host' },
  { name: 'lab2', ip: '10.77.0.12', groups: ['etcd', 'control'], image: 'host' },
  { name: 'lab3', ip: '10.77.0.13', groups: ['etcd'], image: 'host' },
  { name: 'lab4', ip: '10.77.0.14', groups: ['gateway'], image: 'host' },
  { name: 'lab5', ip: '10.77.0.15', groups: ['gateway'], image: 'host' },
  { name: 'lb1', ip: '10.77.0.20', groups: ['lb'], image: 'lb' },
  { name: 'upstream1', ip: '10.77.0.30', groups: ['upstream'], image: 'upstream' },
];

export const GROUPS = ['etcd', 'control', 'gateway', 'lb', 'upstream'] as const;

/** Bundle versions shipped in .lab/bundles (the first is the roles' default api7_version). */
export const API7_VERSIONS = ['2.13.2304', '2.13.2309'] as const;
export const ETCD_VERSION = '3.4.23';
export const ETCD_IMAGE = `gatewright/etcd:${ETCD_VERSION}`;

export const NET = {
  name: 'labnet',
  bridge: 'labbr0',
  subnet: '10.77.0.0/24',
  gateway: '10.77.0.1',
} as const;

/** Machine-side paths of our own engine and caches; nothing here is shared with another engine. */
export const MACHINE = {
  runDir: '/run/gatewright-lab',
  socket: '/run/gatewright-lab/docker.sock',
  pidFile: '/run/gatewright-lab/dockerd.pid',
  execRoot: '/run/gatewright-lab/exec',
  lockFile: '/run/gatewright-lab.lock',
  dataDir: '/var/lib/gatewright-lab',
  engineRoot: '/var/lib/gatewright-lab/engine',
  hostsDir: '/var/lib/gatewright-lab/hosts',
  buildDir: '/var/lib/gatewright-lab/build',
  cacheDir: '/var/cache/gatewright-lab',
  cgroupParent: 'gatewright-lab',
  /** Label on everything our engine runs, so we find our own (Kamal-style ownership). */
  label: 'io.gatewright.lab',
  /** Comment on every iptables rule we add, so `down` removes exactly ours. */
  iptablesComment: 'gatewright-lab',
} as const;

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Controller-side files (absolute; the inventory points at them). */
export const PATHS = {
  labDir: join(REPO_ROOT, '.lab'),
  sshDir: join(REPO_ROOT, '.lab/ssh'),
  clientKey: join(REPO_ROOT, '.lab/ssh/id_ed25519'),
  knownHosts: join(REPO_ROOT, '.lab/ssh/known_hosts'),
  hostKeysDir: join(REPO_ROOT, '.lab/ssh/hostkeys'),
  bundlesDir: join(REPO_ROOT, '.lab/bundles'),
  dashboardPassword: join(REPO_ROOT, '.lab/secrets/dashboard_admin_password'),
  standinsOut: join(REPO_ROOT, '.lab/standins'),
  inventory: join(REPO_ROOT, 'inventory/lab.yaml'),
} as const;

export function findHost(name: string): LabHost {
  const host = HOSTS.find((h) => h.name === name);
  if (!host) throw new Error(`unknown lab host "${name}" (hosts: ${HOSTS.map((h) => h.name).join(', ')})`);
  return host;
}
