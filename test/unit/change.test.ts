// Changes as data: the writes and commands a change plans are what --check -v prints and what a run does, in
// that order; `around` wraps the whole change without hiding its commands.
import { describe, expect, it } from 'vitest';
import { applyChange, around, plannedLines } from '../../lib/change.ts';
import { makeContext } from '../../lib/context.ts';
import { FactCache } from '../../lib/facts.ts';
import { makePlayShared } from '../../lib/play-shared.ts';
import { Redactor } from '../../lib/redact.ts';
import { runStep } from '../../lib/step.ts';
import { defineStep, type Change, type StepContext } from '../../lib/types.ts';
import { FakeTransport, fakeInventory } from '../helpers/fake-transport.ts';

const inventory = fakeInventory({ g: ['h1'] });

function context(check = false): { ctx: StepContext; order: string[]; runs: { command: string; become?: boolean; stdin?: unknown }[] } {
  const order: string[] = [];
  const runs: { command: string; become?: boolean; stdin?: unknown }[] = [];
  const t = new FakeTransport('h1', (cmd, _host, opts) => {
    order.push(`run ${cmd}`);
    runs.push({ command: cmd, become: opts.become, stdin: opts.stdin });
    return cmd === 'false' ? { code: 1, stderr: 'no' } : { stdout: '' };
  });
  const put = t.put.bind(t);
  t.put = async (path, content, opts) => {
    order.push(`put ${path}`);
    return put(path, content, opts);
  };
  const ctx = makeContext(
    inventory.hosts.get('h1')!,
    { play: 'p', step: 's', origin: 'h1', shared: makePlayShared([]), defaults: {}, resolveHost: (n) => inventory.hosts.get(n)! },
    { inventory, facts: new FactCache(), transports: async () => t, redactor: new Redactor(), emit: () => undefined, check, verbose: false },
  );
  return { ctx, order, runs };
}

const change: Change = {
  summary: 'install the unit',
  writes: [{ path: '/etc/x.conf', content: 'a=1\n', mode: 0o600, owner: 'root:root', become: true, secret: true }],
  commands: ['systemctl daemon-reload', { command: 'id -un', become: false }, { command: 'chpasswd', stdin: 'root:s3cret' }],
};

describe('changes as data', () => {
  it('prints its writes and commands in the order they run, secrets hidden', () => {
    expect(plannedLines(change)).toEqual([
      'write /etc/x.conf (mode 0600, owner root:root) [secret content]',
      '$ systemctl daemon-reload',
      '$ id -un (as the login user)',
      '$ chpasswd (stdin: hidden)',
    ]);
    expect(plannedLines({ summary: 'roll', apply: async () => undefined })).toEqual(['(orchestrated: see the summary)']);
  });

  it('applies writes, then commands (a bare string as root, an object as its become says or the host default), then apply', async () => {
    const { ctx, order, runs } = context();
    await applyChange(ctx, { ...change, apply: async () => void order.push('apply') });
    expect(order).toEqual(['put /etc/x.conf', 'run systemctl daemon-reload', 'run id -un', 'run chpasswd', 'apply']);
    expect(runs).toEqual([
      { command: 'systemctl daemon-reload', become: true, stdin: undefined },
      { command: 'id -un', become: false, stdin: undefined },
      { command: 'chpasswd', become: undefined, stdin: 'root:s3cret' },
    ]);
  });

  it('stops at the first failing command: nothing after it runs', async () => {
    const { ctx, order } = context();
    await expect(applyChange(ctx, { summary: 's', commands: ['true', 'false', 'echo after'] })).rejects.toThrow(/exit 1/);
    expect(order).toEqual(['run true', 'run false']);
  });

  it('around wraps the whole change, outermost last, and keeps its lines', async () => {
    const { ctx, order } = context();
    const inner = around({ summary: 's', commands: ['true'] }, async (run) => {
      order.push('inner before');
      await run();
      order.push('inner after');
    });
    const outer = around(inner, async (run) => {
      order.push('outer before');
      await run().finally(() => order.push('outer finally'));
    });
    expect(plannedLines(outer)).toEqual(['$ true']);
    await applyChange(ctx, outer);
    expect(order).toEqual(['outer before', 'inner before', 'run true', 'inner after', 'outer finally']);
  });

  it('--check reports the planned lines and runs none of them', async () => {
    const { ctx, order } = context(true);
    const { result } = await runStep(defineStep({ name: 'unit', plan: async () => [change] }), ctx, { play: 'p', diff: false });
    expect(result.status).toBe('changed');
    expect(result.planned).toEqual(plannedLines(change));
    expect(order).toEqual([]);
  });
});
