import { describe, expect, it } from 'vitest';
import type { SurveyedContainer } from '../../roles/etcd/commands.ts';
import { parseMemberList } from '../../ops/etcdctl.ts';
import { joinInitialCluster, joinRefusal, memberAt, newcomers, type Joiner } from '../../roles/etcd/join.ts';
import { othersUnhealthy, planMember, snapshotSources, stackRefusal, stillValid, type KnownSurvey, type MemberSurvey } from '../../roles/etcd/plan.ts';
import { confEndpoints, endpointKey, parseStackConfs, stackView } from '../../roles/etcd/stack-confs.ts';

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

describe('before a bootstrap: the etcd endpoints the rest of the stack is configured with', () => {
  const CP = '/opt/api7/api7-2.13.2304-cp/dashboard_conf/conf.yaml';
  const DP = '/opt/api7/api7-2.13.2304-dp/gateway_conf/config.yaml';
  const GROUP = ['10.0.0.6:2379', '10.0.0.7:2379', '10.0.0.8:2379'];
  const OLD_CLUSTER = ['10.0.0.1:2379', '10.0.0.2:2379', '10.0.0.3:2379'];

  it('reads conf.etcd.endpoints (dashboard), etcd.host and deployment.etcd.host (gateway, APISIX 3)', () => {
    expect(confEndpoints(CP, 'conf:\n  etcd:\n    endpoints:\n      - 10.0.0.1:2379\n      - https://10.0.0.2:2379\n')).toEqual(['10.0.0.1:2379', 'https://10.0.0.2:2379']);
    expect(confEndpoints(DP, 'etcd:\n  host:\n    - "http://10.0.0.1:2379"\n')).toEqual(['http://10.0.0.1:2379']);
    expect(confEndpoints(DP, 'deployment:\n  etcd:\n    host:\n      - http://10.0.0.1:2379\n')).toEqual(['http://10.0.0.1:2379']);
    expect(confEndpoints(DP, 'apisix:\n  node_listen: 9080\n')).toEqual([]);
    expect(() => confEndpoints(CP, 'conf: [\n')).toThrow(/dashboard_conf\/conf.yaml is not valid YAML/);
    expect(() => confEndpoints(DP, 'etcd:\n  host:\n    a: b\n')).toThrow(/not a list of addresses/);
  });

  it('parses the read of every bundle folder; a read cut short, or a path that is not a file, is an error (unknown), never "no conf"', () => {
    const b64 = Buffer.from('etcd:\n  host:\n    - http://10.0.0.1:2379\n').toString('base64');
    expect(parseStackConfs(`conf ${b64} /opt/my api7/api7-2.13-dp/gateway_conf/config.yaml\nconfs=done\n`)).toEqual([
      { file: '/opt/my api7/api7-2.13-dp/gateway_conf/config.yaml', endpoints: ['http://10.0.0.1:2379'] },
    ]);
    expect(parseStackConfs('confs=done\n')).toEqual([]);
    expect(() => parseStackConfs(`conf ${b64} ${DP}\n`)).toThrow(/cut short/);
    expect(() => parseStackConfs(`odd ${CP}\nconfs=done\n`)).toThrow(/conf.yaml is not a regular file/);
  });

  it('compares endpoints as host:port, whatever the scheme (no port: 2379)', () => {
    expect(['http://10.0.0.1:2379', 'https://10.0.0.1:2379/', '10.0.0.1:2379', '10.0.0.1', 'HTTP://Etcd1:2379'].map(endpointKey)).toEqual([
      '10.0.0.1:2379', '10.0.0.1:2379', '10.0.0.1:2379', '10.0.0.1:2379', 'etcd1:2379',
    ]);
  });

  it('the group replaced while the confs name the old cluster: refused, naming each endpoint, where it is configured, and who answers', () => {
    const view = stackView(
      [
        { host: 'cp1', confs: [{ file: CP, endpoints: OLD_CLUSTER }] },
        { host: 'gw1', confs: [{ file: DP, endpoints: OLD_CLUSTER.map((e) => `http://${e}`) }] },
      ],
      GROUP,
    );
    expect(view.outside.map((o) => o.endpoint)).toEqual(OLD_CLUSTER);
    expect(view.outside[0].where).toEqual([`${CP} on cp1`, `${DP} on gw1`]);
    const serving = stackRefusal(view, { from: 'etcd6', answered: OLD_CLUSTER, why: '' })!;
    expect(serving).toMatch(/^the stack is configured with etcd endpoints outside the etcd group: 10\.0\.0\.1:2379 \(.*conf.yaml on cp1, .*config.yaml on gw1\)/);
    expect(serving).toContain('10.0.0.1:2379, 10.0.0.2:2379, 10.0.0.3:2379 answer `endpoint status` (asked from etcd6): that cluster serves the stack now');
    expect(serving).toMatch(/add the new hosts one per run \(each joins the running cluster\), then take the old hosts out of the group.*Nothing was changed on any member$/);
    expect(serving).not.toMatch(/gone for good/);
    const down = stackRefusal(view, { from: 'etcd6', answered: [], why: 'context deadline exceeded' })!;
    expect(down).toMatch(/none answered `endpoint status` from etcd6 \(context deadline exceeded\): that cluster may be down, which is not gone.*Only if that cluster is gone for good/);
  });

  it('a host whose confs could not be read is unknown: refused, naming it', () => {
    const view = stackView([{ host: 'cp1', confs: [] }, { host: 'gw2', error: 'connection to gw2 lost' }], GROUP);
    expect(stackRefusal(view)).toMatch(/^the etcd endpoints the stack is configured with could not be read on gw2 \(connection to gw2 lost\), and unknown is not "none": make gw2 answer and rerun/);
  });

  it('no refusal for confs as shipped (loopback), naming the group, or not there yet', () => {
    const view = stackView(
      [
        { host: 'cp1', confs: [{ file: CP, endpoints: ['127.0.0.1:2379'] }] },
        { host: 'cp2', confs: [{ file: CP, endpoints: GROUP }] },
        { host: 'gw1', confs: [{ file: DP, endpoints: ['http://localhost:2379', ...GROUP.map((e) => `http://${e}`)] }] },
        { host: 'gw2', confs: [] },
      ],
      GROUP,
    );
    expect(view).toEqual({ unread: [], outside: [] });
    expect(stackRefusal(view)).toBeUndefined();
  });
});

