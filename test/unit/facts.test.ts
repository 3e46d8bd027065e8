import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { UnreachableError } from '../../lib/errors.ts';
import { FactBatchError } from '../../lib/fact-batch.ts';
import { FactCache } from '../../lib/facts.ts';
import { defineFact, type ExecOptions, type ExecResult } from '../../lib/types.ts';

// A run function that runs each command for real under dash and counts the calls (and their `become`).
function scripted(fail?: (command: string) => Partial<ExecResult> | Error | undefined) {
  const calls: { command: string; become?: boolean; stdin?: string; secretOutput?: boolean }[] = [];
  const run = async (command: string, opts: ExecOptions = {}): Promise<ExecResult> => {
    calls.push({ command, become: opts.become, ...(opts.stdin === undefined ? {} : { stdin: String(opts.stdin), secretOutput: opts.secretOutput }) });
    const forced = fail?.(command);
    if (forced instanceof Error) throw forced;
    const r = spawnSync('dash', ['-c', command], { input: opts.stdin ?? '' });
    const code = r.status ?? -1;
    return { code, stdout: r.stdout.toString(), stderr: r.stderr.toString(), ok: code === 0, ...forced };
  };
  return { run, calls };
}

const text = (name: string, command: string, become?: boolean) => defineFact({ name, command, become, parse: (r) => (r.ok ? r.stdout.trim() : `exit ${r.code}`) });
const FACTS = [text('kernel', 'echo 6.1'), text('cpus', 'echo 4'), text('os', "printf 'debian'"), text('missing', 'exit 1')];

