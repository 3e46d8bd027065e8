// The 'etcd member' step: plan from the survey (plan.ts), then change members one at a time under the
// play-wide lock. Down members go first; a member is taken down only while every other one is healthy right
// now; the first failure stops the rolling change for every member after it.
import { around } from '../../lib/change.ts';
import { defineStep, type Change, type StepContext } from '../../lib/types.ts';
import { dataDir, othersHealth, waitMemberHealthy } from '../../ops/etcd.ts';
import { etcdMembers } from '../../ops/topology.ts';
import { stackVars } from '../../vars/schema.ts';
import {
  askEndpoints,
  joiners,
  memberList,
  migrateCommands,
  rejoin,
  startCommands,
  survey,
  surveyMember,
  takeSnapshot,
  wantedSpec,
  wayBack,
  type RootCommand,
} from './cluster.ts';
import { joinRefusal, memberAt, newcomers } from './join.ts';
import {
  etcdContainer,
  isConverged,
  isDown,
  isEmpty,
  knownSelf,
  othersUnhealthy,
  planMember,
  snapshotSources,
  stackRefusal,
  stillValid,
  type MemberAction,
  type MemberSurvey,
  type Wanted,
} from './plan.ts';
import { groupEndpoints, readStackConfs, stackView } from './stack-confs.ts';

const LOCK = 'etcd member';

/** Play-wide: where the rolling change stopped, and each member's step finishing (down members go first). */
interface Rolling {
  stoppedAt?: { host: string; why: string };
  finished: Map<string, { done: Promise<void>; resolve: () => void }>;
}

const rolling = (ctx: StepContext): Rolling => {
  let r = ctx.play.state.get(LOCK) as Rolling | undefined;
  if (!r) ctx.play.state.set(LOCK, (r = { finished: new Map() }));
  return r;
};

function finished(ctx: StepContext, host: string) {
  const r = rolling(ctx);
  let f = r.finished.get(host);
  if (!f) {
    let resolve!: () => void;
    const done = new Promise<void>((ok) => (resolve = ok));
    r.finished.set(host, (f = { done, resolve }));
  }
  return f;
}

/**
 * Before a healthy member goes down: wait (bounded by health_timeout) until the members that are down and in
 * this play have had their turn. The health check inside the lock still decides; this only orders the queue.
 */
