import { describe, expect, it } from 'vitest';
import type { SurveyedContainer } from '../../roles/etcd/commands.ts';
import { othersUnhealthy, planMember, snapshotSources, stillValid, type KnownSurvey, type MemberSurvey } from '../../roles/etcd/plan.ts';

const DIR = '/usr/local/etcd/etcd_data';
const OLD = '/srv/etcd/etcd_data';
const want = { spec: 'S', dataDir: DIR };

const ctr = (over: Partial<SurveyedContainer> = {}): SurveyedContainer => ({ name: 'etcd', running: true, spec: 'S', dataMount: DIR, mountHasData: true, ...over });
/** A member running with its data, the wanted spec, answering on its client port. */
const up = (host: string, c: Partial<SurveyedContainer> = {}): KnownSurvey => ({ host, known: true, dirExists: true, hasData: true, containers: [ctr(c)], port: 'open' });
/** A host with nothing on it yet. */
const bare = (host: string): KnownSurvey => ({ host, known: true, dirExists: false, hasData: false, containers: [], port: 'closed' });
/** The positive observation: data dir there and empty, container stopped, port refused. */
const lost = (host: string): KnownSurvey => ({ host, known: true, dirExists: true, hasData: false, containers: [ctr({ running: false, mountHasData: false })], port: 'closed' });
const unknown = (host: string, error = 'its survey (data dir, docker ps, client port) timed out after 20 s'): MemberSurvey => ({ host, known: false, error });

