// inventory/lab.yaml: the lab as an Ansible YAML inventory (all/children/hosts/vars), absolute paths.
// Pure: the machine facts come in as arguments.
import { stringify } from 'yaml';
import type { LabHost } from './topology.ts';
import { ETCD_VERSION, GROUPS, HOSTS, PATHS } from './topology.ts';

export interface InventoryInput {
  hosts?: readonly LabHost[];
  clientKey?: string;
  knownHosts?: string;
  bundlesDir?: string;
  dashboardPasswordFile?: string;
  /** CPUs and memory a lab host sees (the machine's): the guide's preflight minimum is lowered only below it. */
  machine: { cpus: number; memoryMb: number };
}

const GUIDE_MIN = { cpus: 2, memoryMb: 3800 };

export function inventoryVars(input: InventoryInput): Record<string, unknown> {
  const vars: Record<string, unknown> = {
    ansible_user: 'ops',
    ansible_ssh_private_key_file: input.clientKey ?? PATHS.clientKey,
    ansible_become: true,
    ssh_known_hosts_file: input.knownHosts ?? PATHS.knownHosts,
    api7_bundle_dir: input.bundlesDir ?? PATHS.bundlesDir,
    smoke_route_enabled: true,
    // The lab's etcd image is Debian's etcd under bitnami's name, not the guide's 3.4.13 the roles default to.
    etcd_version: ETCD_VERSION,
    // The secret stays in its 0600 file; the inventory only points at it.
    dashboard_admin_password: `{{ lookup('file', '${input.dashboardPasswordFile ?? PATHS.dashboardPassword}') }}`,
  };
  if (input.machine.cpus < GUIDE_MIN.cpus) vars.preflight_min_cpus = input.machine.cpus;
  if (input.machine.memoryMb < GUIDE_MIN.memoryMb) vars.preflight_min_memory_mb = Math.floor(input.machine.memoryMb * 0.9);
  return vars;
}

export function renderInventory(input: InventoryInput): string {
  const hosts = input.hosts ?? HOSTS;
  const children: Record<string, { hosts: Record<string, Record<string, never>> }> = {};
  for (const group of GROUPS) {
    const members = hosts.filter((h) => h.groups.includes(group));
    if (members.length) children[group] = { hosts: Object.fromEntries(members.map((h) => [h.name, {}])) };
  }
  const doc = {
    all: {
      hosts: Object.fromEntries(hosts.map((h) => [h.name, { ansible_host: h.ip }])),
      vars: inventoryVars(input),
      children,
    },
  };
  return `# Written by \`npm run lab -- up\` (lab/inventory.ts); rewritten on every up, do not edit.\n${stringify(doc)}`;
}
