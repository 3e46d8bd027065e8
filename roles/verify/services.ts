// Stopping and restoring one stack service on one host, as an operator would: `docker compose down` /
// `up -d` in the bundle folder for a gateway or dashboard, `docker stop` / `start` for an etcd member.
import type { StepContext } from '../../lib/types.ts';
import { stackVars } from '../../vars/schema.ts';
import { composeCommand } from '../../facts/docker.ts';
import { dashboardDir, ETCD_CONTAINER, gatewayDir } from '../../ops/layout.ts';

export interface StackService {
  /** What the messages call it. */
  name: string;
  /** Run on the service's own host (`ctx.on(host)`). */
  stop(on: StepContext): Promise<unknown>;
  start(on: StepContext): Promise<unknown>;
}

const TIMEOUT = { timeout: '180s' } as const;

/** `docker compose <words>` in a bundle folder (`cd <dir> && docker compose …`), with the host's compose. */
async function composeIn(on: StepContext, dir: string, words: string[]): Promise<unknown> {
  const compose = await on.fact(composeCommand);
  return on.$({ ...TIMEOUT, cwd: dir })`${compose} ${words}`;
}

/** Exactly the guide's commands in the bundle folder: `docker compose down`, then `up -d` (the dashboard by its service). */
export const GATEWAY: StackService = {
  name: 'gateway',
  stop: (on) => composeIn(on, gatewayDir(on.vars), ['down']),
  start: (on) => composeIn(on, gatewayDir(on.vars), ['up', '-d']),
};

export const DASHBOARD: StackService = {
  name: 'dashboard',
  stop: (on) => composeIn(on, dashboardDir(on.vars), ['down']),
  start: (on) => composeIn(on, dashboardDir(on.vars), ['up', '-d', stackVars(on).dashboard_compose_service]),
};

export const ETCD: StackService = {
  name: 'etcd',
  stop: (on) => on.$(TIMEOUT)`docker stop -t 30 ${ETCD_CONTAINER}`,
  start: (on) => on.$(TIMEOUT)`docker start ${ETCD_CONTAINER}`,
};

/**
 * Stops `service` on `host`, runs `during`, and starts it again whatever happened: a check never leaves
 * the stack with a service down, not even when the run is interrupted (ctx.hold).
 */
export async function withServiceStopped<T>(ctx: StepContext, host: string, service: StackService, during: () => Promise<T>): Promise<T> {
  const on = ctx.on(host);
  const stopped = await ctx.hold(
    `${service.name} stopped on ${host}`,
    async () => (on.log(`stop ${service.name}`), await service.stop(on)),
    async () => void (on.log(`start ${service.name}`), await service.start(on)),
  );
  try {
    return await during();
  } finally {
    await stopped.restore();
  }
}
