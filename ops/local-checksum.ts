// sha256 of a controller file (bundles are hundreds of MB), memoised in the process and kept between runs in
// the user's cache: reused while the file's path, size, inode, mtime and ctime (nanoseconds) are the same.
// Any write or replacement moves the ctime, which nobody can set back, so a changed bundle is hashed again.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { controllerCacheDir, keepInCache } from './controller-cache.ts';

type Kept = Record<string, { key: string; sha: string }>;

const inProcess = new Map<string, Promise<string>>();
let kept: Kept | undefined;

/** The checksums, 0600. */
export const checksumCacheFile = (): string => join(controllerCacheDir(), 'sha256.json');

function readKept(): Kept {
  if (!kept) {
    try {
      kept = JSON.parse(readFileSync(checksumCacheFile(), 'utf8')) as Kept;
    } catch {
      kept = {};
    }
  }
  return kept;
}

const exists = (path: string): boolean => {
  try {
    return Boolean(statSync(path));
  } catch {
    return false;
  }
};

/** Kept (ops/controller-cache.ts) with the entries of files that are gone dropped. */
function keep(path: string, key: string, sha: string): void {
  const file = checksumCacheFile();
  const all: Kept = Object.fromEntries(Object.entries(readKept()).filter(([p]) => exists(p)));
  all[path] = { key, sha };
  kept = all;
  keepInCache(file, JSON.stringify(all));
}

function hash(path: string): Promise<string> {
  return new Promise<string>((done, fail) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('error', fail).on('end', () => done(h.digest('hex')));
  });
}

/** A file that is not there rejects (callers name the variable that points at it). */
export async function localSha256(file: string): Promise<string> {
  const path = resolve(file);
  const st = statSync(path, { bigint: true });
  const key = `${st.size}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;
  let sha = inProcess.get(`${path}\0${key}`);
  if (!sha) {
    const known = readKept()[path];
    sha = known?.key === key ? Promise.resolve(known.sha) : hash(path).then((s) => (keep(path, key, s), s));
    inProcess.set(`${path}\0${key}`, sha);
  }
  return sha;
}