describe('FactCache.prefetch', () => {
  it('one command for N facts, then N gets run nothing; fresh re-reads one fact alone', async () => {
    const cache = new FactCache();
    const { run, calls } = scripted();
    await cache.prefetch('h1', FACTS, run);
    expect(calls).toHaveLength(1);
    expect(await Promise.all(FACTS.map((f) => cache.get('h1', f, run)))).toEqual(['6.1', '4', 'debian', 'exit 1']);
    expect(calls).toHaveLength(1);
    expect(await cache.get('h1', FACTS[1], run, { fresh: true })).toBe('4');
    expect(calls.map((c) => c.command)).toEqual([expect.stringContaining('gwfacts-'), 'echo 4']);
  });

  it('a read taken before a change is no longer current: prefetch and `current` read it again, a plain get does not', async () => {
    const cache = new FactCache();
    const { run, calls } = scripted();
    await cache.prefetch('h1', FACTS, run);
    expect(await cache.get('h1', FACTS[0], run, { current: true })).toBe('6.1');
    expect(calls).toHaveLength(1);
    cache.changed();
    expect(await cache.get('h1', FACTS[0], run)).toBe('6.1');
    expect(calls).toHaveLength(1);
    expect(await cache.get('h1', FACTS[0], run, { current: true })).toBe('6.1');
    expect(calls.map((c) => c.command).slice(1)).toEqual(['echo 6.1']);
    // Now current again; the three others are not, and one batch reads them.
    await cache.prefetch('h1', FACTS, run);
    expect(calls).toHaveLength(3);
    expect(calls[2].command).toContain('gwfacts-');
    expect(calls[2].command).not.toContain('echo 6.1');
    await cache.prefetch('h1', FACTS, run);
    expect(calls).toHaveLength(3);
  });

  it('memoised facts are not read again; a single fact left runs as itself', async () => {
    const cache = new FactCache();
    const { run, calls } = scripted();
    await Promise.all(FACTS.slice(0, 3).map((f) => cache.get('h1', f, run)));
    await cache.prefetch('h1', FACTS, run);
    expect(calls.map((c) => c.command)).toEqual(['echo 6.1', 'echo 4', "printf 'debian'", 'exit 1']);
    await cache.prefetch('h1', FACTS, run);
    expect(calls).toHaveLength(4);
  });

  it('per host: another host is read on its own', async () => {
    const cache = new FactCache();
    const { run, calls } = scripted();
    await cache.prefetch('h1', FACTS, run);
    await cache.get('h2', FACTS[0], run);
    expect(calls).toHaveLength(2);
  });

  it('root and user facts: one batch each, with the become the facts ask for; the same command as root and as user are two facts', async () => {
    const cache = new FactCache();
    const { run, calls } = scripted();
    const root = [text('id root', 'echo uid-r', true), text('data dir', 'echo /srv', true)];
    const user = [text('id', 'echo uid-u'), text('home', 'echo /home/u')];
    await cache.prefetch('h1', [root[0], user[0], root[1], user[1], text('id as root', 'echo uid-u', true)], run);
    expect(calls.map((c) => c.become)).toEqual([true, undefined]);
    expect(await cache.get('h1', text('id as root', 'echo uid-u', true), run)).toBe('uid-u');
    expect(await cache.get('h1', root[1], run)).toBe('/srv');
    expect(calls).toHaveLength(2);
  });

  it('a batch that did not complete memoises nothing: prefetch throws, each get then reads its fact alone (never an empty answer)', async () => {
    const cache = new FactCache();
    const { run, calls } = scripted((c) => (c.includes('gwfacts-') ? { code: 124, stdout: '', ok: false } : undefined));
    await expect(cache.prefetch('h1', FACTS, run)).rejects.toThrow(FactBatchError);
    expect(await cache.get('h1', FACTS[0], run)).toBe('6.1');
    expect(calls.map((c) => c.command).slice(1)).toEqual(['echo 6.1']);
  });

  it('a get waiting on a batch that fails gets the failure, not an empty fact', async () => {
    const cache = new FactCache();
    const { run } = scripted((c) => (c.includes('gwfacts-') ? { stdout: 'cut mid-wa' } : undefined));
    const prefetch = cache.prefetch('h1', FACTS, run);
    const waiting = cache.get('h1', FACTS[0], run);
    await expect(prefetch).rejects.toThrow(FactBatchError);
    await expect(waiting).rejects.toThrow(FactBatchError);
  });

  it('a lost connection comes out of prefetch as it is (the runner makes the host unreachable)', async () => {
    const cache = new FactCache();
    const { run } = scripted(() => new UnreachableError('h1', 'connection to h1 lost'));
    await expect(cache.prefetch('h1', FACTS, run)).rejects.toThrow(UnreachableError);
  });

  it("a fact with stdin gets the batch's stdin, first and alone of all its facts; a second one is read by itself when asked", async () => {
    const cache = new FactCache();
    const { run, calls } = scripted();
    const login = defineFact({ name: 'login', command: 'cat; echo logged-in', stdin: 'secret-config\n', parse: (r) => r.stdout });
    const second = defineFact({ name: 'second login', command: 'cat; echo second', stdin: 'other-config\n', parse: (r) => r.stdout });
    const reader = text('reads stdin', 'cat; echo done');
    await cache.prefetch('h1', [FACTS[0], reader, login, second, FACTS[1]], run);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ stdin: 'secret-config\n', secretOutput: true });
    // It runs first (beside the background facts, not after those listed before it), its results in place.
    expect(calls[0].command).toMatch(/\nprintf '%s 0 out\\n' "\$n"; \{ e=\$\(sh -c 'cat; echo logged-in' 2>&1/);
    expect(await Promise.all([FACTS[0], reader, login, FACTS[1]].map((f) => cache.get('h1', f, run)))).toEqual(['6.1', 'done', 'secret-config\nlogged-in\n', '4']);
    expect(calls).toHaveLength(1);
    expect(await cache.get('h1', second, run)).toBe('other-config\nsecond\n');
    expect(calls.slice(1)).toEqual([{ command: 'cat; echo second', stdin: 'other-config\n', secretOutput: undefined }]);
  });

  it("one fact's parse error stays with that fact", async () => {
    const cache = new FactCache();
    const { run, calls } = scripted();
    const broken = defineFact({ name: 'broken', command: 'echo x', parse: () => { throw new Error('cannot parse x'); } });
    await cache.prefetch('h1', [FACTS[0], broken], run);
    expect(await cache.get('h1', FACTS[0], run)).toBe('6.1');
    await expect(cache.get('h1', broken, run)).rejects.toThrow('cannot parse x');
    expect(calls).toHaveLength(2); // the failed parse is not memoised: that get read it again
  });
});
