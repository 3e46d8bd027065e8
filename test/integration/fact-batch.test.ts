// A role's facts over real sshd: one batched command per host when the role starts, the steps' ctx.fact calls
// run nothing more; as root through passwordless sudo and through sudo with a password (stdin). The run lock
// taken at the head of that batch, and a run refused by a held lock before anything starts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connections } from '../../lib/connections.ts';
import type { RunEvent } from '../../lib/events.ts';
import { ensureFile } from '../../lib/files.ts';
import { loadInventory } from '../../lib/inventory.ts';
import { LockHeldError, RunLock } from '../../lib/lock.ts';
import { runPlaybook } from '../../lib/runner.ts';
import { defineFact, definePlaybook, defineRole, defineStep, type Play } from '../../lib/types.ts';
import { BECOME_PASSWORD, labInventory, labWorkspace, PASS_USER, startSshdLab, type SshdLab } from '../helpers/sshd.ts';

let lab: SshdLab;
beforeAll(async () => {
  lab = await startSshdLab({ count: 2, first: 60 });
});
afterAll(async () => {
  await lab?.stop();
});

const line = (r: { stdout: string }) => r.stdout.trim();
const login = defineFact({ name: 'login', command: 'id -un', parse: line });
const kernel = defineFact({ name: 'kernel', command: 'uname -s', parse: line });
const stdinRead = defineFact({ name: 'stdin', command: 'cat; echo end', parse: (r) => r.stdout });
const missing = defineFact({ name: 'missing', command: 'gw-no-such-command', parse: (r) => r.code });
const rootUid = defineFact({ name: 'root uid', command: 'id -u', become: true, parse: line });
const rootStdin = defineFact({ name: 'root stdin', command: 'cat; echo end', become: true, parse: (r) => r.stdout });

async function run(plays: Play[], opts: { check?: boolean } = {}) {
  const ws = labWorkspace(lab, { hostVars: { h61: { ansible_user: PASS_USER, ansible_become_password: BECOME_PASSWORD } } });
  const inventory = loadInventory(ws.inventory, { extraVars: { target_dir: ws.target } });
  const connections = new Connections({ knownHostsFile: lab.knownHostsFile, acceptNewHostKeys: false, connectTimeoutMs: 10_000, attempts: 1 });
  const events: RunEvent[] = [];
  const summary = await runPlaybook(definePlaybook({ name: 'facts', description: '', plays }), opts, {
    inventory,
    transports: connections.get,
    listeners: [(e) => events.push(e)],
    close: () => connections.closeAll(),
  });
  const commands = (host: string, play: string) => events.flatMap((e) => (e.type === 'command' && e.host === host && e.play === play ? [e] : []));
  return { summary, commands, ws };
}

const reader = defineRole({
  name: 'reader',
  facts: [login, kernel, stdinRead, missing],
  steps: [
    defineStep({
      name: 'facts file',
      plan: async (ctx) => {
        const content = `${await ctx.fact(login)} ${await ctx.fact(kernel)} ${JSON.stringify(await ctx.fact(stdinRead))} ${await ctx.fact(missing)}\n`;
        return ensureFile(ctx, { path: `${ctx.vars.target_dir}/${ctx.host.name}.facts`, content });
      },
    }),
    defineStep({ name: 'kernel again', plan: async (ctx) => (await ctx.fact(kernel), []) }),
  ],
});

const rootReader = defineRole({
  name: 'root-reader',
  facts: [rootUid, rootStdin],
  steps: [defineStep({ name: 'root facts', plan: async (ctx) => (ctx.report?.('facts', [await ctx.fact(rootUid), await ctx.fact(rootStdin)]), []) })],
});

