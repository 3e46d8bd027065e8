// The controller's bundle checksum, kept between runs: reused only while the file is the same one, unchanged.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const SHA_AAAA = '63c1dd951ffedf6f7fd968ad4efa39b8ed584f162f46e715114ee184f8de9201';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-sum-'));
  vi.stubEnv('XDG_CACHE_HOME', join(dir, 'cache'));
  vi.resetModules(); // a fresh process: nothing memoised in memory
});

const fresh = async () => (await import('../../ops/local-checksum.ts'));

describe('localSha256', () => {
  it('hashes once, keeps the sum in the user cache (0600), and a new process answers from it', async () => {
    const file = join(dir, 'b.tar.gz');
    writeFileSync(file, 'AAAA');
    const first = await fresh();
    expect(await first.localSha256(file)).toBe(SHA_AAAA);
    const cache = first.checksumCacheFile();
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    // The proof it is reused: plant a different sum under the same key; a new process returns the planted one.
    const kept = JSON.parse(readFileSync(cache, 'utf8'));
    kept[file].sha = 'planted';
    writeFileSync(cache, JSON.stringify(kept));
    vi.resetModules();
    expect(await (await fresh()).localSha256(file)).toBe('planted');
  });

  it('a rewrite of the same size with the mtime set back is hashed again (the ctime moved)', async () => {
    const file = join(dir, 'b.tar.gz');
    writeFileSync(file, 'AAAA');
    const m = await fresh();
    expect(await m.localSha256(file)).toBe(SHA_AAAA);
    const before = statSync(file);
    writeFileSync(file, 'BBBB');
    utimesSync(file, before.atime, before.mtime);
    vi.resetModules();
    const want = spawnSync('sha256sum', [file], { encoding: 'utf8' }).stdout.split(' ')[0];
    expect(await (await fresh()).localSha256(file)).toBe(want);
    expect(want).not.toBe(SHA_AAAA);
  });

  it('drops the entries of files that are gone when it keeps a new one', async () => {
    const a = join(dir, 'a.tar.gz');
    const b = join(dir, 'b.tar.gz');
    writeFileSync(a, 'AAAA');
    writeFileSync(b, 'BBBB');
    const m = await fresh();
    await m.localSha256(a);
    rmSync(a);
    await m.localSha256(b);
    expect(Object.keys(JSON.parse(readFileSync(m.checksumCacheFile(), 'utf8')))).toEqual([b]);
  });

  it('a missing file fails; an unwritable cache is only a slower next run', async () => {
    const m = await fresh();
    await expect(m.localSha256(join(dir, 'none'))).rejects.toThrow(/ENOENT/);
    writeFileSync(join(dir, 'cache'), 'a file where the folder should be');
    const file = join(dir, 'b.tar.gz');
    writeFileSync(file, 'AAAA');
    expect(await m.localSha256(file)).toBe(SHA_AAAA);
  });
});
