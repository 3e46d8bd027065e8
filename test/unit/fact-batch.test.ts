import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { batchScript, FactBatchError, newNonce, parseBatch } from '../../lib/fact-batch.ts';
import type { ExecResult } from '../../lib/types.ts';

// Real shells: the batch runs under dash (Debian's sh), bash and bash --posix; each fact inside it is compared
// with the same command run alone as the transport runs it (`sh -c <command>`).
const SHELLS: [string, string[]][] = [
  ['dash', []],
  ['bash', []],
  ['bash --posix', ['--posix']],
];

const exec = (shell: string, args: string[], input = 'stdin the facts must not read\n'): ExecResult => {
  const r = spawnSync(shell, args, { input, maxBuffer: 64 << 20 });
  const code = r.status ?? -1;
  return { code, stdout: r.stdout.toString(), stderr: r.stderr.toString(), ok: code === 0 };
};
const alone = (command: string) => exec('sh', ['-c', command], '');
const batch = (shell: [string, string[]], commands: string[], nonce = newNonce(), foreground?: Set<number>) => {
  const run = exec(shell[0].split(' ')[0], [...shell[1], '-c', batchScript(commands, nonce, { foreground })]);
  return { run, nonce, results: () => parseBatch(run, commands.length, nonce) };
};

const HOSTILE: Record<string, string> = {
  'plain line': 'echo hi',
  'no trailing newline': "printf 'no newline'",
  'empty output': 'true',
  'only newlines': "printf '\\n\\n\\n'",
  'marker lookalikes': "printf 'gwfacts-00000000000000000000000000000000 1 out\\n'; printf '%s\\n' 'gwfacts-x 0 rc 0' 'gwfacts-x end' ' 0 err' '$n begin' >&2",
  'binary-ish bytes': "printf 'a\\000b\\001\\002\\377\\376 tab\\there\\r\\n'",
  'stderr interleaved': 'echo o1; echo e1 >&2; echo o2; echo e2 >&2; printf o3',
  'stderr without newline': "printf 'err no nl' >&2",
  'stderr ending in a number': 'echo "x 5" >&2; exit 2',
  'exit 1': 'exit 1',
  'not found (127)': 'gw-no-such-command --version',
  'exit 3 midway': 'echo before; exit 3; echo after',
  'reads stdin': 'cat; echo read-done',
  'syntax error': "echo 'unbalanced",
  'exec': 'exec echo replaced',
  'changes its cwd': 'cd / && pwd',
  'sets the script variables': 'e=leak; n=leak; echo set',
  'sees the cwd and no leak': 'pwd; echo "[$e$n]"',
  'huge stdout (1 MB)': "head -c 1048576 /dev/zero | tr '\\0' a",
  'huge stdout, many lines': 'seq 1 150000',
  'huge stderr': 'seq 1 50000 >&2',
};

describe('fact batch: one script, each fact as if run alone', () => {
  for (const shell of SHELLS) {
    it(`under ${shell[0]}: every hostile fact gives what it gives alone`, () => {
      const names = Object.keys(HOSTILE);
      const { run, results } = batch(shell, Object.values(HOSTILE));
      expect(run.code).toBe(0);
      const got = results();
      names.forEach((name, i) => expect({ name, ...got[i] }).toEqual({ name, ...alone(HOSTILE[name]) }));
    });

    it(`under ${shell[0]}: the same in the foreground (secrets) and mixed with the background`, () => {
      const names = Object.keys(HOSTILE);
      const every = new Set(names.map((_, i) => i));
      const odd = new Set(names.flatMap((_, i) => (i % 2 ? [i] : [])));
      for (const foreground of [every, odd]) {
        const { run, results } = batch(shell, Object.values(HOSTILE), newNonce(), foreground);
        expect(run.code).toBe(0);
        const got = results();
        names.forEach((name, i) => expect({ name, ...got[i] }).toEqual({ name, ...alone(HOSTILE[name]) }));
      }
    });
  }

  it('background facts run side by side (the first sees what the second does), and the temp dir is gone after', () => {
    const tmp = spawnSync('mktemp', ['-d']).stdout.toString().trim();
    const flag = `${tmp}-flag`;
    // In a row, the first would give up after 5 s without the flag the second one creates.
    const waits = `i=0; while [ ! -e ${flag} ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; [ -e ${flag} ] && echo saw`;
    const r = spawnSync('dash', ['-c', batchScript([waits, `touch ${flag}; echo made`], 'N')], { env: { ...process.env, TMPDIR: tmp } });
    expect(parseBatch({ code: r.status ?? -1, stdout: r.stdout.toString(), stderr: '', ok: r.status === 0 }, 2, 'N').map((x) => x.stdout)).toEqual(['saw\n', 'made\n']);
    expect(spawnSync('ls', ['-A', tmp]).stdout.toString()).toBe('');
    spawnSync('rm', ['-rf', tmp, flag]);
  });

  it('exit codes, the stdin a fact reads and a fact that exits, spelled out', () => {
    const [ok, one, missing, exits, stdin] = batch(SHELLS[0], ['echo ok', 'exit 1', 'gw-no-such-command', 'echo before; exit 3', 'cat; echo read-done']).results();
    expect([ok.code, one.code, missing.code, exits.code]).toEqual([0, 1, 127, 3]);
    expect([ok.ok, one.ok]).toEqual([true, false]);
    expect(exits.stdout).toBe('before\n');
    expect(stdin).toEqual({ code: 0, stdout: 'read-done\n', stderr: '', ok: true });
  });

  it.each(SHELLS)("under %s: the batch's stdin goes to the one fact given it (in the foreground), no other reads it", (...shell) => {
    const nonce = newNonce();
    const commands = ['cat; echo bg-done', 'cat; echo login-done', 'cat; echo fg-done'];
    const script = batchScript(commands, nonce, { foreground: new Set([1, 2]), stdin: 1 });
    const run = exec(shell[0].split(' ')[0], [...shell[1], '-c', script], 'the login config\n');
    expect(parseBatch(run, 3, nonce).map((r) => r.stdout)).toEqual(['bg-done\n', 'the login config\nlogin-done\n', 'fg-done\n']);
    expect(() => batchScript(commands, nonce, { stdin: 0 })).toThrow(/must run in the foreground/);
  });

  it('a single fact and no fact at all', () => {
    expect(batch(SHELLS[0], ['printf x']).results()).toEqual([{ code: 0, stdout: 'x', stderr: '', ok: true }]);
    expect(batch(SHELLS[0], []).results()).toEqual([]);
  });
});

