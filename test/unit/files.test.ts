import { describe, expect, it } from 'vitest';
import { FactCache } from '../../lib/facts.ts';
import { ensureDir, ensureFile, readFileCommand } from '../../lib/files.ts';
import { runStep } from '../../lib/step.ts';
import { makeContext } from '../../lib/context.ts';
import { makePlayShared } from '../../lib/play-shared.ts';
import { Redactor } from '../../lib/redact.ts';
import { defineFact, defineStep, type StepContext } from '../../lib/types.ts';
import type { RunEvent } from '../../lib/events.ts';
import { FakeTransport, fakeInventory, type Responder } from '../helpers/fake-transport.ts';
import { applyChange } from '../../lib/change.ts';

const inventory = fakeInventory({ g: ['h1'] });

function context(respond: Responder, check = false, events: RunEvent[] = []): { ctx: StepContext; t: FakeTransport } {
  const t = new FakeTransport('h1', respond);
  const ctx = makeContext(
    inventory.hosts.get('h1')!,
    { play: 'p', step: 's', origin: 'h1', shared: makePlayShared([]), defaults: {}, resolveHost: (n) => inventory.hosts.get(n)! },
    { inventory, facts: new FactCache(), transports: async () => t, redactor: new Redactor(), emit: (e) => void events.push(e), check, verbose: false },
  );
  return { ctx, t };
}

const existing = (stat: string, content: string): Responder => (cmd) => (cmd.startsWith('if [ -f') || cmd.startsWith('if [ -d') ? { stdout: `${stat}\n${content}` } : undefined);

describe('ensureFile', () => {
  it('plans a write of a missing file with its mode, and a diff', async () => {
    const { ctx, t } = context(() => ({ stdout: 'missing\n' }));
    const changes = await ensureFile(ctx, { path: '/etc/app.conf', content: 'a=1\n', mode: 0o600 });
    expect(changes.map((c) => c.summary)).toEqual(['create /etc/app.conf (mode 0600)']);
    expect(changes[0].diff).toContain('+a=1');
    expect(t.commands).toEqual([readFileCommand('/etc/app.conf')]); // one command reads everything
    await applyChange(ctx, changes[0]);
    expect(t.puts).toEqual([{ path: '/etc/app.conf', content: 'a=1\n', opts: { mode: 0o600, owner: undefined, become: undefined } }]);
  });

  it('plans nothing when content, mode and owner match', async () => {
    const { ctx } = context(existing('600 root root', 'a=1\n'));
    expect(await ensureFile(ctx, { path: '/etc/app.conf', content: 'a=1\n', mode: 0o600, owner: 'root:root' })).toEqual([]);
  });

  it('plans only a chmod / chown when only those differ', async () => {
    const { ctx, t } = context(existing('644 app app', 'a=1\n'));
    const changes = await ensureFile(ctx, { path: '/etc/app.conf', content: 'a=1\n', mode: 0o600, owner: 'root' });
    expect(changes.map((c) => c.summary)).toEqual(['chmod 0600 /etc/app.conf (was 0644)', 'chown root /etc/app.conf (was app:app)']);
    for (const c of changes) await applyChange(ctx, c);
    expect(t.commands.slice(1)).toEqual(['chmod 0600 -- /etc/app.conf', 'chown root -- /etc/app.conf']);
    expect(t.puts).toEqual([]);
  });

  it('keeps the current mode (and owner, as root) when rewriting content without them', async () => {
    const { ctx } = context(existing('640 etcd etcd', 'old\n'));
    const [change] = await ensureFile(ctx, { path: '/x', content: 'new\n', become: true });
    expect(change.summary).toBe('update /x (mode 0640, owner etcd:etcd)');
    expect(change.diff).toContain('-old');
  });

  it("hides a secret file's content in the diff and its read from the log", async () => {
    const { ctx } = context(existing('600 root root', 'password=old\n'));
    const [change] = await ensureFile(ctx, { path: '/s', content: 'password=new\n', secret: true });
    expect(change.diff).toBe('--- /s\n+++ /s\n(content hidden: secret)\n');
  });

  it("never logs a file's current content: it may hold a secret the vars no longer name", async () => {
    const events: RunEvent[] = [];
    const { ctx } = context(existing('644 root root', 'password=was-set-before\n'), false, events);
    await ensureFile(ctx, { path: '/etc/gw.yaml', content: 'etcd: {}\n' });
    const logged = JSON.stringify(events.filter((e) => e.type === 'command'));
    expect(logged).toContain('/etc/gw.yaml');
    expect(logged).not.toContain('was-set-before');
  });

  it('hides the old content in the diff of a file only its owner can read (it was written that way for secrets)', async () => {
    const { ctx } = context(existing('600 root root', 'password=old\n'));
    const [change] = await ensureFile(ctx, { path: '/g', content: 'no credentials now\n' });
    expect(change.diff).toBe('--- /g\n+++ /g\n(content hidden: secret)\n');
  });

  it('refuses a path that is not a regular file', async () => {
    const { ctx } = context(() => ({ stdout: 'other\n' }));
    await expect(ensureFile(ctx, { path: '/dev/null', content: '' })).rejects.toThrow('/dev/null on h1 exists and is not a regular file');
  });
});

