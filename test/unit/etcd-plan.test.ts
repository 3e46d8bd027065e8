import { describe, expect, it } from 'vitest';
import { planMember, snapshotSources, type MemberSurvey } from '../../roles/etcd/plan.ts';

const up = (host: string, spec = 'S'): MemberSurvey => ({ host, reachable: true, hasData: true, container: { running: true, spec } });
const bare = (host: string): MemberSurvey => ({ host, reachable: true, hasData: false });

describe('etcd member planning (facts in, action out)', () => {
  it('bootstraps a fresh cluster with state new on every member', () => {
    const s = [bare('lab1'), bare('lab2'), bare('lab3')];
    expect(['lab1', 'lab2', 'lab3'].map((h) => planMember(s, h, 'S'))).toEqual([
      { kind: 'bootstrap' },
      { kind: 'bootstrap' },
      { kind: 'bootstrap' },
    ]);
  });

  it('leaves a running member with the wanted spec alone', () => {
    expect(planMember([up('lab1'), up('lab2'), up('lab3')], 'lab2', 'S')).toEqual({ kind: 'none' });
  });

  it('rejoins a member that lost its data through a running peer (remove/add)', () => {
    const s = [up('lab1'), up('lab2'), { host: 'lab3', reachable: true, hasData: false, container: { running: false, spec: 'S' } }];
    expect(planMember(s, 'lab3', 'S')).toEqual({ kind: 'rejoin', peer: 'lab1' });
    expect(planMember(s, 'lab1', 'S')).toEqual({ kind: 'none' });
  });

  it('rejoins even when the data was wiped under a running container', () => {
    const s = [up('lab1'), up('lab2'), { ...up('lab3'), hasData: false }];
    expect(planMember(s, 'lab3', 'S')).toEqual({ kind: 'rejoin', peer: 'lab1' });
  });

  it('never bootstraps a new cluster while another member cannot be asked', () => {
    const s = [bare('lab1'), bare('lab2'), { host: 'lab3', reachable: false, hasData: false }];
    expect(() => planMember(s, 'lab1', 'S')).toThrow(/no other member is running/);
  });

  it('recreates members whose spec changed (rolled one at a time by the role)', () => {
    const s = [up('lab1', 'OLD'), up('lab2', 'OLD'), up('lab3', 'OLD')];
    expect(planMember(s, 'lab1', 'NEW')).toEqual({ kind: 'recreate', reason: 'spec changed' });
  });

  it('recreates a stopped member that still has its data', () => {
    const s = [up('lab1'), up('lab2'), { ...up('lab3'), container: { running: false, spec: 'S' } }];
    expect(planMember(s, 'lab3', 'S')).toEqual({ kind: 'recreate', reason: 'container stopped' });
    expect(planMember([up('lab1'), { ...up('lab2'), container: undefined }], 'lab2', 'S')).toEqual({ kind: 'recreate', reason: 'no container' });
  });

  it('snapshots from this member when it is up, else from another running one', () => {
    const s = [up('lab1'), up('lab2'), bare('lab3')];
    expect(snapshotSources(s, 'lab2')).toEqual(['lab2', 'lab1']);
    expect(snapshotSources(s, 'lab3')).toEqual(['lab1', 'lab2']);
    expect(snapshotSources([bare('lab1')], 'lab1')).toEqual([]);
  });
});
