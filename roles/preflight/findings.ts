// Every check of a host records what it found here; the verdict step then fails the host once, with all
// of its problems listed, instead of stopping at the first (Kamal-style: finish, then report together).
import { defineStep, type Step, type StepContext } from '../../lib/types.ts';
import type { Finding } from './checks.ts';

const key = (ctx: StepContext) => `preflight:findings:${ctx.host.name}`;

export function findingsOf(ctx: StepContext): Finding[] {
  const state = ctx.play.state;
  if (!state.has(key(ctx))) state.set(key(ctx), []);
  return state.get(key(ctx)) as Finding[];
}

function record(ctx: StepContext, findings: Finding[]): void {
  findingsOf(ctx).push(...findings);
  for (const f of findings) ctx.log(`${f.level}: ${f.message}`);
  // Shown under the step's line and kept in the --json report: the recap says what each check found.
  for (const level of ['fail', 'warn', 'info'] as const) {
    const messages = findings.filter((f) => f.level === level).map((f) => f.message);
    if (messages.length) ctx.report?.(level, messages.join('; '));
  }
}

/** A read-only check as its own step (so the recap lists it); a check that cannot run is a failure too. */
export function checkStep(
  name: string,
  check: (ctx: StepContext) => Promise<Finding[]>,
  when?: Step['when'],
): Step {
  return defineStep({
    name,
    tags: ['check'],
    // A condition that cannot be read (a failed fact) is no reason to skip: the check runs and records it.
    when: when && ((ctx) => Promise.resolve(when(ctx)).catch(() => true)),
    async plan(ctx) {
      try {
        record(ctx, await check(ctx));
      } catch (error) {
        record(ctx, [{ level: 'fail', message: `${name}: could not check (${(error as Error).message.split('\n')[0]})` }]);
      }
      return [];
    },
  });
}

/** "lab4: port 80 (gateway_http_port) is in use by nginx (pid 123); memory 2048 MB < 3500 MB (...)" */
export function verdict(host: string, findings: Finding[]): string | undefined {
  const failures = findings.filter((f) => f.level === 'fail').map((f) => f.message);
  return failures.length ? `${host}: ${failures.join('; ')}` : undefined;
}

export const verdictStep = defineStep({
  name: 'host meets the requirements',
  async plan(ctx) {
    const findings = findingsOf(ctx);
    for (const w of findings.filter((f) => f.level === 'warn')) ctx.log(`warning: ${w.message}`);
    const problem = verdict(ctx.host.name, findings);
    if (problem) throw new Error(problem);
    return [];
  },
});
