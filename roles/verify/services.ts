// Stopping and restoring one stack service on one host, as an operator would: `docker compose down` /
// `up -d` in the bundle folder for a gateway or dashboard, `docker stop` / `start` for an etcd member.
import { sh } from '../../lib/shell.ts';
import type { StepContext, Vars } from '../../lib/types.ts';
import { composeInDirCmd } from '../../ops/docker.ts';
import { composeCommand } from '../../facts/docker.ts';
import { dashboardDir, ETCD_CONTAINER, gatewayDir } from '../../ops/layout.ts';

export interface StackService {
  /** What the messages call it. */
  name: string;
  stop(compose: readonly string[], vars: Vars): string;
  start(compose: readonly string[], vars: Vars): string;
}

/** Exactly the guide's commands in the bundle folder: `docker compose down`, then `up -d` (the dashboard by its service). */
export const GATEWAY: StackService = {
  name: 'gateway',
  stop: (c, v) => composeInDirCmd(c, gatewayDir(v), ['down']),
  start: (c, v) => composeInDirCmd(c, gatewayDir(v), ['up', '-d']),
};

export const DASHBOARD: StackService = {
  name: 'dashboard',
  stop: (c, v) => composeInDirCmd(c, dashboardDir(v), ['down']),
  start: (c, v) => composeInDirCmd(c, dashboardDir(v), ['up', '-d', String(v.dashboard_compose_service ?? 'api7-dashboard')]),
};

export const ETCD: StackService = {
  name: 'etcd',
  stop: () => sh`docker stop -t 30 ${ETCD_CONTAINER}`,
  start: () => sh`docker start ${ETCD_CONTAINER}`,
};

async function run(ctx: StepContext, service: StackService, action: 'stop' | 'start') {
  const compose = service === ETCD ? [] : await ctx.fact(composeCommand);
  ctx.log(`${action} ${service.name}`);
  await ctx.run(service[action](compose, ctx.vars), { become: true, timeoutMs: 180_000 });
}

/**
 * Stops `service` on `host`, runs `during`, and starts it again whatever happened: a check never leaves
 * the stack with a service down, not even when the run is interrupted (ctx.hold).
 */
export async function withServiceStopped<T>(ctx: StepContext, host: string, service: StackService, during: () => Promise<T>): Promise<T> {
  const on = ctx.on(host);
  const stopped = await ctx.hold(
    `${service.name} stopped on ${host}`,
    () => run(on, service, 'stop'),
    () => run(on, service, 'start'),
  );
  try {
    return await during();
  } finally {
    await stopped.restore();
  }
}