describe('ensureDir', () => {
  it('creates a missing directory with mode and owner in one command', async () => {
    const { ctx, t } = context(() => ({ stdout: 'missing\n' }));
    const [c] = await ensureDir(ctx, { path: '/var/lib/x y', mode: 0o700, owner: 'etcd' });
    await applyChange(ctx, c);
    expect(t.commands[1]).toBe("mkdir -p -m 0700 -- '/var/lib/x y' && chown etcd -- '/var/lib/x y'");
  });

  it('plans nothing for a matching directory', async () => {
    const { ctx } = context(existing('700 root root', ''));
    expect(await ensureDir(ctx, { path: '/d', mode: 0o700 })).toEqual([]);
  });
});

describe('runStep', () => {
  it('in --check plans and never applies', async () => {
    const { ctx } = context(() => ({ stdout: 'missing\n' }), true);
    let applied = false;
    let verified = false;
    const step = defineStep({
      name: 'write',
      plan: async () => [{ summary: 'write /x', apply: async () => void (applied = true) }],
      verify: async () => void (verified = true),
    });
    const { result } = await runStep(step, ctx, { play: 'p', diff: false });
    expect(result).toMatchObject({ status: 'changed', reason: 'would write /x', changes: ['write /x'] });
    expect(applied).toBe(false);
    expect(verified).toBe(false);
  });

  it('applies, verifies, and reports ok / changed / skipped / failed', async () => {
    const { ctx } = context(() => undefined);
    const order: string[] = [];
    const changed = defineStep({
      name: 'c',
      plan: async () => [{ summary: 'do it', apply: async () => void order.push('apply') }],
      verify: async () => void order.push('verify'),
    });
    expect((await runStep(changed, ctx, { play: 'p', diff: false })).result).toMatchObject({ status: 'changed', reason: 'do it' });
    expect(order).toEqual(['apply', 'verify']);
    const ok = defineStep({ name: 'o', plan: async () => [] });
    expect((await runStep(ok, ctx, { play: 'p', diff: false })).result.status).toBe('ok');
    const skipped = defineStep({ name: 's', when: () => 'not on this OS', plan: async () => [] });
    expect((await runStep(skipped, ctx, { play: 'p', diff: false })).result).toMatchObject({ status: 'skipped', reason: 'not on this OS' });
    const badVerify = defineStep({ name: 'v', plan: async () => [], verify: async () => Promise.reject(new Error('port 2379 closed')) });
    expect((await runStep(badVerify, ctx, { play: 'p', diff: false })).result).toMatchObject({ status: 'failed', reason: 'port 2379 closed' });
  });
});

describe('facts', () => {
  it('are memoised per host per run, and re-read with fresh', async () => {
    const { ctx, t } = context(() => ({ stdout: 'Debian\n' }));
    const os = defineFact({ name: 'os', command: 'uname -s', parse: (r) => r.stdout.trim() });
    expect(await ctx.fact(os)).toBe('Debian');
    expect(await ctx.fact(os)).toBe('Debian');
    expect(t.commands).toEqual(['uname -s']);
    await ctx.fact(os, { fresh: true });
    expect(t.commands).toEqual(['uname -s', 'uname -s']);
  });
});
