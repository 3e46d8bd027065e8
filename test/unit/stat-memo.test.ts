// The stat memo run for real under dash (POSIX sh, as on the hosts): reused only while the file is the same.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sh } from '../../lib/shell.ts';
import { statMemoCmd } from '../../lib/stat-memo.ts';
import { parseSha256sum, sha256OrMissingCmd, shaMemo } from '../../ops/docker.ts';

const dash = existsSync('/bin/dash') ? '/bin/dash' : '/bin/sh';
const run = (command: string) => spawnSync(dash, ['-c', command], { encoding: 'utf8' });

/** A file, its memo, and a command that counts how often it really ran. */
function setup(name = "bundle 'v1'.tar.gz") {
  const dir = mkdtempSync(join(tmpdir(), 'gw-memo-'));
  const file = join(dir, name);
  const counter = join(dir, 'runs');
  writeFileSync(file, 'AAAA');
  writeFileSync(counter, '');
  const memo = `${file}.memo`;
  const command = statMemoCmd(sh`${file}`, memo, sh`echo x >> ${counter}; cat -- ${file}`);
  const runs = () => readFileSync(counter, 'utf8').split('\n').filter(Boolean).length;
  return { dir, file, memo, command, runs };
}

describe('statMemoCmd', () => {
  it('runs the read once, then answers from the memo while the file is unchanged', () => {
    const t = setup();
    expect(run(t.command)).toMatchObject({ status: 0, stdout: 'AAAA\n' });
    expect(run(t.command)).toMatchObject({ status: 0, stdout: 'AAAA\n' });
    expect(t.runs()).toBe(1);
  });

  it('reads again after a write of the same size, even with the mtime set back (the ctime moved)', () => {
    const t = setup();
    run(t.command);
    const before = statSync(t.file);
    writeFileSync(t.file, 'BBBB');
    utimesSync(t.file, before.atime, before.mtime);
    expect(run(t.command)).toMatchObject({ status: 0, stdout: 'BBBB\n' });
    expect(t.runs()).toBe(2);
  });

  it('a failing read fails the whole and keeps nothing: the next run reads again', () => {
    const t = setup();
    const failing = statMemoCmd(sh`${t.file}`, t.memo, 'echo partial; exit 3');
    expect(run(failing).status).toBe(3);
    expect(existsSync(t.memo)).toBe(false);
  });

  it('a file it cannot stat fails (unknown is not empty), inside a larger script too', () => {
    const t = setup();
    const missing = statMemoCmd(sh`${join(t.dir, 'gone')}`, t.memo, 'echo never');
    const r = run(`${missing}; echo "after=$?"`);
    expect(r.stdout).toBe('after=1\n');
  });

  it('a memo it cannot write is only a slower next run', () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: make the memo's place a file, so its folder cannot be made.
      const t = setup();
      writeFileSync(join(t.dir, 'blocked'), '');
      const command = statMemoCmd(sh`${t.file}`, join(t.dir, 'blocked', 'memo'), sh`cat -- ${t.file}`);
      expect(run(command)).toMatchObject({ status: 0, stdout: 'AAAA\n', stderr: '' });
      expect(run(command)).toMatchObject({ status: 0, stdout: 'AAAA\n' });
    } else {
      const t = setup();
      chmodSync(t.dir, 0o500);
      expect(run(t.command)).toMatchObject({ status: 0, stdout: 'AAAA\n' });
      chmodSync(t.dir, 0o700);
    }
  });
});

describe('sha256OrMissingCmd: a bundle hashed once per content', () => {
  it('prints sha256sum\'s line (from the memo on the second run), or missing', () => {
    const t = setup('b.tar.gz');
    const first = run(sha256OrMissingCmd(t.file));
    expect(first.status).toBe(0);
    expect(parseSha256sum(first.stdout)).toBe('63c1dd951ffedf6f7fd968ad4efa39b8ed584f162f46e715114ee184f8de9201');
    expect(readFileSync(shaMemo(t.file), 'utf8')).toContain('63c1dd95');
    expect(run(sha256OrMissingCmd(t.file)).stdout).toBe(first.stdout);
    expect(run(sha256OrMissingCmd(join(t.dir, 'none.tar.gz'))).stdout).toBe('missing\n');
  });
});