async function downMembersFirst(ctx: StepContext, rows: MemberSurvey[]): Promise<void> {
  const inPlay = new Set(ctx.play.hosts.map((h) => h.name));
  const waits = rows.filter((r) => r.host !== ctx.host.name && inPlay.has(r.host) && isDown(r)).map((r) => finished(ctx, r.host).done);
  if (!waits.length) return;
  ctx.log(`etcd member ${ctx.host.name}: waiting for the down member(s) to be started first`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((ok) => (timer = setTimeout(ok, stackVars(ctx).health_timeout * 1000)));
  await Promise.race([Promise.all(waits), timeout]).finally(() => clearTimeout(timer));
}

/** A member can be healthy only with a majority up: count this one and the others that run. */
const canBeHealthy = (ctx: StepContext, rows: MemberSurvey[]): boolean =>
  rows.filter((r) => r.host !== ctx.host.name && r.known && etcdContainer(r)?.running).length + 1 > etcdMembers(ctx.inventory, ctx.vars).length / 2;

async function snapshotFirst(ctx: StepContext, rows: MemberSurvey[]): Promise<void> {
  // A member may have gone down since the survey: the first that can take it.
  const errors: string[] = [];
  for (const src of snapshotSources(rows, ctx.host.name)) {
    try {
      return await takeSnapshot(ctx.on(src));
    } catch (e) {
      errors.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (errors.length) throw new Error(`no running member could take a snapshot before the change:\n${errors.join('\n')}`);
}

/**
 * Hosts of the group the cluster does not have yet (empty, and no member at their peer URL, on the list read now):
 * they count for no quorum, so their health does not hold a change back. A list that cannot be read excludes none.
 */
async function notYetMembers(ctx: StepContext, rows: MemberSurvey[]): Promise<Set<string>> {
  const empty = new Set(rows.filter((r) => r.host !== ctx.host.name && isEmpty(r)).map((r) => r.host));
  const peer = rows.find((r) => r.known && r.hasData && etcdContainer(r)?.running)?.host;
  if (!empty.size || !peer) return new Set();
  const members = await memberList(ctx, peer).catch(() => undefined);
  if (!members) return new Set();
  return new Set(joiners(ctx).filter((j) => empty.has(j.host) && !memberAt(members, j.peerUrl)).map((j) => j.host));
}

/** One member's turn: in the lock, refuse when the rolling change already stopped or the rest is not healthy. */
async function rollingTurn(ctx: StepContext, rows: MemberSurvey[], action: MemberAction, want: Wanted, work: () => Promise<void>): Promise<void> {
  const me = ctx.host.name;
  const self = rows.find((r) => r.host === me)!;
  // Starting a stopped member takes nothing down; re-adding one changes the membership: both others healthy.
  const needsHealthyRest = action.kind === 'rejoin' || !isDown(self);
  if (needsHealthyRest) await downMembersFirst(ctx, rows);
  await ctx.play.exclusive(LOCK, async () => {
    const state = rolling(ctx);
    if (state.stoppedAt) {
      throw new Error(`not changing etcd member ${me}: the rolling change stopped at ${state.stoppedAt.host} (${state.stoppedAt.why}). Fix that member and rerun`);
    }
    try {
      const fresh = await surveyMember(ctx, me, true);
      const changed = stillValid(action, fresh, want);
      if (changed) throw new Error(`etcd member ${me} is not as surveyed any more (${changed}): nothing changed, rerun to plan again`);
      if (needsHealthyRest) {
        const outside = await notYetMembers(ctx, rows);
        const refusal = othersUnhealthy(me, (await othersHealth(ctx)).filter((h) => !outside.has(h.host)));
        if (refusal) throw new Error(refusal);
      }
      await snapshotFirst(ctx, rows);
      await work();
    } catch (e) {
      const why = (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200);
      state.stoppedAt = { host: me, why };
      throw e;
    }
  });
}

/**
 * The member's container replaced (remove→run, stop→move→run, a join) under ctx.hold. Cut short by a failure,
 * `back` starts the member again with the planned command; a forced interrupt (SIGTERM, a second Ctrl-C) waits for
 * the replacement in flight, or that way back, before the run exits: the member is never left removed. Refused
 * once the run is interrupted, so no member goes down after Ctrl-C.
 */
async function whileReplaced(ctx: StepContext, replace: () => Promise<void>, back: { commands?: RootCommand[] }): Promise<void> {
  let done = false;
  const held = await ctx.hold(
    `etcd member ${ctx.host.name} (its container is being replaced)`,
    async () => {
      await replace();
      done = true;
    },
    async () => {
      if (done) return;
      for (const c of back.commands ?? []) await ctx.run(c.command, { become: true, timeoutMs: c.timeoutMs });
    },
  );
  await held.restore();
}

/**
 * The change a member's action needs, its commands as data (`--check -v` prints them); a rolling one runs inside
 * its turn: the play-wide lock, the checks, a snapshot, then the commands (held), then the member's health gate.
 */
async function memberChange(ctx: StepContext, rows: MemberSurvey[], action: MemberAction, want: Wanted): Promise<Change[]> {
  const me = ctx.host.name;
  const gate = async () => {
    // Alone it cannot be healthy: wait only when a majority can be up with it.
    if (action.kind === 'rejoin' || canBeHealthy(ctx, rows)) await waitMemberHealthy(ctx);
  };
  const inTurn = (change: Change, back: { commands?: RootCommand[] }): Change[] => [
    around(change, (inner) => rollingTurn(ctx, rows, action, want, async () => (await whileReplaced(ctx, inner, back), await gate()))),
  ];
  switch (action.kind) {
    case 'none':
      return [];
    case 'bootstrap':
      // Every member starts at once: a new cluster forms when a majority is up.
      return [{ summary: `start etcd member ${me} (new cluster)`, commands: await startCommands(ctx, 'new') }];
    case 'recreate':
      return inTurn(
        { summary: `recreate etcd member ${me} (${action.reason}), one member at a time`, commands: await startCommands(ctx, 'existing') },
        { commands: await wayBack(ctx, 'recreate') },
      );
    case 'migrate':
      return inTurn(
        { summary: `move etcd member ${me}'s data from ${action.from} to ${dataDir(ctx)}, one member at a time`, commands: await migrateCommands(ctx, action.from) },
        { commands: await wayBack(ctx, 'migrate') },
      );
    case 'rejoin': {
      // Through a peer first (member remove/add), then here: orchestration, not one host's commands.
      const back: { commands?: RootCommand[] } = {};
      return inTurn({ summary: `etcd member ${me} has no data: (re)add it to the cluster through ${action.peer}`, apply: () => rejoin(ctx, action.peer, back) }, back);
    }
  }
}

/** Before a bootstrap, once per play: the rest of the stack's confs, all read, name no etcd endpoint outside the group. */
async function noClusterElsewhere(ctx: StepContext): Promise<void> {
  const refusal = await ctx.play.once('etcd stack confs', async () => {
    const view = stackView(await readStackConfs(ctx), groupEndpoints(ctx));
    const ask = view.outside.length > 0 && !view.unread.length;
    return stackRefusal(view, ask ? await askEndpoints(ctx, view.outside.map((o) => o.endpoint)) : undefined);
  });
  if (refusal) throw new Error(`not bootstrapping a new etcd cluster on ${ctx.host.name}: ${refusal}`);
}

const NOT_JOINED = 'etcd hosts not joined';

/** Hosts of the group refused a join this run (not members of the cluster). */
export const notJoined = (ctx: StepContext): Set<string> => {
  let s = ctx.play.state.get(NOT_JOINED) as Set<string> | undefined;
  if (!s) ctx.play.state.set(NOT_JOINED, (s = new Set()));
  return s;
};

/**
 * Before a join, on the member list (read once per play): at most one member new to the cluster per run (the first
 * empty one of the play in inventory order), no other member added but never started, and no name taken.
 */
async function mayJoin(ctx: StepContext, rows: MemberSurvey[], peer: string): Promise<void> {
  const me = ctx.host.name;
  const members = await ctx.play.once('etcd member list', () => memberList(ctx, peer)).catch((e: unknown) => {
    throw new Error(
      `etcd member ${me} has no data and would join the cluster, but the member list could not be read through ${peer}: ` +
        `${e instanceof Error ? e.message.split('\n')[0] : String(e)}. Nothing was changed on any member`,
    );
  });
  const inPlay = new Set(ctx.play.hosts.map((h) => h.name));
  const empty = new Set(rows.filter((r) => inPlay.has(r.host) && isEmpty(r)).map((r) => r.host));
  const all = joiners(ctx);
  const mine = all.find((j) => j.host === me)!;
  const refusal = joinRefusal(members, mine, newcomers(members, all.filter((j) => empty.has(j.host)))[0]?.host);
  if (!refusal) return;
  // Not a member, and not made one: the cluster's health gate does not wait for it.
  if (!memberAt(members, mine.peerUrl)) notJoined(ctx).add(me);
  throw new Error(refusal);
}


export const memberStep = defineStep({
  name: 'etcd member',
  async plan(ctx) {
    const me = ctx.host.name;
    const mine = finished(ctx, me);
    try {
      // Before anything else asks this host's dockerd: an unreadable member fails here, saying so.
      const self = knownSelf([await surveyMember(ctx, me)], me);
      const want = { spec: await wantedSpec(ctx), dataDir: dataDir(ctx) };
      // A converged member needs nothing of the others: they are read only when this one must change.
      const rows = isConverged(self, want) ? [self] : await survey(ctx);
      const action = planMember(rows, me, want);
      if (action.kind === 'bootstrap') await noClusterElsewhere(ctx);
      if (action.kind === 'rejoin') await mayJoin(ctx, rows, action.peer);
      const changes = await memberChange(ctx, rows, action, want);
      if (!changes.length || ctx.check) mine.resolve();
      // The runner applies what plan returns: this member's turn is over when its change settles.
      return changes.map((c) => around(c, (inner) => inner().finally(mine.resolve)));
    } catch (e) {
      mine.resolve();
      throw e;
    }
  },
});
