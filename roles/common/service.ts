// A compose-run service of a bundle (dashboard, gateway): write the compose file, `up -d` only when the
// running container's spec label differs (or it is not running), then a health gate. A restart is a rolling
// change behind the LBs (roles/lb/drain.ts): one host at a time, drained first, health-gated inside the lock.
import { ensureFile } from '../../lib/files.ts';
import { defineStep, type Step, type StepContext } from '../../lib/types.ts';
import { composeCommand } from '../docker/facts.ts';
import { composeSpec, renderCompose, type ComposeInputs } from './compose.ts';
import { composeCmd, ownContainersCmd, parseOwnContainers } from './docker-commands.ts';
import { waitFor } from './retry.ts';
import { rollingChange, type RollingGroup } from '../lb/drain.ts';
import { num } from './vars.ts';

export const COMPOSE_FILE = 'docker-compose.yaml';

export interface ComposeDeploy {
  role: string;
  /** Compose project name: stable across versions, so an upgrade replaces the container. */
  project: string;
  dir(ctx: StepContext): string;
  inputs(ctx: StepContext): Promise<ComposeInputs>;
  /** The LB backends this role's hosts sit in: what a restart drains. */
  lbGroup: RollingGroup;
  health(ctx: StepContext): Promise<true | string>;
}

export function composeFileStep(name: string, d: ComposeDeploy): Step {
  return defineStep({
    name,
    async plan(ctx) {
      const content = renderCompose(await d.inputs(ctx));
      return ensureFile(ctx, { path: `${d.dir(ctx)}/${COMPOSE_FILE}`, content, mode: 0o644, become: true });
    },
  });
}

export function composeUpStep(name: string, d: ComposeDeploy): Step {
  const gate = (ctx: StepContext) => waitFor(`${d.role} on ${ctx.host.name}`, num(ctx.vars, 'health_timeout'), () => d.health(ctx));
  return defineStep({
    name,
    async plan(ctx) {
      const want = composeSpec(await d.inputs(ctx));
      const own = parseOwnContainers((await ctx.run(ownContainersCmd(d.role), { become: true })).stdout);
      if (own.some((c) => c.spec === want && c.running)) return [];
      const why = !own.length ? 'no container' : own.some((c) => c.spec === want) ? 'container stopped' : 'spec changed';
      return [
        {
          summary: `${d.role}: docker compose up -d in ${d.dir(ctx)} (${why})`,
          async apply() {
            const up = async () => {
              const compose = await ctx.fact(composeCommand);
              await ctx.run(composeCmd(compose, d.dir(ctx), d.project, COMPOSE_FILE, ['up', '-d']), { become: true, timeoutMs: 300_000 });
              await gate(ctx);
            };
            await rollingChange(ctx, d.lbGroup, up);
          },
        },
      ];
    },
    verify: (ctx) => (ctx.check ? Promise.resolve() : gate(ctx)),
  });
}
