// Rolling changes behind the load balancers: drain a server on every LB host, change it, health-gate it,
// put it back. Called by the stack roles around the step that recreates a gateway or dashboard.
import { UnreachableError } from '../lib/errors.ts';
import { CommandError, defineFact, type Fact, type StepContext } from '../lib/types.ts';
import { sh } from '../lib/shell.ts';
import { stackVars } from '../vars/schema.ts';
import { waitFor } from './retry.ts';
import { BACKENDS_OF_GROUP, GROUPS } from './layout.ts';
import {
  adminSocketCommand,
  parseServerStats,
  setServerState,
  SHOW_SERVERS,
  socketErrors,
  socketInput,
  type ServerState,
  type ServerStat,
} from './lb-runtime.ts';

export type RollingGroup = keyof typeof BACKENDS_OF_GROUP;

/** Contexts of the LB hosts (group `lb`); none: nothing to drain. */
export function lbContexts(ctx: StepContext): StepContext[] {
  return ctx.inventory.groups.has(GROUPS.lb) ? ctx.inventory.group(GROUPS.lb).map((h) => ctx.on(h.name)) : [];
}

/** Sends runtime API commands to one LB host's admin socket; returns the answer. */
export async function runtimeApi(lb: StepContext, commands: string[]): Promise<string> {
  const r = await lb.run(adminSocketCommand(stackVars(lb).lb_admin_socket), {
    become: true,
    stdin: socketInput(commands),
  });
  return r.stdout;
}

export async function serverStats(lb: StepContext): Promise<ServerStat[]> {
  return parseServerStats(await runtimeApi(lb, [SHOW_SERVERS]));
}

/**
 * `show stat` of the servers as a fact (the command carries its own input, as a fact has no stdin): the lb
 * role's one health read per host, memoised so two of its steps share it. A socket that does not answer (haproxy
 * stopped, the new worker not up yet) is an error, never "no servers".
 */
export const serverStatsFact = (socket: string): Fact<ServerStat[]> =>
  defineFact({
    name: `haproxy show stat ${socket}`,
    command: `${sh`printf '%s\\n' ${SHOW_SERVERS}`} | { ${adminSocketCommand(socket)}; }`,
    become: true,
    parse(r) {
      if (r.code !== 0) throw new Error(`the haproxy admin socket ${socket} did not answer (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
      return parseServerStats(r.stdout);
    },
  });

const rowsOf = (stats: ServerStat[], server: string, group: RollingGroup) =>
  stats.filter((s) => s.server === server && (BACKENDS_OF_GROUP[group] as readonly string[]).includes(s.backend));

/** Sets a server's admin state in each of its backends on the given LB hosts. */
export async function setServerStateOn(lbs: StepContext[], server: string, group: RollingGroup, state: ServerState) {
  for (const lb of lbs) {
    const errors = socketErrors(await runtimeApi(lb, BACKENDS_OF_GROUP[group].map((b) => setServerState(b, server, state))));
    if (errors.length) throw new Error(`${lb.host.name}: haproxy refused "${state}" for ${server}: ${errors.join('; ')}`);
    lb.log(`${server} ${state} in ${BACKENDS_OF_GROUP[group].join(', ')}`);
  }
}

/** Waits (bounded) until no LB has a session on the server; retries and redispatch cover what is left. */
async function waitDrained(lbs: StepContext[], server: string, group: RollingGroup) {
  for (const lb of lbs) {
    await waitFor(`${lb.host.name}: sessions on ${server} to end`, stackVars(lb).lb_drain_timeout_s, async () => {
      const busy = rowsOf(await serverStats(lb), server, group).filter((s) => s.sessions > 0);
      return busy.length === 0 || busy.map((s) => `${s.backend}/${s.server}: ${s.sessions} sessions`).join(', ');
    }).catch((e: Error) => lb.log(`${e.message}; going on (retries cover the rest)`));
  }
}

/**
 * Waits until each LB sees the server in `want` in all its backends: UP (checks passed, admin state
 * ready) after a change, DOWN once its health checks noticed it stopped.
 */
export async function waitServerStatus(ctx: StepContext, server: string, group: RollingGroup, want: 'UP' | 'DOWN', lbs = lbContexts(ctx)) {
  for (const lb of lbs) {
    const what = want === 'UP' ? `${server} back in rotation` : `${server} marked down`;
    await waitFor(`${lb.host.name}: ${what}`, stackVars(lb).lb_ready_timeout_s, async () => {
      const rows = rowsOf(await serverStats(lb), server, group);
      if (rows.length === 0) return `${server} is not a server of ${BACKENDS_OF_GROUP[group].join(', ')} (run the lb play)`;
      // "DOWN 1/2" is down and on its way up; "UP 1/2" is still up.
      const other = rows.filter((s) => (want === 'UP' ? s.status !== 'UP' : !s.status.startsWith('DOWN')));
      return other.length === 0 || other.map((s) => `${s.backend}/${s.server} ${s.status} ${s.check}`).join(', ');
    });
  }
}

/**
 * LB hosts that route to `server` now; one without haproxy yet (first deployment: the socket command fails) or
 * gone has nothing to drain. Anything else (another run holds the LB, an answer we cannot read) fails: never
 * change a server an LB may still be sending traffic to.
 */
async function lbsRouting(ctx: StepContext, server: string, group: RollingGroup): Promise<StepContext[]> {
  const routing: StepContext[] = [];
  for (const lb of lbContexts(ctx)) {
    const stats = await serverStats(lb).catch((e: Error) => {
      if (!(e instanceof CommandError || e instanceof UnreachableError)) throw e;
      ctx.log(`${lb.host.name}: no haproxy admin socket to drain ${server} with (${e.message.split('\n').pop()})`);
      return [];
    });
    if (rowsOf(stats, server, group).length) routing.push(lb);
  }
  return routing;
}

const FAILED = (group: RollingGroup) => `lb-rolling-failed:${group}`;

/**
 * One host at a time for the whole play: drain `ctx.host` from every LB that routes to it, run `change`
 * (which recreates and health-gates the service), put the server back and wait until those LBs see it
 * UP. A failure stops the roll: hosts that come later fail without being touched. The failed host is
 * put back to ready anyway: the LB's health checks keep it out of rotation while it is down.
 */
export async function rollingChange<T>(ctx: StepContext, group: RollingGroup, change: () => Promise<T>): Promise<T> {
  return ctx.play.exclusive(`lb-rolling:${group}`, async () => {
    const failed = ctx.play.state.get(FAILED(group));
    if (failed) throw new Error(`rolling change stopped: ${failed} failed before this host; left untouched`);
    const server = ctx.host.name;
    try {
      const lbs = await lbsRouting(ctx, server, group);
      if (lbs.length === 0) return await change();
      // Held through ctx.hold: an interrupted run readies the server even if this step never gets there.
      const drained = await ctx.hold(
        `${server} drained on ${lbs.map((lb) => lb.host.name).join(', ')}`,
        () => setServerStateOn(lbs, server, group, 'drain'),
        () => setServerStateOn(lbs, server, group, 'ready'),
      );
      let result: T;
      try {
        await waitDrained(lbs, server, group);
        result = await change();
      } finally {
        await drained.restore();
      }
      await waitServerStatus(ctx, server, group, 'UP', lbs);
      return result;
    } catch (e) {
      ctx.play.state.set(FAILED(group), server);
      throw e;
    }
  });
}
