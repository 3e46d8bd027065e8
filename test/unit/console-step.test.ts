import { describe, expect, it } from 'vitest';
import { UnreachableError } from '../../lib/errors.ts';
import type { StepContext } from '../../lib/types.ts';
import { consoleStep } from '../../ops/console.ts';
import { applyChange } from '../../lib/change.ts';

function ctx() {
  const warnings: string[] = [];
  return { warnings, ctx: { host: { name: 'lab1' }, warn: (m: string) => warnings.push(m) } as unknown as StepContext };
}

describe('console API steps never gate the deploy', () => {
  it('a failing plan is a warning naming the step and host, with no change', async () => {
    const { ctx: c, warnings } = ctx();
    const step = consoleStep({ name: 'data-plane cluster exists (console API)', plan: async () => { throw new Error('dashboard login on lab1 failed (HTTP 404)'); } });
    await expect(step.plan(c)).resolves.toEqual([]);
    expect(warnings).toEqual(['data-plane cluster exists (console API) on lab1: the console API did not do it (dashboard login on lab1 failed (HTTP 404)); the deploy goes on without it']);
  });

  it('a failing change is a warning too', async () => {
    const { ctx: c, warnings } = ctx();
    const step = consoleStep({ name: 'probe route', plan: async () => [{ summary: 'route', apply: async () => { throw new Error('HTTP 500'); } }] });
    const [change] = await step.plan(c);
    await expect(applyChange(c, change)).resolves.toBeUndefined();
    expect(warnings[0]).toMatch(/^probe route on lab1: the console API did not do it \(HTTP 500\)/);
  });

  it("the step's verify runs when the console did its part, and is skipped (said in the warning) when it did not", async () => {
    const verified: string[] = [];
    const step = (fail: boolean) => consoleStep({
      name: 'smoke route',
      plan: async () => [{ summary: 'route', apply: async () => { if (fail) throw new Error('HTTP 400'); } }],
      verify: async (c) => void verified.push(c.host.name),
    });
    for (const fail of [false, true]) {
      const { ctx: c, warnings } = ctx();
      const s = step(fail);
      for (const change of await s.plan(c)) await applyChange(c, change);
      await s.verify!(c);
      expect(warnings).toEqual(fail ? ['smoke route on lab1: the console API did not do it (HTTP 400), and its check is skipped; the deploy goes on without it'] : []);
    }
    expect(verified).toEqual(['lab1']);
  });

  it('an unreachable host still fails', async () => {
    const { ctx: c } = ctx();
    const step = consoleStep({ name: 'x', plan: async () => { throw new UnreachableError('lab1', 'lab1 is gone'); } });
    await expect(step.plan(c)).rejects.toBeInstanceOf(UnreachableError);
  });
});
