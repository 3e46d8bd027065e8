// Rolling changes behind the load balancers: drain a server on every LB host, change it, health-gate it,
// put it back. Called by the stack roles around the step that recreates a gateway or dashboard.
import type { Host, StepContext } from '../../lib/types.ts';
import { waitFor } from '../common/retry.ts';
import { BACKENDS_OF_GROUP, LB_DEFAULTS } from './model.ts';
import {
  adminSocketCommand,
  parseServerStats,
  setServerState,
  SHOW_SERVERS,
  socketErrors,
  socketInput,
  type ServerState,
  type ServerStat,
} from './runtime.ts';

export type RollingGroup = keyof typeof BACKENDS_OF_GROUP;

/** The LB hosts of the inventory (group `lb_group`, default `lb`); none: rolling changes need no drain. */
export function lbHosts(ctx: StepContext): Host[] {
  const group = String(ctx.vars.lb_group ?? 'lb');
  return ctx.inventory.groups.has(group) ? ctx.inventory.group(group) : [];
}

const lbVar = (lb: StepContext, name: keyof typeof LB_DEFAULTS) => lb.vars[name] ?? LB_DEFAULTS[name];

/** Sends runtime API commands to one LB host's admin socket; returns the answer. */
export async function runtimeApi(lb: StepContext, commands: string[]): Promise<string> {
  const r = await lb.run(adminSocketCommand(String(lbVar(lb, 'lb_admin_socket'))), {
    become: true,
    stdin: socketInput(commands),
  });
  return r.stdout;
}

export async function serverStats(lb: StepContext): Promise<ServerStat[]> {
  return parseServerStats(await runtimeApi(lb, [SHOW_SERVERS]));
}

/** Sets a server's admin state in each of its backends on every LB host. */
export async function setServerStateOnLbs(ctx: StepContext, server: string, group: RollingGroup, state: ServerState) {
  for (const lb of lbHosts(ctx).map((h) => ctx.on(h.name))) {
    const errors = socketErrors(await runtimeApi(lb, BACKENDS_OF_GROUP[group].map((b) => setServerState(b, server, state))));
    if (errors.length) throw new Error(`${lb.host.name}: haproxy refused "${state}" for ${server}: ${errors.join('; ')}`);
    ctx.log(`${lb.host.name}: ${server} ${state} in ${BACKENDS_OF_GROUP[group].join(', ')}`);
  }
}

const rowsOf = (stats: ServerStat[], server: string, group: RollingGroup) =>
  stats.filter((s) => s.server === server && (BACKENDS_OF_GROUP[group] as readonly string[]).includes(s.backend));

/** Waits (bounded) until no LB has a session on the server; retries and redispatch cover what is left. */
async function waitDrained(ctx: StepContext, server: string, group: RollingGroup) {
  for (const lb of lbHosts(ctx).map((h) => ctx.on(h.name))) {
    const timeout = Number(lbVar(lb, 'lb_drain_timeout_s'));
    await waitFor(`${lb.host.name}: sessions on ${server} to end`, timeout, async () => {
      const busy = rowsOf(await serverStats(lb), server, group).filter((s) => s.sessions > 0);
      return busy.length === 0 || busy.map((s) => `${s.backend}/${s.server}: ${s.sessions} sessions`).join(', ');
    }).catch((e: Error) => ctx.log(`${e.message}; going on (retries cover the rest)`));
  }
}

/** Waits until every LB sees the server UP (checks passed, admin state ready) in all its backends. */
export async function waitServerUp(ctx: StepContext, server: string, group: RollingGroup) {
  for (const lb of lbHosts(ctx).map((h) => ctx.on(h.name))) {
    await waitFor(`${lb.host.name}: ${server} back in rotation`, Number(lbVar(lb, 'lb_ready_timeout_s')), async () => {
      const rows = rowsOf(await serverStats(lb), server, group);
      if (rows.length === 0) return `${server} is not a server of ${BACKENDS_OF_GROUP[group].join(', ')} (run the lb play)`;
      const notUp = rows.filter((s) => s.status !== 'UP');
      return notUp.length === 0 || notUp.map((s) => `${s.backend}/${s.server} ${s.status} ${s.check}`).join(', ');
    });
  }
}

const FAILED = (group: RollingGroup) => `lb-rolling-failed:${group}`;

/**
 * One host at a time for the whole play: drain `ctx.host` from every LB, run `change` (which recreates
 * and health-gates the service), put the server back and wait until the LBs see it UP. A failure stops
 * the roll: hosts that come later fail without being touched. The failed host is put back to ready
 * anyway: the LB's health checks keep it out of rotation while it is down.
 */
export async function rollingChange<T>(ctx: StepContext, group: RollingGroup, change: () => Promise<T>): Promise<T> {
  return ctx.play.exclusive(`lb-rolling:${group}`, async () => {
    const failed = ctx.play.state.get(FAILED(group));
    if (failed) throw new Error(`rolling change stopped: ${failed} failed before this host; left untouched`);
    const server = ctx.host.name;
    try {
      if (lbHosts(ctx).length === 0) return await change();
      await setServerStateOnLbs(ctx, server, group, 'drain');
      let result: T;
      try {
        await waitDrained(ctx, server, group);
        result = await change();
      } finally {
        await setServerStateOnLbs(ctx, server, group, 'ready');
      }
      await waitServerUp(ctx, server, group);
      return result;
    } catch (e) {
      ctx.play.state.set(FAILED(group), server);
      throw e;
    }
  });
}