describe('joining the running cluster (member list in, refusal or ETCD_INITIAL_CLUSTER out)', () => {
  const LIST = parseMemberList(
    ['lab1', 'lab2', 'lab3'].map((h, i) => `id${h}, started, api7-etcd-${i + 1}, http://${h}:2380, http://${h}:2379, false`).join('\n'),
  );
  const j = (host: string, name: string): Joiner => ({ host, name, peerUrl: `http://${host}:2380` });

  it('3 -> 4: the one newcomer joins with the live member list plus itself', () => {
    const lab4 = j('lab4', 'api7-etcd-4');
    expect(newcomers(LIST, [lab4]).map((n) => n.host)).toEqual(['lab4']);
    expect(joinRefusal(LIST, lab4, 'lab4')).toBeUndefined();
    expect(joinInitialCluster(LIST, lab4)).toBe('api7-etcd-1=http://lab1:2380,api7-etcd-2=http://lab2:2380,api7-etcd-3=http://lab3:2380,api7-etcd-4=http://lab4:2380');
  });

  it('3 -> 5: the first newcomer in inventory order joins, the other is refused (one per run)', () => {
    const [lab4, lab5] = [j('lab4', 'api7-etcd-4'), j('lab5', 'api7-etcd-5')];
    const first = newcomers(LIST, [lab4, lab5])[0].host;
    expect(joinRefusal(LIST, lab4, first)).toBeUndefined();
    expect(joinRefusal(LIST, lab5, first)).toMatch(/^add one etcd host per run: lab4 joins the cluster in this run, lab5 in a later one/);
  });

  it('a member that lost its data is found by its peer URL, whatever its name, and rejoins in the same place of the list', () => {
    const lab3 = j('lab3', 'api7-etcd-3');
    expect(memberAt(LIST, lab3.peerUrl)?.id).toBe('idlab3');
    expect(joinRefusal(LIST, lab3, 'lab4')).toBeUndefined(); // not new: the one-per-run rule is for newcomers
    expect(joinInitialCluster(LIST, lab3)).toBe('api7-etcd-1=http://lab1:2380,api7-etcd-2=http://lab2:2380,api7-etcd-3=http://lab3:2380');
  });

  it('a new host named like a member still in the cluster (a retired host\'s place) is refused; that member is never matched by name', () => {
    const lab6 = j('lab6', 'api7-etcd-3');
    expect(memberAt(LIST, lab6.peerUrl)).toBeUndefined();
    expect(joinRefusal(LIST, lab6, 'lab6')).toMatch(/^the etcd member name api7-etcd-3 is taken by member api7-etcd-3 \(idlab3, http:\/\/lab3:2380\), which is not lab6\. Not removing it: give lab6 another etcd_name/);
  });

  it('no join while another member was added but never started (it counts for the quorum without voting)', () => {
    const withUnstarted = [...LIST, ...parseMemberList('idx, unstarted, , http://lab9:2380, , false')];
    expect(joinRefusal(withUnstarted, j('lab4', 'api7-etcd-4'), 'lab4')).toMatch(/^etcd member \(unnamed\) \(idx, http:\/\/lab9:2380\) was added to the cluster but never started.*etcdctl member remove idx/);
    // Its own unstarted entry (a join cut short) is no obstacle: it is replaced.
    const mine = [...LIST, ...parseMemberList('idy, unstarted, , http://lab4:2380, , false')];
    expect(joinRefusal(mine, j('lab4', 'api7-etcd-4'), 'lab4')).toBeUndefined();
    expect(joinInitialCluster(mine, j('lab4', 'api7-etcd-4'))).toBe('api7-etcd-1=http://lab1:2380,api7-etcd-2=http://lab2:2380,api7-etcd-3=http://lab3:2380,api7-etcd-4=http://lab4:2380');
  });
});
