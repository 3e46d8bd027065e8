// Ansible users bring their inventories as they are: the same topology written as INI, as YAML, and as a
// directory mixing both (with group_vars/ and host_vars/), must resolve to the same hosts, groups and
// variables here, and to what Ansible itself resolves (`ansible-inventory --list`, Debian's ansible-core).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../lib/inventory.ts';
import type { Inventory, Vars } from '../../lib/types.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/inventories');
const VARIANTS: Record<string, string[]> = {
  'INI file': [join(FIXTURES, 'ini/hosts')],
  'YAML file': [join(FIXTURES, 'yaml/hosts.yaml')],
  directory: [join(FIXTURES, 'dir')],
  'two -i (INI + YAML)': [join(FIXTURES, 'dir/10-stack'), join(FIXTURES, 'dir/20-lb.yaml')],
};

interface Resolved {
  hostvars: Record<string, Vars>;
  groups: Record<string, string[]>;
}

function ours(sources: string[]): Resolved {
  const inv: Inventory = loadInventory(sources);
  return {
    hostvars: Object.fromEntries([...inv.hosts.values()].map((h) => [h.name, h.vars])),
    groups: Object.fromEntries([...inv.groups].filter(([g]) => g !== 'all').map(([g, hosts]) => [g, [...hosts].sort()])),
  };
}

type AnsibleList = { _meta: { hostvars: Record<string, Vars> } } & Record<string, { hosts?: string[]; children?: string[] }>;

function ansibles(sources: string[]): Resolved {
  const out = execFileSync('ansible-inventory', [...sources.flatMap((s) => ['-i', s]), '--list'], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False' },
  });
  const list = JSON.parse(out) as AnsibleList;
  const members = (g: string): string[] => [...(list[g]?.hosts ?? []), ...(list[g]?.children ?? []).flatMap(members)];
  const groups = Object.keys(list).filter((g) => g !== '_meta' && g !== 'all');
  return {
    hostvars: list._meta.hostvars,
    groups: Object.fromEntries(groups.map((g) => [g, [...new Set(members(g))].sort()])),
  };
}

const sortKeys = (r: Resolved): Resolved => ({
  hostvars: Object.fromEntries(Object.entries(r.hostvars).sort(([a], [b]) => a.localeCompare(b))),
  groups: Object.fromEntries(Object.entries(r.groups).filter(([, hosts]) => hosts.length).sort(([a], [b]) => a.localeCompare(b))),
});

describe('inventories as Ansible reads them', () => {
  const reference = sortKeys(ours(VARIANTS['YAML file']));

  it('the reference topology resolves as written (ranges, ports, literals, precedence)', () => {
    expect(Object.keys(reference.hostvars)).toEqual([
      '10.0.0.20', '10.0.0.21', 'bastion.example.net', 'etcd1.example.net', 'etcd2.example.net', 'etcd3.example.net', 'gw-a.example.net', 'gw-b.example.net',
    ]);
    expect(reference.groups.ungrouped).toEqual(['bastion.example.net']);
    expect(reference.groups.stack).toHaveLength(5);
    expect(reference.hostvars['gw-a.example.net']).toMatchObject({ ansible_port: 2222, weight: 10, zone: 'dc 1', ansible_user: 'ops', gateway_prometheus_port: 9091 });
    expect(reference.hostvars['etcd1.example.net']).toMatchObject({ etcd_name: 'api7-etcd-1', etcd_snapshot_keep: 7, retries: [1, 2], ansible_become: true });
  });

  for (const [name, sources] of Object.entries(VARIANTS)) {
    it(`${name}: the same hosts, groups and variables as the YAML file`, () => {
      expect(sortKeys(ours(sources))).toEqual(reference);
    });
    it(`${name}: what ansible-inventory resolves`, () => {
      expect(sortKeys(ours(sources))).toEqual(sortKeys(ansibles(sources)));
    });
  }
});
