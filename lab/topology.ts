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

/**
 * Which lab this process drives: `LAB_ID` (0 when unset) picks the subnet 10.(77+id).0.0/24 and suffixes
 * every machine-side name with the id (none for 0), so two labs on one machine never touch each other.
 */
export function labIdFrom(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^[0-9]$/.test(value)) throw new Error(`LAB_ID must be a digit 0-9 (it picks subnet 10.(77+id).0.0/24), not "${value}"`);
  return Number(value);
}

export interface LabTopology {
  id: number;
  hosts: LabHost[];
  net: { name: string; bridge: string; subnet: string; gateway: string };
  machine: typeof MACHINE_0;
  paths: typeof PATHS_0;
}

const MACHINE_0 = {
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
};

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const PATHS_0 = {
  labDir: '.lab',
  sshDir: '.lab/ssh',
  clientKey: '.lab/ssh/id_ed25519',
  knownHosts: '.lab/ssh/known_hosts',
  hostKeysDir: '.lab/ssh/hostkeys',
  bundlesDir: '.lab/bundles',
  dashboardPassword: '.lab/secrets/dashboard_admin_password',
  standinsOut: '.lab/standins',
  inventory: 'inventory/lab.yaml',
};

const HOSTS_0: readonly LabHost[] = [
  { name: 'lab1', ip: '10.77.0.11', groups: ['etcd', 'control'], image: 'host' },
  { name: 'lab2', ip: '10.77.0.12', groups: ['etcd', 'control'], image: 'host' },
  { name: 'lab3', ip: '10.77.0.13', groups: ['etcd'], image: 'host' },
  { name: 'lab4', ip: '10.77.0.14', groups: ['gateway'], image: 'host' },
  { name: 'lab5', ip: '10.77.0.15', groups: ['gateway'], image: 'host' },
  { name: 'lb1', ip: '10.77.0.20', groups: ['lb'], image: 'lb' },
  { name: 'upstream1', ip: '10.77.0.30', groups: ['upstream'], image: 'upstream' },
];

/** Lab `id`'s names (pure): lab 0 is the lab as it always was; lab N has N after every name. */
export function labTopology(id: number, repoRoot: string = REPO_ROOT): LabTopology {
  const sfx = id === 0 ? '' : String(id);
  const octet = String(77 + id);
  const addr = (ip: string): string => ip.replace(/^10\.77\./, `10.${octet}.`);
  // `/run/gatewright-lab/x` -> `/run/gatewright-lab1/x`; `.lab/ssh` -> `.lab1/ssh`; `inventory/lab.yaml` -> `inventory/lab1.yaml`
  const machine = Object.fromEntries(
    Object.entries(MACHINE_0).map(([k, v]) => [k, v.replace(/gatewright-lab|io\.gatewright\.lab/, (m) => `${m}${sfx}`)]),
  ) as typeof MACHINE_0;
  const paths = Object.fromEntries(
    Object.entries(PATHS_0).map(([k, v]) => [k, join(repoRoot, v.replace(/^\.lab/, `.lab${sfx}`).replace(/^inventory\/lab\.yaml$/, `inventory/lab${sfx}.yaml`))]),
  ) as typeof PATHS_0;
  return {
    id,
    hosts: HOSTS_0.map((h) => ({ ...h, groups: [...h.groups], ip: addr(h.ip) })),
    net: { name: `labnet${sfx}`, bridge: `labbr${id}`, subnet: `10.${octet}.0.0/24`, gateway: `10.${octet}.0.1` },
    machine,
    paths,
  };
}

export const LAB_ID = labIdFrom(process.env.LAB_ID);
const TOPOLOGY = labTopology(LAB_ID);

export const HOSTS: readonly LabHost[] = TOPOLOGY.hosts;

export const GROUPS = ['etcd', 'control', 'gateway', 'lb', 'upstream'] as const;

/** Bundle versions shipped in .lab/bundles (the first is the roles' default api7_version). */
export const API7_VERSIONS = ['2.13.2304', '2.13.2309'] as const;
/**
 * The tag of the images inside each bundle: like the guide's 2.13.2209.1 image in a 2.13.2304 folder,
 * a tag need not be the bundle's version, so the roles must read it from the bundle.
 */
export const API7_IMAGE_TAGS: Record<(typeof API7_VERSIONS)[number], string> = { '2.13.2304': '2.13.2304', '2.13.2309': '2.13.2309.1' };
export const API7_REGISTRY = 'api7ee.azurecr.io';
export const ETCD_VERSION = '3.4.23';
/** bitnami's name and contract (ETCD_* env, /etcd_data, /entrypoint.sh etcd) around Debian's etcd 3.4.23. */
export const ETCD_IMAGE = `bitnami/etcd:${ETCD_VERSION}`;

export const NET = TOPOLOGY.net;

/** Machine-side paths of our own engine and caches; nothing here is shared with another engine or lab. */
export const MACHINE = TOPOLOGY.machine;

/** Controller-side files (absolute; the inventory points at them). */
export const PATHS = TOPOLOGY.paths;

export function findHost(name: string): LabHost {
  const host = HOSTS.find((h) => h.name === name);
  if (!host) throw new Error(`unknown lab host "${name}" (hosts: ${HOSTS.map((h) => h.name).join(', ')})`);
  return host;
}
