// Steps that speak the console's API (create the data-plane cluster, write the probe and smoke routes). The guide
// does not document that API (docs/OPERATIONS.md says what is assumed of it), so a failure there is a warning in
// the recap, never a failed deploy: health comes from the services themselves. An unreachable host still fails.
// When the console did not do its part, the step's own verify (the smoke route through every gateway) is
// skipped: it would only time out on a route that was never written. When it did, the verify still decides.
import { UnreachableError } from '../lib/errors.ts';
import { defineStep, type Step, type StepContext } from '../lib/types.ts';
import { around } from '../lib/change.ts';

/** The error on one line (a failed login lists each console tried on its own line). */
const why = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n').map((l) => l.trim()).filter(Boolean).join(' ').slice(0, 300);

export function consoleStep(step: Step): Step {
  // The step runs plan, changes and verify with one context per host: it remembers the console's failure there.
  const failed = new WeakSet<StepContext>();
  const warn = (ctx: StepContext, e: unknown) => {
    if (e instanceof UnreachableError) throw e;
    failed.add(ctx);
    const skipped = step.verify ? ', and its check is skipped' : '';
    ctx.warn(`${step.name} on ${ctx.host.name}: the console API did not do it (${why(e)})${skipped}; the deploy goes on without it`);
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
    ...(step.verify && { verify: (ctx: StepContext) => (failed.has(ctx) ? Promise.resolve() : step.verify!(ctx)) }),
  });
}
