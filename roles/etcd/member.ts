// The 'etcd member' step: plan from the survey (plan.ts), then change members one at a time under the
// play-wide lock. Down members go first; a member is taken down only while every other one is healthy right
// now; the first failure stops the rolling change for every member after it.
import { around } from '../../lib/change.ts';
import { defineStep, type Change, type StepContext } from '../../lib/types.ts';
import { dataDir, othersHealth, waitMemberHealthy } from '../../ops/etcd.ts';
import { etcdMembers } from '../../ops/topology.ts';
import { stackVars } from '../../vars/schema.ts';
import { migrateCommands, rejoin, startCommands, survey, surveyMember, takeSnapshot, wantedSpec } from './cluster.ts';
import {
  etcdContainer,
  isConverged,
  isDown,
  knownSelf,
  othersUnhealthy,
  planMember,
  snapshotSources,
  stillValid,
  type MemberAction,
  type MemberSurvey,
  type Wanted,
} from './plan.ts';

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
        const refusal = othersUnhealthy(me, await othersHealth(ctx));
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
 * The change a member's action needs, its commands as data (`--check -v` prints them); a rolling one runs inside
 * its turn: the play-wide lock, the checks, a snapshot, then the commands, then the member's health gate.
 */
async function memberChange(ctx: StepContext, rows: MemberSurvey[], action: MemberAction, want: Wanted): Promise<Change[]> {
  const me = ctx.host.name;
  const gate = async () => {
    // Alone it cannot be healthy: wait only when a majority can be up with it.
    if (action.kind === 'rejoin' || canBeHealthy(ctx, rows)) await waitMemberHealthy(ctx);
  };
  const inTurn = (change: Change): Change[] => [around(change, (inner) => rollingTurn(ctx, rows, action, want, async () => (await inner(), await gate())))];
  switch (action.kind) {
    case 'none':
      return [];
    case 'bootstrap':
      // Every member starts at once: a new cluster forms when a majority is up.
      return [{ summary: `start etcd member ${me} (new cluster)`, commands: await startCommands(ctx, 'new') }];
    case 'recreate':
      return inTurn({ summary: `recreate etcd member ${me} (${action.reason}), one member at a time`, commands: await startCommands(ctx, 'existing') });
    case 'migrate':
      return inTurn({ summary: `move etcd member ${me}'s data from ${action.from} to ${dataDir(ctx)}, one member at a time`, commands: await migrateCommands(ctx, action.from) });
    case 'rejoin':
      // Through a peer first (member remove/add), then here: orchestration, not one host's commands.
      return inTurn({ summary: `etcd member ${me} has no data: remove and re-add it through ${action.peer}`, apply: () => rejoin(ctx, action.peer) });
  }
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
      const changes = await memberChange(ctx, rows, planMember(rows, me, want), want);
      if (!changes.length || ctx.check) mine.resolve();
      // The runner applies what plan returns: this member's turn is over when its change settles.
      return changes.map((c) => around(c, (inner) => inner().finally(mine.resolve)));
    } catch (e) {
      mine.resolve();
      throw e;
    }
  },
});
