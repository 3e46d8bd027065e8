// The per-host run lock: the shell that takes and releases it (run for real on a temp file), RunLock over a
// scripted fleet (refused, broken, released), and the run taking it at the head of each host's first read.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../lib/errors.ts';
import { HELD_EXIT, LOCK_FILE, LockHeldError, lockOwner, parseTake, releaseLockCmd, RunLock, takeLockCmd } from '../../lib/lock.ts';
import { runPlaybook } from '../../lib/runner.ts';
import { defineFact, definePlaybook, defineRole, defineStep } from '../../lib/types.ts';
import { rollingChange } from '../../ops/lb-drain.ts';
import { fakeFleet, fakeInventory, type Responder } from '../helpers/fake-transport.ts';
import { batchAware, batchHead } from '../helpers/role-fleet.ts';

/** stdout of `command` under sh; `code` collects the exit codes. */
const codes: number[] = [];
const sh = (command: string) => {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
  codes.push(r.status ?? -1);
  return r.stdout;
};

describe('lock commands (dash/sh on a temp file)', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-lock-')), 'gatewright.lock');
  const A = "gatewright site run by ops@ctl-a (pid 1) since 2026-11-30T13:00:00.000Z; it's A";
  const B = 'gatewright site run by ops@ctl-b (pid 2) since 2026-11-30T13:05:00.000Z';

  it('takes a free lock, refuses another owner with the holder, lets the owner retake, breaks on request, releases only its own', () => {
    expect(parseTake(sh(takeLockCmd(A, false, file)))).toEqual({ taken: true });
    expect(parseTake(sh(takeLockCmd(B, false, file)))).toEqual({ taken: false, holder: A });
    expect(parseTake(sh(takeLockCmd(A, false, file)))).toEqual({ taken: true });
    sh(releaseLockCmd(B, file)); // not B's: stays
    expect(parseTake(sh(takeLockCmd(B, false, file)))).toEqual({ taken: false, holder: A });
    expect(parseTake(sh(takeLockCmd(B, true, file)))).toEqual({ taken: true, broke: A });
    sh(releaseLockCmd(B, file));
    expect(parseTake(sh(takeLockCmd(A, false, file)))).toEqual({ taken: true });
    // Held exits HELD_EXIT (a batch it heads reads nothing); taken, 0.
    expect(codes).toEqual([0, HELD_EXIT, 0, 0, HELD_EXIT, 0, 0, 0]);
  });

  it('quotes the owner and defaults to the root-only /run path', () => {
    expect(takeLockCmd('x; rm -rf /')).toContain(`f=${LOCK_FILE}; me='x; rm -rf /'`);
    expect(lockOwner('site', new Date('2026-11-30T13:00:00Z'))).toMatch(/^gatewright site run by \S+@\S+ \(pid \d+\) since 2026-11-30T13:00:00.000Z$/);
  });

  it('does not read a failure as free or held', () => {
    expect(() => parseTake('')).toThrow(/unexpected answer/);
    expect(parseTake('lock: held\n')).toEqual({ taken: false, holder: '(a run creating it right now)' });
  });
});

