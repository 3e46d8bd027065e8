import { describe, expect, it } from 'vitest';
import { plainRenderer } from '../../lib/render.ts';
import { runStep } from '../../lib/step.ts';
import { defineStep, type StepContext } from '../../lib/types.ts';

// Only what runStep touches: the host's name and check mode.
const ctx = { host: { name: 'lb1' }, check: false } as unknown as StepContext;

describe('ctx.report: figures in the step result', () => {
  it('carries reported figures in the result, also when the step fails', async () => {
    const step = defineStep({
      name: 'data plane survives a stopped gateway',
      plan: async () => [],
      async verify(c) {
        c.report?.('requests', { sent: 120, failed: 1, longestGapMs: 840 });
        throw new Error('1 request failed');
      },
    });
    const { result } = await runStep(step, ctx, { play: 'verify', diff: false });
    expect(result).toMatchObject({ status: 'failed', reason: '1 request failed', data: { requests: { sent: 120, failed: 1, longestGapMs: 840 } } });
  });

  it('adds no data field when nothing was reported', async () => {
    const { result } = await runStep(defineStep({ name: 'x', plan: async () => [] }), ctx, { play: 'p', diff: false });
    expect(result).not.toHaveProperty('data');
  });

  it('prints each figure under the step line', () => {
    const lines: string[] = [];
    plainRenderer({ verbose: false, diff: false, write: (l) => lines.push(l) })({
      type: 'step:end',
      result: { host: 'lb1', play: 'verify', step: 'check', status: 'ok', changes: [], diffs: [], durationMs: 1, data: { load: '10 requests, 0 failed' } },
    });
    expect(lines).toEqual(['[lb1] verify › check: ok', '    load: 10 requests, 0 failed']);
  });
});
