import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ProcessOutput } from 'zx';
import { makeContext } from '../../lib/context.ts';
import { UnreachableError } from '../../lib/errors.ts';
import type { RunEvent } from '../../lib/events.ts';
import { FactCache } from '../../lib/facts.ts';
import { makeHost, makeInventory } from '../../lib/inventory.ts';
import { LocalTransport } from '../../lib/local.ts';
import { makePlayShared } from '../../lib/play-shared.ts';
import { Redactor } from '../../lib/redact.ts';
import { durationMs } from '../../lib/remote-shell.ts';
import type { ExecOptions, Host, Transport } from '../../lib/types.ts';
import { FakeTransport } from '../helpers/fake-transport.ts';

// The same hostile values as test/unit/shell.test.ts: through ctx.$ each must reach the command unchanged.
const hostile = ['', 'two words', "it's", 'say "hi"', '$(touch /tmp/pwned)', '`id`', 'a;b', 'a|b', 'a && b', 'line1\nline2', 'ünïcødé ✓', '-rf', '--help', '$HOME', '\\backslash\\', '*', '~', "'", '"', 'tab\there'];

function context(transport: (h: Host) => Transport, opts: { verbose?: boolean; vars?: Record<string, unknown> } = {}) {
  const host = makeHost('ctl', ['all'], { ansible_connection: 'local', ...opts.vars });
  const inventory = makeInventory('test', new Map([['ctl', host]]), new Map([['all', ['ctl']]]));
  const events: RunEvent[] = [];
  const ctx = makeContext(
    host,
    { play: 'p', step: 's', origin: 'ctl', shared: makePlayShared([host]), defaults: {}, resolveHost: () => host },
    { inventory, facts: new FactCache(), transports: async (h) => transport(h), redactor: new Redactor(), emit: (e) => void events.push(e), check: false, verbose: opts.verbose ?? false },
  );
  return { ctx, events, commands: () => events.flatMap((e) => (e.type === 'command' ? [e] : [])) };
}

const local = (opts: { verbose?: boolean } = {}) => context((h) => new LocalTransport(h, {}), opts);