describe('RunLock', () => {
  const inventory = fakeInventory({ gateway: ['g1', 'g2'], lb: ['lb1'] });
  const hosts = ['g1', 'g2'].map((h) => inventory.hosts.get(h)!);
  const holder = 'gatewright site run by ops@other (pid 9) since 2026-11-30T12:00:00.000Z';
  const answers =
    (held: string[], broke = false): Responder =>
    (cmd, host) => {
      if (!cmd.includes('set -C')) return undefined;
      if (broke && cmd.includes('broke:')) return { stdout: `broke: ${holder}\nlock: taken\n` };
      return { stdout: held.includes(host) ? `lock: held\n${holder}\n` : 'lock: taken\n' };
    };

  it('refuses the run (exit 4) naming host and holder, and releases the hosts it had locked', async () => {
    const fleet = fakeFleet(answers(['g2']));
    const lock = new RunLock(fleet.factory, { owner: 'me' });
    const refused = await lock.acquire(hosts).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(LockHeldError);
    expect(refused).toBeInstanceOf(InputError);
    expect((refused as Error).message).toContain(`g2: ${holder}`);
    expect((refused as Error).message).toContain('--break-lock');
    expect(fleet.transports.get('g1')!.commands.at(-1)).toBe(releaseLockCmd('me'));
    expect(fleet.transports.get('g2')!.commands).toHaveLength(1); // asked, never released: not ours
  });

  it('takes the lock in one command per host, locks a delegated host on first contact, releases each once', async () => {
    const fleet = fakeFleet(answers([]));
    const lock = new RunLock(fleet.factory, { owner: 'me' });
    await lock.acquire(hosts);
    await lock.transports(inventory.hosts.get('lb1')!);
    await lock.transports(inventory.hosts.get('g1')!);
    for (const h of ['g1', 'g2', 'lb1']) expect(fleet.transports.get(h)!.commands).toEqual([takeLockCmd('me')]);
    expect(await lock.release()).toEqual([]);
    for (const h of ['g1', 'g2', 'lb1']) expect(fleet.transports.get(h)!.commands).toEqual([takeLockCmd('me'), releaseLockCmd('me')]);
    await expect(lock.transports(inventory.hosts.get('g1')!)).rejects.toThrow(/released/);
  });

  it('a delegated host held by another run fails that contact, not the whole run', async () => {
    const fleet = fakeFleet(answers(['lb1']));
    const lock = new RunLock(fleet.factory, { owner: 'me' });
    await lock.acquire(hosts);
    await expect(lock.transports(inventory.hosts.get('lb1')!)).rejects.toThrow(holder);
  });

  it('--break-lock removes a stale lock, says whose, and takes it', async () => {
    const fleet = fakeFleet(answers(['g1'], true));
    const broken: string[] = [];
    const lock = new RunLock(fleet.factory, { owner: 'me', breakLock: true, onBroken: (h, who) => broken.push(`${h}: ${who}`) });
    await lock.acquire(hosts);
    expect(fleet.transports.get('g1')!.commands[0]).toBe(takeLockCmd('me', true));
    expect(broken).toEqual([`g1: ${holder}`, `g2: ${holder}`]);
  });

  it('gatewright_lock_file moves the lock (hosts sharing one machine in tests); a relative path is bad input', async () => {
    const inv = fakeInventory({ g: ['a', 'b'] }, { a: { gatewright_lock_file: '/tmp/lab-7/gatewright.lock' }, b: { gatewright_lock_file: 'rel.lock' } });
    const fleet = fakeFleet(answers([]));
    const lock = new RunLock(fleet.factory, { owner: 'me' });
    await expect(lock.acquire([inv.hosts.get('a')!, inv.hosts.get('b')!])).rejects.toThrow('b: gatewright_lock_file must be an absolute path, got "rel.lock"');
    expect(fleet.transports.get('a')!.commands).toEqual([takeLockCmd('me', false, '/tmp/lab-7/gatewright.lock'), releaseLockCmd('me', '/tmp/lab-7/gatewright.lock')]);
  });

  it('leaves an unreachable host to the run, and fails a host whose lock could not be written', async () => {
    const fleet = fakeFleet((cmd, host) => (host === 'g2' ? { code: 1, stderr: 'sudo: a password is required' } : { stdout: 'lock: taken\n' }), ['g1']);
    const lock = new RunLock(fleet.factory, { owner: 'me' });
    await lock.acquire(hosts);
    await expect(lock.transports(hosts[0])).rejects.toThrow(/cannot connect/);
    await expect(lock.transports(hosts[1])).rejects.toThrow(/g2: could not take the run lock \/run\/gatewright.lock \(exit 1\): sudo: a password is required/);
  });
});

describe('two runs and one LB', () => {
  it('a --limit run whose gateway drains on an LB another run holds fails before it changes the gateway', async () => {
    const inventory = fakeInventory({ gateway: ['g1', 'g2'], lb: ['lb1'] });
    const holder = 'gatewright gateway run by ops@other (pid 9) since 2026-11-30T12:00:00.000Z';
    const fleet = fakeFleet((cmd, host) => (cmd.includes('set -C') ? { stdout: host === 'lb1' ? `lock: held\n${holder}\n` : 'lock: taken\n' } : undefined));
    const lock = new RunLock(fleet.factory, { owner: 'me' });
    let changed = false;
    const restart = defineStep({
      name: 'restart behind the LB',
      plan: async (ctx) => [{ summary: 'recreate', apply: () => rollingChange(ctx, 'gateway', async () => void (changed = true)) }],
    });
    const playbook = definePlaybook({ name: 'gw', description: '', plays: [{ name: 'gw', hosts: 'g1', role: defineRole({ name: 'gw', steps: [restart] }) }] });
    await lock.acquire([inventory.hosts.get('g1')!]); // --limit g1: lb1 is not targeted, only reached
    const summary = await runPlaybook(playbook, {}, { inventory, transports: lock.transports });
    expect(changed).toBe(false);
    expect(summary.exitCode).toBe(2);
    expect(summary.errors[0].message).toContain(`lb1: ${holder}`);
  });
});