describe('etcd member planning (survey facts in, action or refusal out)', () => {
  it('bootstraps a fresh cluster with state new on every member', () => {
    const s = [bare('lab1'), bare('lab2'), bare('lab3')];
    expect(['lab1', 'lab2', 'lab3'].map((h) => planMember(s, h, want))).toEqual([{ kind: 'bootstrap' }, { kind: 'bootstrap' }, { kind: 'bootstrap' }]);
  });

  it('leaves a running member with the wanted spec alone', () => {
    expect(planMember([up('lab1'), up('lab2'), up('lab3')], 'lab2', want)).toEqual({ kind: 'none' });
  });

  it('rejoins a member that positively lost its data (dir empty, container stopped, port refused) through a running peer', () => {
    const s = [up('lab1'), up('lab2'), lost('lab3')];
    expect(planMember(s, 'lab3', want)).toEqual({ kind: 'rejoin', peer: 'lab1' });
    expect(planMember(s, 'lab1', want)).toEqual({ kind: 'none' });
  });

  it('rejoins a member whose whole data dir and container are gone (reinstalled host)', () => {
    expect(planMember([up('lab1'), up('lab2'), bare('lab3')], 'lab3', want)).toEqual({ kind: 'rejoin', peer: 'lab1' });
  });

  describe('rule 1: a survey that failed or timed out is unknown, never "no data"', () => {
    it.each([
      ['timed out', unknown('lab3')],
      ['failed', unknown('lab3', 'its survey failed (exit 1): sudo: a password is required')],
    ])('a member whose own survey %s fails its step, naming it and what could not be read', (_, row) => {
      const s = [up('lab1'), up('lab2'), row];
      expect(() => planMember(s, 'lab3', want)).toThrow(/could not read the etcd state of lab3: its survey .*Nothing was changed on any member/);
    });

    it('a member that needs a change is not touched while another member is unknown', () => {
      const s = [up('lab1', { spec: 'OLD' }), unknown('lab2'), up('lab3', { spec: 'OLD' })];
      expect(() => planMember(s, 'lab1', want)).toThrow(/etcd member lab1 needs a change but the state of lab2 \(its survey .* timed out.*\) could not be read/);
    });

    it('a member that needs nothing stays ok while another member is unknown (nothing changes)', () => {
      expect(planMember([up('lab1'), unknown('lab2'), up('lab3')], 'lab1', want)).toEqual({ kind: 'none' });
    });

    it('never bootstraps while another member cannot be asked', () => {
      expect(() => planMember([bare('lab1'), bare('lab2'), unknown('lab3')], 'lab1', want)).toThrow(/state of lab3 .* could not be read/);
    });

    it('never rejoins a member whose container still runs on an empty data dir', () => {
      const s = [up('lab1'), up('lab2'), { ...lost('lab3'), containers: [ctr({ mountHasData: false })] }];
      expect(() => planMember(s, 'lab3', want)).toThrow(/its container runs but .* holds no member data.*Not rejoining it/);
    });

    it.each([
      ['answers', 'open'],
      ['neither answers nor refuses', 'unknown'],
    ] as const)('never rejoins a member whose client port %s', (text, port) => {
      const s = [up('lab1'), up('lab2'), { ...lost('lab3'), port }];
      expect(() => planMember(s, 'lab3', want)).toThrow(new RegExp(`client port ${text}: not rejoining`));
    });

    it('refuses a rejoin when no member with data runs to go through', () => {
      const s = [up('lab1', { running: false }), up('lab2', { running: false }), lost('lab3')];
      expect(() => planMember(s, 'lab3', want)).toThrow(/no other member is running to rejoin through .*Not bootstrapping a new cluster/);
    });
  });

  describe('rule 2: never bootstrap over an existing cluster', () => {
    it.each<[string, MemberSurvey, RegExp]>([
      ['a member has data', { ...bare('lab2'), hasData: true }, /lab2 has member data in \/usr\/local\/etcd\/etcd_data/],
      ['an etcd container runs', { ...bare('lab2'), containers: [ctr({ mountHasData: false })] }, /lab2 runs etcd container etcd/],
      ['a stopped container holds data under another data dir', { ...bare('lab2'), containers: [ctr({ running: false, dataMount: OLD })] }, /lab2 has member data in \/srv\/etcd\/etcd_data/],
      ['something answers on a client port', { ...bare('lab2'), port: 'open' }, /something answers on lab2's etcd client port/],
      ['a client port neither answers nor refuses', { ...bare('lab2'), port: 'unknown' }, /lab2's etcd client port neither answered nor refused/],
    ])('when %s, an empty member is not bootstrapped (refused, with the evidence)', (_, lab2, evidence) => {
      expect(() => planMember([bare('lab1'), lab2, bare('lab3')], 'lab1', want)).toThrow(evidence);
      expect(() => planMember([bare('lab1'), lab2, bare('lab3')], 'lab1', want)).toThrow(/Not bootstrapping/);
    });

    it('a changed etcd_data_dir migrates every member whose container holds the data in the old dir', () => {
      const s = ['lab1', 'lab2', 'lab3'].map((h) => ({ ...up(h, { dataMount: OLD, spec: 'OLD' }), hasData: false, dirExists: true }));
      expect(['lab1', 'lab2', 'lab3'].map((h) => planMember(s, h, want))).toEqual([
        { kind: 'migrate', from: OLD },
        { kind: 'migrate', from: OLD },
        { kind: 'migrate', from: OLD },
      ]);
    });

    it('mid-migration: moved members are ok, the others still migrate, a stopped one with old data too', () => {
      const s = [up('lab1'), { ...up('lab2', { dataMount: OLD, spec: 'OLD' }), hasData: false }, { ...up('lab3', { dataMount: OLD, running: false }), hasData: false }];
      expect(planMember(s, 'lab1', want)).toEqual({ kind: 'none' });
      expect(planMember(s, 'lab2', want)).toEqual({ kind: 'migrate', from: OLD });
      expect(planMember(s, 'lab3', want)).toEqual({ kind: 'migrate', from: OLD });
    });

    it('refuses a member with member data in both the wanted dir and its container\'s other dir', () => {
      const s = [up('lab1', { dataMount: OLD, spec: 'OLD' }), up('lab2'), up('lab3')];
      expect(() => planMember(s, 'lab1', want)).toThrow(/has member data both in \/usr\/local\/etcd\/etcd_data and in \/srv\/etcd\/etcd_data/);
    });
  });

  describe('rule 3: rolling changes', () => {
    it('recreates members whose spec changed (rolled one at a time by the step)', () => {
      const s = [up('lab1', { spec: 'OLD' }), up('lab2', { spec: 'OLD' }), up('lab3', { spec: 'OLD' })];
      expect(planMember(s, 'lab1', want)).toEqual({ kind: 'recreate', reason: 'spec changed' });
    });

    it('recreates a stopped member that still has its data, and one whose container is gone', () => {
      expect(planMember([up('lab1'), up('lab2'), up('lab3', { running: false })], 'lab3', want)).toEqual({ kind: 'recreate', reason: 'container stopped' });
      expect(planMember([up('lab1'), { ...up('lab2'), containers: [] }], 'lab2', want)).toEqual({ kind: 'recreate', reason: 'no container' });
    });

    it('refuses to take a member down while another member is not healthy right now', () => {
      const health = [
        { host: 'lab2', healthy: false, why: 'context deadline exceeded' },
        { host: 'lab3', healthy: true, why: 'healthy' },
      ];
      expect(othersUnhealthy('lab1', health)).toMatch(/^not taking etcd member lab1 down: lab2 is not healthy \(context deadline exceeded\)\. Bring it back first/);
      expect(othersUnhealthy('lab1', [{ ...health[0], healthy: true }, health[1]])).toBeUndefined();
    });
  });

  describe('right before acting, the member is read again', () => {
    it.each<[string, MemberSurvey, string | undefined]>([
      ['still lost: go', lost('lab3'), undefined],
      ['unknown now', unknown('lab3'), 'could not read lab3 again before acting'],
      ['data dir missing', { ...lost('lab3'), dirExists: false }, 'does not exist on lab3'],
      ['data came back', { ...lost('lab3'), hasData: true }, 'holds member data now'],
      ['container runs now', { ...lost('lab3'), containers: [ctr({ mountHasData: false })] }, 'the etcd container on lab3 runs now'],
      ['port answers', { ...lost('lab3'), port: 'open' }, 'something answers'],
    ])('a rejoin: %s', (_, fresh, why) => {
      const got = stillValid({ kind: 'rejoin', peer: 'lab1' }, fresh, want);
      if (why === undefined) expect(got).toBeUndefined();
      else expect(got).toContain(why);
    });

    it('a migration needs the container still on the old dir with its data', () => {
      const migrating = { ...up('lab1', { dataMount: OLD }), hasData: false };
      expect(stillValid({ kind: 'migrate', from: OLD }, migrating, want)).toBeUndefined();
      expect(stillValid({ kind: 'migrate', from: OLD }, up('lab1'), want)).toContain('holds member data now');
    });
  });

  it('snapshots from this member when it is up, else from another running one (old data dir included)', () => {
    const s = [up('lab1'), up('lab2'), bare('lab3')];
    expect(snapshotSources(s, 'lab2')).toEqual(['lab2', 'lab1']);
    expect(snapshotSources(s, 'lab3')).toEqual(['lab1', 'lab2']);
    expect(snapshotSources([bare('lab1')], 'lab1')).toEqual([]);
    expect(snapshotSources([{ ...up('lab1', { dataMount: OLD }), hasData: false }, unknown('lab2')], 'lab1')).toEqual(['lab1']);
  });
});