describe('ctx.$ on the local transport (a real sh)', () => {
  it('runs under dash, so the quoting is tested against a POSIX shell, not bash', async () => {
    expect(execFileSync('readlink', ['-f', '/bin/sh']).toString().trim()).toMatch(/dash$/);
    const { ctx } = local();
    expect((await ctx.$`readlink -f /proc/$$/exe`).stdout.trim()).toMatch(/dash$/);
  });

  it.each(hostile)('passes %j as one unchanged word', async (value) => {
    const { ctx } = local();
    const out = await ctx.$`printf '%s\\0' ${value}`;
    expect(out.stdout).toBe(`${value}\0`);
  });

  it('spreads an array as several quoted words, as sh`` does', async () => {
    const { ctx } = local();
    expect((await ctx.$`printf '[%s]' ${['a b', "c'd", '']}`).stdout).toBe("[a b][c'd][]");
  });

  it('runs as root by default and as the login user with { become: false }', async () => {
    const { ctx, commands } = local();
    expect((await ctx.$`id -u`).stdout).toBe('0\n');
    await ctx.$({ become: false })`true`;
    // The context's event carries the command as written; sudo is the transport's business.
    expect(commands().map((c) => c.command)).toEqual(['id -u', 'true']);
  });

  it('throws zx\'s ProcessOutput on a non-zero exit, naming the host and the command', async () => {
    const { ctx } = local();
    const error = await ctx.$`echo out; echo broken >&2; exit 3`.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProcessOutput);
    const out = error as ProcessOutput;
    expect([out.exitCode, out.stdout, out.stderr, out.ok]).toEqual([3, 'out\n', 'broken\n', false]);
    expect(out.message).toContain('command on ctl: echo out; echo broken >&2; exit 3');
    expect(out.message).toContain('exit code: 3');
  });

  it('resolves with the exit code under nothrow, as an option or as zx\'s method', async () => {
    const { ctx } = local();
    expect((await ctx.$({ nothrow: true })`exit 4`).exitCode).toBe(4);
    expect(await ctx.$`exit 5`.nothrow().exitCode).toBe(5);
    expect((await ctx.$`exit 6`.quiet().nothrow()).ok).toBe(false);
  });

  it('gives zx\'s readers: text(), lines(), json(), and output interpolated into the next command', async () => {
    const { ctx } = local();
    expect(await ctx.$`printf 'a\\nb\\n'`.lines()).toEqual(['a', 'b']);
    expect(await ctx.$`echo '{"v":"1.2"}'`.json()).toEqual({ v: '1.2' });
    const name = await ctx.$`echo 'my file'`;
    expect(await ctx.$`printf %s ${name}`.text()).toBe('my file'); // zx drops the trailing newline
  });

  it('sends input on stdin (a string, a Buffer, another command), never in argv', async () => {
    const { ctx, commands } = local();
    expect((await ctx.$({ input: 's3cret\nline two' })`cat`).stdout).toBe('s3cret\nline two');
    expect((await ctx.$({ input: Buffer.from([0, 255, 10]) })`od -An -tu1`).stdout.trim().split(/\s+/)).toEqual(['0', '255', '10']);
    expect((await ctx.$({ input: ctx.$`echo piped` })`tr a-z A-Z`).stdout).toBe('PIPED\n');
    expect(commands().map((c) => c.command).join('\n')).not.toContain('s3cret');
  });

  it('runs in cwd, the remote directory', async () => {
    const { ctx } = local();
    expect((await ctx.$({ cwd: '/usr/share', become: false })`pwd`).stdout).toBe('/usr/share\n');
  });

  it('refuses .timeout() after the start: the remote command\'s limit is set when it starts', async () => {
    const { ctx } = local();
    const p = ctx.$`true`;
    expect(() => p.timeout('1s')).toThrow(/ctx\.\$\(\{ timeout: '30s' \}\)/);
    await p;
  });

  it('logs each command as ctx.run does, and streams its lines with -v', async () => {
    const { ctx, events } = local({ verbose: true });
    await ctx.$`echo one; echo two >&2`;
    expect(events.filter((e) => e.type === 'output').map((e) => (e.type === 'output' ? `${e.stream}:${e.line}` : ''))).toEqual(['stdout:one', 'stderr:two']);
    expect(events.find((e) => e.type === 'command')).toMatchObject({ command: 'echo one; echo two >&2', code: 0, stdout: 'one\n', stderr: 'two\n' });
  });

  it('hides secret output from the log and from the thrown error, and still returns it to the caller', async () => {
    const { ctx, commands } = local();
    // The secret is only in the output: the command line itself is always logged.
    expect((await ctx.$({ secretOutput: true })`printf 'tok%s\n' en-123`).stdout).toBe('token-123\n');
    const error = (await ctx.$({ secretOutput: true })`printf 'tok%s\n' en-456; printf 'tok%s' en-789 >&2; exit 2`.catch((e: ProcessOutput) => e)) as ProcessOutput;
    expect([error.exitCode, error.stdout, error.stderr]).toEqual([2, '', '']);
    expect(error.message).not.toMatch(/token/);
    expect(JSON.stringify(commands())).not.toMatch(/token/);
  });
});

describe('ctx.$ options reaching the transport', () => {
  const recording = () => {
    const seen: ExecOptions[] = [];
    const t = new FakeTransport('ctl', (_cmd, _host, opts) => void seen.push(opts));
    return { seen, ...context(() => t) };
  };

  it('maps become, becomeUser, timeouts and stream onto the run options; options stack', async () => {
    const { ctx, seen } = recording();
    await ctx.$`a`;
    await ctx.$({ become: false })({ timeout: '2m' })`b`;
    await ctx.$({ timeoutMs: 1500, becomeUser: 'etcd', stream: true })`c`;
    expect(seen.map(({ become, becomeUser, timeoutMs, stream }) => ({ become, becomeUser, timeoutMs, stream }))).toEqual([
      { become: true, becomeUser: undefined, timeoutMs: undefined, stream: undefined },
      { become: false, becomeUser: undefined, timeoutMs: 120_000, stream: undefined },
      { become: true, becomeUser: 'etcd', timeoutMs: 1500, stream: true },
    ]);
  });

  it('rejects with the transport\'s own error when the host is lost, even under nothrow', async () => {
    const t = new FakeTransport('ctl');
    t.dead = true;
    const { ctx } = context(() => t);
    await expect(ctx.$`true`).rejects.toBeInstanceOf(UnreachableError);
    await expect(ctx.$({ nothrow: true })`true`).rejects.toBeInstanceOf(UnreachableError);
    await expect(ctx.$`true`.nothrow().exitCode).rejects.toBeInstanceOf(UnreachableError);
  });

  it('reads zx durations', () => {
    expect([durationMs(500), durationMs('750'), durationMs('250ms'), durationMs('30s'), durationMs('2m')]).toEqual([500, 750, 250, 30_000, 120_000]);
    expect(() => durationMs('1h' as never)).toThrow(/not a duration/);
  });
});