describe('a role with facts on two sshd hosts', () => {
  it('one batch command per host, then only the steps own commands (the file read, its write)', async () => {
    const { summary, commands } = await run([{ name: 'reader', hosts: 'all', role: reader }]);
    expect(summary.exitCode).toBe(0);
    for (const host of ['h60', 'h61']) {
      const cmds = commands(host, 'reader');
      const batches = cmds.filter((c) => c.command.includes('gwfacts-'));
      expect(batches).toHaveLength(1);
      expect(batches[0]).toMatchObject({ step: "read the role's facts", code: 0 });
      // The facts' own commands never ran alone.
      expect(cmds.filter((c) => ['id -un', 'uname -s', 'cat; echo end', 'gw-no-such-command'].includes(c.command))).toEqual([]);
      expect(cmds.filter((c) => c.step === 'kernel again')).toEqual([]);
      expect(cmds.length).toBeLessThanOrEqual(1 + 3); // the batch, then ensureFile's read and its install
    }
    for (const host of ['h60', 'h61']) expect(summary.results.find((r) => r.host === host && r.step === 'facts file')?.status).toBe('changed');
  });

  it('the facts are what each command says alone: login, kernel, no stdin (even under sudo -S), 127', async () => {
    const { ws } = await run([{ name: 'reader', hosts: 'all', role: reader }]);
    expect(readFileSync(`${ws.target}/h60.facts`, 'utf8')).toBe('gwtest Linux "end\\n" 127\n');
    expect(readFileSync(`${ws.target}/h61.facts`, 'utf8')).toBe(`${PASS_USER} Linux "end\\n" 127\n`);
  });

  it('become facts: one root batch, through passwordless sudo and through sudo reading its password from stdin', async () => {
    const { summary, commands } = await run([{ name: 'root', hosts: 'all', role: rootReader }]);
    expect(summary.exitCode).toBe(0);
    for (const host of ['h60', 'h61']) {
      expect(commands(host, 'root')).toHaveLength(1);
      expect(summary.results.find((r) => r.host === host)?.data).toEqual({ facts: ['0', 'end\n'] });
    }
  });

  it('--check reads the facts in one batch too', async () => {
    const { summary, commands } = await run([{ name: 'reader', hosts: 'all', role: reader }], { check: true });
    expect(summary.exitCode).toBe(0);
    expect(commands('h60', 'reader').filter((c) => c.command.includes('gwfacts-'))).toHaveLength(1);
    expect(summary.results.find((r) => r.host === 'h60' && r.step === 'facts file')?.status).toBe('changed');
  });

  it('a host whose sshd is gone is unreachable; the other host reads its facts', async () => {
    await lab.stopHost('h61');
    try {
      const { summary, commands } = await run([{ name: 'reader', hosts: 'all', role: reader }]);
      expect(summary.hosts.h61).toMatchObject({ unreachable: 1 });
      expect(summary.hosts.h60).toMatchObject({ failed: 0, unreachable: 0 });
      expect(commands('h60', 'reader').filter((c) => c.command.includes('gwfacts-'))).toHaveLength(1);
    } finally {
      await lab.start(['h61']);
    }
  });
});

describe('the run lock at the head of the first read (sshd, sudo with and without a password)', () => {
  const owner = 'gatewright test run by me@here (pid 1) since 2026-12-01T00:00:00.000Z';
  const other = 'gatewright site run by ops@elsewhere (pid 9) since 2026-12-01T00:00:00.000Z';
  /** A step that sees, from the controller (the hosts are this machine), whether each host's lock is there. */
  const seen: Record<string, boolean> = {};
  const lockFile = (ws: { root: string }, host: string) => join(ws.root, `${host}.lock`);
  const checker = (ws: { root: string }) =>
    defineRole({
      name: 'checker',
      facts: [rootUid], // a root fact: the take rides its batch (a user fact would be a second command)
      steps: [defineStep({ name: 'lock there', plan: async (ctx) => ((seen[ctx.host.name] = existsSync(lockFile(ws, ctx.host.name))), []) })],
    });

  async function locked(prepare: (ws: { root: string }) => void = () => undefined) {
    const ws = labWorkspace(lab, { hostVars: { h60: {}, h61: { ansible_user: PASS_USER, ansible_become_password: BECOME_PASSWORD } } });
    const hostVars = { h60: { gatewright_lock_file: lockFile(ws, 'h60') }, h61: { ansible_user: PASS_USER, ansible_become_password: BECOME_PASSWORD, gatewright_lock_file: lockFile(ws, 'h61') } };
    writeFileSync(ws.inventory, labInventory(lab, { hostVars }));
    prepare(ws);
    const inventory = loadInventory(ws.inventory);
    const connections = new Connections({ knownHostsFile: lab.knownHostsFile, acceptNewHostKeys: false, connectTimeoutMs: 10_000, attempts: 1 });
    const lock = new RunLock(connections.get, { owner });
    const events: RunEvent[] = [];
    const playbook = definePlaybook({ name: 'locked', description: '', plays: [{ name: 'check', hosts: 'all', role: checker(ws) }] });
    const outcome = await runPlaybook(playbook, {}, {
      inventory,
      transports: lock.transports,
      lock,
      listeners: [(e) => events.push(e)],
      close: async () => {
        await lock.release();
        await connections.closeAll();
      },
    }).then(
      (summary) => ({ summary, error: undefined }),
      (error: unknown) => ({ summary: undefined, error }),
    );
    return { ...outcome, events, ws };
  }

  it('takes the lock in the batch: one command per host, the lock there while the steps run, gone after', async () => {
    const { summary, events, ws } = await locked();
    expect(summary?.exitCode).toBe(0);
    for (const host of ['h60', 'h61']) {
      const commands = events.flatMap((e) => (e.type === 'command' && e.host === host ? [e.command] : []));
      expect(commands).toHaveLength(1);
      expect(commands[0]).toContain('gwfacts-');
      expect(commands[0]).toContain('set -C');
      expect(seen[host]).toBe(true);
      expect(existsSync(lockFile(ws, host))).toBe(false);
    }
  });

  it('held on one host: refused before anything starts (LockHeldError, no event told), the other host released', async () => {
    for (const h of Object.keys(seen)) delete seen[h];
    const { error, events, ws } = await locked((w) => writeFileSync(lockFile(w, 'h61'), `${other}\n`));
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as Error).message).toContain(`h61: ${other}`);
    expect(events).toEqual([]);
    expect(seen).toEqual({});
    expect(existsSync(lockFile(ws, 'h60'))).toBe(false);
    expect(readFileSync(lockFile(ws, 'h61'), 'utf8')).toBe(`${other}\n`);
  });
});
