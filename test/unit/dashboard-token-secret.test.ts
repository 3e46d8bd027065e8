// The console token secret: random, generated once, kept 0600 on every control host and the same on all of
// them; a rerun keeps it; the variable overrides it; an unreadable file stops the step instead of replacing it.
import { describe, expect, it } from 'vitest';
import { FactCache } from '../../lib/facts.ts';
import { makeContext } from '../../lib/context.ts';
import { readFileCommand } from '../../lib/files.ts';
import { makePlayShared } from '../../lib/play-shared.ts';
import { Redactor } from '../../lib/redact.ts';
import type { PlayShared, StepContext } from '../../lib/types.ts';
import { tokenSecret, tokenSecretChanges } from '../../roles/dashboard/token-secret.ts';
import { fakeFleet, fakeInventory, type Responder } from '../helpers/fake-transport.ts';
import { applyChange } from '../../lib/change.ts';

const FILE = '/opt/api7/dashboard_jwt_secret';
const inventory = fakeInventory({ control: ['c1', 'c2'], etcd: ['c1', 'c2'] });

/** `files`: host -> the secret on it; 'unreadable' answers the read with a failed sudo. */
function fleet(files: Record<string, string | 'unreadable'>, unreachable: string[] = []) {
  const respond: Responder = (cmd, host) => {
    if (cmd !== readFileCommand(FILE)) return undefined;
    const f = files[host];
    if (f === 'unreadable') return { code: 1, stderr: 'sudo: a terminal is required' };
    return { stdout: f === undefined ? 'missing\n' : `600 root root\n${f}\n` };
  };
  const f = fakeFleet(respond, unreachable);
  const redactor = new Redactor();
  const shared = makePlayShared([...inventory.hosts.values()]);
  const ctx = (host: string, vars: Record<string, unknown> = {}, play: PlayShared = shared): StepContext =>
    makeContext(
      inventory.hosts.get(host)!,
      { play: 'dashboard', step: 'console token secret', origin: host, shared: play, defaults: vars, resolveHost: (n) => inventory.hosts.get(n)! },
      { inventory, facts: new FactCache(), transports: f.factory, redactor, emit: () => undefined, check: false, verbose: false },
    );
  return { f, ctx, redactor };
}

const written = (f: ReturnType<typeof fakeFleet>, host: string) => f.transports.get(host)?.puts.filter((p) => p.path === FILE) ?? [];

describe('console token secret', () => {
  it('none yet: one random secret, the same 0600 root file on both control hosts and in both confs', async () => {
    const { f, ctx, redactor } = fleet({});
    const [c1, c2] = [ctx('c1'), ctx('c2')];
    // Both hosts plan before either applies, as the runner's parallel hosts do.
    const planned = [[c1, await tokenSecretChanges(c1)], [c2, await tokenSecretChanges(c2)]] as const;
    for (const [host, changes] of planned) for (const c of changes) await applyChange(host, c);
    const [w1, w2] = [written(f, 'c1'), written(f, 'c2')];
    expect(w1).toHaveLength(1);
    expect(w1[0].content).toMatch(/^[0-9a-f]{64}\n$/);
    expect(w2[0].content).toBe(w1[0].content);
    expect(w1[0].opts).toMatchObject({ mode: 0o600, owner: 'root:root', become: true });
    expect(tokenSecret(c1)).toBe(w1[0].content.trim());
    expect(tokenSecret(c2)).toBe(tokenSecret(c1));
    expect(redactor.redact(tokenSecret(c1))).not.toContain(tokenSecret(c1));
    expect(planned.flatMap(([, changes]) => changes).every((c) => c.diff?.includes('(content hidden: secret)'))).toBe(true);
  });

  it('another run generates another one: it is random', async () => {
    const a = fleet({});
    const b = fleet({});
    await tokenSecretChanges(a.ctx('c1'));
    await tokenSecretChanges(b.ctx('c1'));
    expect(tokenSecret(a.ctx('c1'))).not.toBe(tokenSecret(b.ctx('c1')));
  });

  it('kept on a rerun: both files hold it, nothing changes', async () => {
    const { ctx } = fleet({ c1: 'a'.repeat(64), c2: 'a'.repeat(64) });
    expect(await tokenSecretChanges(ctx('c1'))).toEqual([]);
    expect(await tokenSecretChanges(ctx('c2'))).toEqual([]);
    expect(tokenSecret(ctx('c2'))).toBe('a'.repeat(64));
  });

  it('a new (or rebuilt) control host gets the secret the other one has', async () => {
    const { f, ctx } = fleet({ c2: 'b'.repeat(64) });
    expect(await tokenSecretChanges(ctx('c2'))).toEqual([]);
    for (const c of await tokenSecretChanges(ctx('c1'))) await applyChange(ctx('c1'), c);
    expect(written(f, 'c1')[0].content).toBe(`${'b'.repeat(64)}\n`);
  });

  it('an unreachable control host has no say; the reachable one keeps its secret', async () => {
    const { ctx } = fleet({ c2: 'c'.repeat(64) }, ['c1']);
    expect(await tokenSecretChanges(ctx('c2'))).toEqual([]);
    expect(tokenSecret(ctx('c2'))).toBe('c'.repeat(64));
  });

  it('a file that cannot be read stops the step: never replaced by a new secret', async () => {
    const { f, ctx } = fleet({ c1: 'unreadable', c2: 'd'.repeat(64) });
    await expect(tokenSecretChanges(ctx('c2'))).rejects.toThrow(/cannot read \/opt\/api7\/dashboard_jwt_secret on c1/);
    expect(written(f, 'c2')).toEqual([]);
  });

  it('dashboard_jwt_secret overrides it', () => {
    const { ctx } = fleet({});
    expect(tokenSecret(ctx('c1', { dashboard_jwt_secret: 'from-the-vault' }))).toBe('from-the-vault');
  });

  it('conf.yaml cannot be rendered before the step settled the secret', () => {
    const { ctx } = fleet({});
    expect(() => tokenSecret(ctx('c1', {}, makePlayShared([])))).toThrow(/step "console token secret" must run before conf.yaml/);
  });
});
