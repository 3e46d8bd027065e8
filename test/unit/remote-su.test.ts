// The su wrapper's plumbing, run for real under dash as root (root becoming root: su asks no password, so the
// password line is read and never typed): the command's stdin, stdout, stderr and exit code stay apart, and
// hostile bytes pass through. The prompt-and-password path is proved against real sshd in become-su.test.ts.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { wrapSu } from '../../lib/remote.ts';

const asRoot = process.getuid?.() === 0;
const run = (command: string, stdin: string, user = 'root') => {
  const r = spawnSync('dash', ['-c', wrapSu(command, 30_000, user)], { input: stdin, cwd: '/tmp' });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};

describe.runIf(asRoot)('su wrapper', () => {
  it('keeps the command stdin (after the password line), stdout, stderr and exit code apart', () => {
    const r = run(`id -un; cat; echo; echo to-stderr >&2; exit 4`, "pw\nline 1\n$HOME `x` 'q' \\ end");
    expect(r).toEqual({ code: 4, stdout: "root\nline 1\n$HOME `x` 'q' \\ end\n", stderr: 'to-stderr\n' });
  });

  it('leaves no temp dir behind', () => {
    const before = spawnSync('sh', ['-c', 'ls -d /tmp/tmp.* 2>/dev/null | wc -l']).stdout.toString();
    run('true', 'pw\n');
    expect(spawnSync('sh', ['-c', 'ls -d /tmp/tmp.* 2>/dev/null | wc -l']).stdout.toString()).toBe(before);
  });

  it('refuses stdin for a user other than root (it would have to be readable by that user)', () => {
    const r = run('cat', 'pw\nsecret', 'nobody');
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('a command with stdin is refused');
  });
});