describe("the lock taken at the head of each host's first read", () => {
  const inventory = fakeInventory({ gateway: ['g1', 'g2'] });
  const holder = 'gatewright site run by ops@other (pid 9) since 2026-11-30T12:00:00.000Z';
  const version = defineFact({ name: 'version', become: true, command: 'cat /etc/version', parse: (r) => r.stdout.trim() });
  let stepRan: string[] = [];
  const playbook = definePlaybook({
    name: 'gw',
    description: '',
    plays: [{ name: 'gw', hosts: 'all', role: defineRole({ name: 'gw', facts: [version], steps: [defineStep({ name: 'uses it', plan: async (ctx) => (stepRan.push(`${ctx.host.name} ${await ctx.fact(version)}`), []) })] }) }],
  });
  const run = async (respond: Responder, opts: { breakLock?: boolean } = {}) => {
    stepRan = [];
    const fleet = fakeFleet(batchAware(respond));
    const broken: string[] = [];
    const lock = new RunLock(fleet.factory, { owner: 'me', breakLock: opts.breakLock, onBroken: (h, who) => broken.push(`${h}: ${who}`) });
    const events: string[] = [];
    const summary = await runPlaybook(playbook, {}, { inventory, transports: lock.transports, lock, listeners: [(e) => events.push(e.type)], close: async () => void (await lock.release()) }).catch((e: unknown) => e);
    return { summary, fleet, broken, events, commands: (h: string) => fleet.transports.get(h)?.commands ?? [] };
  };
  // The take alone (a batch holds it too, at its head: that is answered part by part).
  const lockAnswer = (held: string[]): Responder => (cmd, host) => {
    if (cmd.startsWith('f=') && cmd.includes('set -C')) return held.includes(host) ? { code: HELD_EXIT, stdout: `lock: held\n${holder}\n` } : { stdout: 'lock: taken\n' };
    if (cmd === 'cat /etc/version') return { stdout: `v-${host}\n` };
    return undefined;
  };

  it('one command per host: the batch, the take at its head; then the release', async () => {
    const { summary, commands } = await run(lockAnswer([]));
    expect((summary as { exitCode: number }).exitCode).toBe(0);
    expect(stepRan.sort()).toEqual(['g1 v-g1', 'g2 v-g2']);
    for (const h of ['g1', 'g2']) {
      expect(commands(h), commands(h).join('\n---\n')).toHaveLength(2);
      expect(batchHead(commands(h)[0])).toBe(takeLockCmd('me'));
      expect(commands(h)[1]).toBe(releaseLockCmd('me'));
    }
  });

  it('held on a host: LockHeldError before anything starts (no event told, no step), the host that took it released', async () => {
    const { summary, events, commands } = await run(lockAnswer(['g2']));
    expect(summary).toBeInstanceOf(LockHeldError);
    expect((summary as Error).message).toContain(`g2: ${holder}`);
    expect(events).toEqual([]);
    expect(stepRan).toEqual([]);
    expect(commands('g1').at(-1)).toBe(releaseLockCmd('me'));
    // g2: the head said held (no fact read), and acquire asked once more alone; never released: not ours.
    expect(commands('g2')).toEqual([expect.stringContaining('gwfacts-'), takeLockCmd('me')]);
  });

  it('a first read that did not complete leaves the take to acquire, alone; each step then reads its fact alone', async () => {
    const cut: Responder = (cmd, host, opts) => (host === 'g2' && cmd.includes('gwfacts-') ? { code: 1, stderr: 'sudo: a password is required' } : lockAnswer([])(cmd, host, opts));
    const { summary, commands } = await run(cut);
    expect((summary as { exitCode: number }).exitCode).toBe(0);
    expect(commands('g2')).toEqual([expect.stringContaining('gwfacts-'), takeLockCmd('me'), 'cat /etc/version', releaseLockCmd('me')]);
    expect(stepRan.sort()).toEqual(['g1 v-g1', 'g2 v-g2']);
  });

  it('a take that answers after the run let its locks go (a forced exit) is given back at once', async () => {
    const fleet = fakeFleet(lockAnswer([]));
    const lock = new RunLock(fleet.factory, { owner: 'me' });
    const g1 = inventory.hosts.get('g1')!;
    const head = lock.head(g1)!;
    await lock.release();
    expect(() => head.accept({ code: 0, ok: true, stdout: 'lock: taken\n', stderr: '' })).toThrow(/released/);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(fleet.transports.get('g1')!.commands).toEqual([releaseLockCmd('me')]);
    expect(lock.head(g1)).toBeUndefined();
  });

  it('--break-lock in the head: says whose lock it broke, and runs', async () => {
    const breaking: Responder = (cmd, host, opts) => (cmd.startsWith('f=') && cmd.includes('broke:') && host === 'g1' ? { stdout: `broke: ${holder}\nlock: taken\n` } : lockAnswer([])(cmd, host, opts));
    const { summary, broken, commands } = await run(breaking, { breakLock: true });
    expect((summary as { exitCode: number }).exitCode).toBe(0);
    expect(broken).toEqual([`g1: ${holder}`]);
    expect(batchHead(commands('g1')[0])).toBe(takeLockCmd('me', true));
  });
});
