// Steps that speak the console's API (create the data-plane cluster, write the probe route). The guide does
// not document that API (docs/OPERATIONS.md says what is assumed of it), so a failure there is a warning in
// the recap, never a failed deploy: health comes from the services themselves. An unreachable host still fails.
import { UnreachableError } from '../lib/errors.ts';
import { defineStep, type Step, type StepContext } from '../lib/types.ts';
import { around } from '../lib/change.ts';

const why = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300);

export function consoleStep(step: Step): Step {
  const warn = (ctx: StepContext, e: unknown) => {
    if (e instanceof UnreachableError) throw e;
    ctx.warn(`${step.name} on ${ctx.host.name}: the console API did not do it (${why(e)}); the deploy goes on without it`);
  };
  return defineStep({
    ...step,
    async plan(ctx) {
      try {
        const changes = await step.plan(ctx);
        return changes.map((c) => around(c, (inner) => inner().catch((e: unknown) => warn(ctx, e))));
      } catch (e) {
        warn(ctx, e);
        return [];
      }
    },
  });
}
