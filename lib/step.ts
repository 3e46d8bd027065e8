// Runs one step: when -> plan -> apply (unless --check) -> verify. Never throws for a step's own failure.
import { errorMessage, UnreachableError } from './errors.ts';
import { InterruptedError } from './interrupt.ts';
import { applyChange, plannedLines } from './change.ts';
import type { Step, StepContext, StepResult } from './types.ts';

export interface StepOutcome {
  result: StepResult;
  /** Set when the step failed because the host's connection is gone. */
  unreachable?: UnreachableError;
}

export interface StepMeta {
  play: string;
  diff: boolean;
  /** Told as changes start being applied and once they end (reads taken before are then no longer current). */
  changing?: () => void;
}

export async function runStep(step: Step, hostCtx: StepContext, meta: StepMeta): Promise<StepOutcome> {
  const started = Date.now();
  // Figures the step reports (ctx.report) travel in its result, failed or not.
  let data: Record<string, unknown> | undefined;
  const ctx: StepContext = { ...hostCtx, report: (key, value) => void ((data ??= {})[key] = value) };
  const result = (status: StepResult['status'], extra: Partial<StepResult> = {}): StepResult => ({
    host: ctx.host.name,
    play: meta.play,
    step: step.name,
    status,
    changes: [],
    diffs: [],
    durationMs: Date.now() - started,
    ...(data ? { data } : {}),
    ...extra,
  });
  try {
    const when = step.when ? await step.when(ctx) : true;
    if (when !== true) return { result: result('skipped', { reason: typeof when === 'string' ? when : 'condition not met' }) };
    const changes = await step.plan(ctx);
    const summaries = changes.map((c) => c.summary);
    const diffs = meta.diff ? changes.flatMap((c) => (c.diff ? [c.diff] : [])) : [];
    const planned = changes.flatMap(plannedLines);
    const withPlanned = planned.length ? { planned } : {};
    if (ctx.check) {
      const reason = changes.length ? `would ${summaries.join('; ')}` : undefined;
      return { result: result(changes.length ? 'changed' : 'ok', { reason, changes: summaries, diffs, ...withPlanned }) };
    }
    if (changes.length) meta.changing?.();
    try {
      for (const change of changes) await applyChange(ctx, change);
    } finally {
      if (changes.length) meta.changing?.();
    }
    if (step.verify) await step.verify(ctx);
    return { result: result(changes.length ? 'changed' : 'ok', { reason: summaries.join('; ') || undefined, changes: summaries, diffs, ...withPlanned }) };
  } catch (error) {
    // Refused to take something down after Ctrl-C: nothing was changed, the run is stopping.
    if (error instanceof InterruptedError) return { result: result('skipped', { reason: error.message }) };
    const unreachable = error instanceof UnreachableError ? error : undefined;
    return { result: result('failed', { reason: errorMessage(error) }), unreachable };
  }
}