describe('fact batch: a batch that did not complete is a failed read of every fact', () => {
  const commands = ['echo one', 'printf two >&2', 'seq 1 1000', 'exit 4'];
  const { run, nonce } = batch(SHELLS[0], commands);

  it('cut anywhere before its end marker', () => {
    const cuts = [0, 1, 10, run.stdout.length >> 2, run.stdout.length >> 1, run.stdout.length - `${nonce} end\n`.length, run.stdout.length - 2, run.stdout.length - 1];
    for (const cut of cuts) {
      expect(() => parseBatch({ ...run, stdout: run.stdout.slice(0, cut) }, commands.length, nonce), `cut at ${cut}`).toThrow(FactBatchError);
    }
    expect(parseBatch(run, commands.length, nonce)).toHaveLength(4);
  });

  it('a whole output with a failed exit (the remote timeout, a signal) is still no answer', () => {
    for (const code of [124, -1, 1, 137]) expect(() => parseBatch({ ...run, code, ok: false }, commands.length, nonce)).toThrow(FactBatchError);
  });

  it('sudo refused: no output, exit 1, the reason in the message', () => {
    expect(() => parseBatch({ code: 1, stdout: '', stderr: 'sudo: a password is required\n', ok: false }, 2, nonce)).toThrow(/did not complete \(exit 1\).*\n.*a password is required/s);
  });

  it("another batch's output (another nonce) is not this one's", () => {
    expect(() => parseBatch(run, commands.length, newNonce())).toThrow(FactBatchError);
  });

  it('a fact that outlives the batch timeout: the whole batch times out, no fact is read', () => {
    const script = batchScript(['echo fast', 'sleep 5', 'echo never'], nonce);
    const r = exec('timeout', ['0.5', 'dash', '-c', script]);
    expect(r.code).toBe(124);
    expect(r.stdout).toContain(`${nonce} begin`);
    expect(r.stdout).not.toContain(`${nonce} end`);
    expect(() => parseBatch(r, 3, nonce)).toThrow(FactBatchError);
  });
});

describe('fact batch script', () => {
  it('quotes every command into its own sh -c and marks sections with the nonce only', () => {
    const script = batchScript(["echo 'a'", 'true'], 'N', { foreground: new Set([1]) });
    expect(script.split('\n')).toEqual([
      'n=N',
      `d=$(umask 077 && mktemp -d "\${TMPDIR:-/tmp}/gwfacts.XXXXXX") || exit 1`,
      `trap 'rm -rf "$d"' EXIT; trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM`,
      // Its whole section into one file: stdout after the marker, stderr only if any, the code from $?.
      `( printf '%s 0 out\\n' "$n"; sh -c 'echo '\\''a'\\''' </dev/null 2>"$d/0.err"; r=$?; printf '\\n%s 0 err\\n' "$n"; if [ -s "$d/0.err" ]; then cat "$d/0.err"; fi; printf '\\n%s 0 rc %s\\n' "$n" "$r" ) >"$d/0" & p0=$!`,
      `printf '%s begin\\n' "$n"`,
      `wait "$p0"; cat "$d/0"`,
      `printf '%s 1 out\\n' "$n"; { e=$(sh -c true </dev/null 2>&1 >&3 3>&-; printf ' %s' "$?"); } 3>&1; printf '\\n%s 1 err\\n%s\\n%s 1 rc %s\\n' "$n" "\${e% *}" "$n" "\${e##* }"`,
      `printf '%s end\\n' "$n"`,
    ]);
    // A run of background facts: one wait and one cat for all of them, in order.
    expect(batchScript(['a', 'b', 'c'], 'N').split('\n').at(-2)).toBe(`wait "$p0" "$p1" "$p2"; cat "$d/0" "$d/1" "$d/2"`);
    // Only foreground facts: no temp dir at all.
    expect(batchScript(['true'], 'N', { foreground: new Set([0]) })).not.toContain('mktemp');
  });

  it('a new nonce for every batch', () => {
    expect(newNonce()).toMatch(/^gwfacts-[0-9a-f]{32}$/);
    expect(newNonce()).not.toBe(newNonce());
  });
});
