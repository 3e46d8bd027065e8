import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../lib/events.ts';
import { runPlaybook, type RunOptions } from '../../lib/runner.ts';
import { defineFact, definePlaybook, defineRole, defineStep, type Host } from '../../lib/types.ts';
import { fakeFleet, fakeInventory, type Responder } from '../helpers/fake-transport.ts';

// The fake hosts answer every command by running it under dash here, so the batch script is really parsed.
const dash: Responder = (command) => {
  const r = spawnSync('dash', ['-c', command], { input: '' });
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};

const kernel = defineFact({ name: 'kernel', command: 'echo 6.1', parse: (r) => r.stdout.trim() });
const arch = defineFact({ name: 'arch', command: 'echo x86_64', parse: (r) => r.stdout.trim() });
const dataDir = defineFact({ name: 'data dir', command: 'echo /srv', become: true, parse: (r) => r.stdout.trim() });

const role = defineRole({
  name: 'reader',
  facts: [kernel, arch],
  steps: [
    defineStep({ name: 'look', plan: async (ctx) => (await ctx.fact(kernel), await ctx.fact(arch), []) }),
    defineStep({ name: 'write', plan: async (ctx) => [{ summary: `note ${await ctx.fact(kernel)}`, apply: async () => void (await ctx.run('echo applied')) }] }),
  ],
});

async function run(opts: RunOptions = {}, respond: Responder = dash, lose?: string, roleUnder = role) {
  const fleet = fakeFleet(respond);
  const events: RunEvent[] = [];
  const factory = async (host: Host) => {
    const t = await fleet.factory(host);
    if (host.name === lose) (t as unknown as { dead: boolean }).dead = true;
    return t;
  };
  const playbook = definePlaybook({ name: 't', description: '', plays: [{ name: 'read', hosts: 'all', role: roleUnder }] });
  const summary = await runPlaybook(playbook, opts, { inventory: fakeInventory({ all: ['h1', 'h2'] }), transports: factory, listeners: [(e) => events.push(e)] });
  const commands = (host: string) => fleet.transports.get(host)?.commands ?? [];
  return { summary, events, commands };
}

describe('runner: the role facts read in one batch per host', () => {
  it('each host gets one batch command, then only the steps own commands', async () => {
    const { summary, commands, events } = await run();
    for (const h of ['h1', 'h2']) {
      expect(commands(h)).toEqual([expect.stringContaining('gwfacts-'), 'echo applied']);
      expect(summary.hosts[h]).toMatchObject({ changed: 1, ok: 1, failed: 0 });
    }
    const batch = events.find((e) => e.type === 'command' && e.host === 'h1' && e.command.includes('gwfacts-'));
    expect(batch).toMatchObject({ play: 'read', step: "read the role's facts", code: 0 });
  });

  it('facts given as a function of the host (its vars, role defaults included) are batched the same way', async () => {
    const perHost = defineRole({
      ...role,
      defaults: { data_dir: '/srv/data' },
      facts: (ctx) => [defineFact({ name: `dir of ${ctx.host.name}`, command: `echo ${String(ctx.vars.data_dir)}/${ctx.host.name}`, parse: (r) => r.stdout.trim() })],
      steps: [defineStep({ name: 'look', plan: async (ctx) => (await ctx.fact(defineFact({ name: `dir of ${ctx.host.name}`, command: `echo /srv/data/${ctx.host.name}`, parse: (r) => r.stdout.trim() })), []) })],
    });
    const { commands } = await run({}, dash, undefined, perHost);
    expect(commands('h2')).toEqual(['echo /srv/data/h2']); // one fact: run as a plain command, and the step reads the memo
  });

  it('in --check too (reads are allowed), and nothing is applied', async () => {
    const { commands } = await run({ check: true });
    expect(commands('h1')).toEqual([expect.stringContaining('gwfacts-')]);
  });

  it('root and user facts: two commands, never a user fact read as root', async () => {
    const mixed = defineRole({ ...role, facts: [kernel, dataDir, arch], steps: [defineStep({ name: 'look', plan: async (ctx) => (await ctx.fact(dataDir), await ctx.fact(arch), []) })] });
    const seen: { become?: boolean; command: string }[] = [];
    await run({}, (command, host, opts) => (host === 'h1' && seen.push({ command, become: opts.become }), dash(command, host, opts)), undefined, mixed);
    expect(seen.map((c) => c.become)).toEqual([undefined, true]);
    expect(seen[0].command).toContain('echo 6.1');
    expect(seen[0].command).not.toContain('echo /srv');
  });

  it('a connection lost at the batch makes the host unreachable; the other host goes on', async () => {
    const { summary, commands } = await run({}, dash, 'h2');
    expect(summary.nodes.find((n) => n.host === 'h2')).toMatchObject({ status: 'unreachable' });
    expect(summary.hosts.h2).toMatchObject({ unreachable: 1, failed: 0 });
    expect(summary.errors).toEqual([expect.objectContaining({ host: 'h2', unreachable: true })]);
    expect(commands('h1')).toHaveLength(2);
    expect(summary.exitCode).toBe(3);
  });

  it('a batch that did not complete (timeout) is logged; the steps then read each fact alone', async () => {
    const timeout: Responder = (command, host, opts) => (command.includes('gwfacts-') ? { code: 124, stdout: '' } : dash(command, host, opts));
    const { summary, commands, events } = await run({}, timeout);
    expect(commands('h1')).toEqual([expect.stringContaining('gwfacts-'), 'echo 6.1', 'echo x86_64', 'echo applied']);
    expect(summary.hosts.h1).toMatchObject({ failed: 0, changed: 1 });
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', host: 'h1', line: expect.stringMatching(/^facts read one by one: batched read of 2 facts did not complete \(exit 124\)/) }));
  });

  it('a play whose steps are all deselected reads nothing', async () => {
    const { commands } = await run({ tags: ['nothing-has-this-tag'] });
    expect(commands('h1')).toEqual([]);
  });
});
