// Members the etcd group no longer lists are named (a warning with the remove command), never removed.
import { describe, expect, it } from 'vitest';
import { parseMemberList } from '../../ops/etcdctl.ts';
import { unlistedMembers } from '../../roles/etcd/membership.ts';

const LIST = [
  '8769ce6d3ac60582, started, api7-etcd-1, http://10.77.0.11:2380, http://10.77.0.11:2379, false',
  'ec89405076a37504, started, api7-etcd-2, http://10.77.0.12:2380, http://10.77.0.12:2379, false',
  'b7694efd6c6e2c9a, started, old-etcd-9, http://10.77.0.19:2380, http://10.77.0.19:2379, false',
].join('\n');

describe('members outside the etcd group', () => {
  it('are the ones whose peer URL the group does not have, whatever their name', () => {
    const wanted = ['http://10.77.0.11:2380', 'http://10.77.0.12:2380'];
    expect(unlistedMembers(parseMemberList(LIST), wanted).map((m) => m.id)).toEqual(['b7694efd6c6e2c9a']);
  });
  it('none when the group and the cluster agree (a renamed member still matches by address)', () => {
    const wanted = ['http://10.77.0.11:2380', 'http://10.77.0.12:2380', 'http://10.77.0.19:2380'];
    expect(unlistedMembers(parseMemberList(LIST), wanted)).toEqual([]);
  });
});
