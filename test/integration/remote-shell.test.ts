// ctx.$ over real ssh: sudo (with and without a password), exit codes, stdin, streamed output, a timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessOutput } from 'zx';
import { Connections } from '../../lib/connections.ts';
import { makeContext } from '../../lib/context.ts';
import type { RunEvent } from '../../lib/events.ts';
import { FactCache } from '../../lib/facts.ts';
import { makeHost, makeInventory } from '../../lib/inventory.ts';
import { makePlayShared } from '../../lib/play-shared.ts';
import { Redactor } from '../../lib/redact.ts';
import { BECOME_PASSWORD, NOPASS_USER, PASS_USER, SSHD_PORT, startSshdLab, type SshdLab } from '../helpers/sshd.ts';

let lab: SshdLab;
const connections: Connections[] = [];

beforeAll(async () => {
  lab = await startSshdLab({ count: 1, first: 40 });
});
afterAll(async () => {
  for (const c of connections) await c.closeAll();
  await lab?.stop();
});

/** The runner's own context for h40, logged in as `user`; every event it emits is kept. */
function context(user = NOPASS_USER, opts: { verbose?: boolean } = {}) {
  const h = lab.host('h40');
  const host = makeHost('h40', ['all'], { ansible_host: h.address, ansible_port: SSHD_PORT, ansible_user: user, ansible_ssh_private_key_file: lab.clientKey });
  const inventory = makeInventory('test', new Map([['h40', host]]), new Map([['all', ['h40']]]));
  const conn = new Connections({ acceptNewHostKeys: false, connectTimeoutMs: 10_000, attempts: 1, knownHostsFile: lab.knownHostsFile, becomePassword: BECOME_PASSWORD });
  connections.push(conn);
  const events: RunEvent[] = [];
  const ctx = makeContext(
    host,
    { play: 'p', step: 's', origin: 'h40', shared: makePlayShared([host]), defaults: {}, resolveHost: () => host },
    { inventory, facts: new FactCache(), transports: conn.get, redactor: new Redactor(), emit: (e) => void events.push(e), check: false, verbose: opts.verbose ?? false },
  );
  return { ctx, events };
}

describe('ctx.$ over ssh', () => {
  it('runs as root through sudo by default, as the login user with { become: false }', async () => {
    const { ctx } = context();
    expect((await ctx.$`id -un`).stdout).toBe('root\n');
    expect((await ctx.$({ become: false })`id -un`).stdout).toBe(`${NOPASS_USER}\n`);
  });

  it('passes hostile values through the remote sh unchanged', async () => {
    const { ctx } = context();
    const values = ['', "it's", '$(id)', '`id`', 'a;b', 'line1\nline2', 'ünïcødé ✓', '*', '"'];
    expect((await ctx.$`printf '%s\\0' ${values}`).stdout).toBe(values.map((v) => `${v}\0`).join(''));
  });

  it('throws ProcessOutput with the exit code and stderr; nothrow resolves with them', async () => {
    const { ctx } = context();
    const error = await ctx.$`echo nope >&2; exit 7`.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessOutput);
    expect([(error as ProcessOutput).exitCode, (error as ProcessOutput).stderr]).toEqual([7, 'nope\n']);
    expect((error as ProcessOutput).message).toContain('command on h40: echo nope >&2; exit 7');
    const out = await ctx.$({ nothrow: true })`exit 9`;
    expect([out.exitCode, out.ok]).toEqual([9, false]);
  });

  it('sends input on stdin, also after the sudo password line a password-sudo user needs', async () => {
    for (const user of [NOPASS_USER, PASS_USER]) {
      const { ctx } = context(user);
      const out = await ctx.$({ input: 'first line\nsecond' })`id -un; cat`;
      expect(out.stdout).toBe('root\nfirst line\nsecond');
    }
  });

  it('streams output lines into the run\'s events and logs the command with its code', async () => {
    const { ctx, events } = context(NOPASS_USER, { verbose: true });
    await ctx.$`echo one; sleep 0.2; echo two`;
    expect(events.flatMap((e) => (e.type === 'output' ? [e.line] : []))).toEqual(['one', 'two']);
    expect(events.find((e) => e.type === 'command')).toMatchObject({ host: 'h40', target: 'h40', command: 'echo one; sleep 0.2; echo two', code: 0, stdout: 'one\ntwo\n' });
  });

  it('kills a command at its timeout on the host (as root, through sudo)', async () => {
    const { ctx } = context();
    const started = Date.now();
    const out = await ctx.$({ timeout: '1s', nothrow: true })`sleep 37`;
    expect(out.exitCode).toBe(-1);
    expect(out.stderr).toContain('timed out after 1 s');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await ctx.$({ become: false })`pgrep -x -f 'sleep 37' || true`).stdout).toBe('');
  });
});
