// What the launcher's build is made from, and its fingerprint. A build is current while every source file
// is where it was, with the same size and mtime: a role edited a second ago makes a new fingerprint, so a
// developer who reruns never runs stale code.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The layers, the launcher itself, and what decides the packages and the compiler's settings. */
export const SOURCE_DIRS = ['lib', 'vars', 'facts', 'ops', 'roles', 'playbooks', 'bin'];
export const SOURCE_FILES = ['package.json', 'package-lock.json', 'tsconfig.json'];

/** @typedef {{ path: string, size: number, mtimeMs: number }} Source */

/**
 * Every source file under `root`, by path from `root`, sorted.
 * @param {string} root
 */
export function listSources(root) {
  /** @type {Source[]} */
  const found = [];
  const walk = (/** @type {string} */ rel) => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) found.push(stat(root, path));
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  for (const file of SOURCE_FILES) found.push(stat(root, file));
  return found.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** @returns {Source} */
function stat(/** @type {string} */ root, /** @type {string} */ path) {
  const s = statSync(join(root, path));
  return { path, size: s.size, mtimeMs: s.mtimeMs };
}

/**
 * One name for the sources as they are: the checkout's folder (the build holds its absolute paths) and each
 * file's path, size and mtime. A file added, removed, edited or put back as an older copy changes it.
 * @param {string} root
 * @param {Source[]} sources
 */
export function fingerprint(root, sources) {
  const hash = createHash('sha256').update(`${root}\n`);
  for (const s of sources) hash.update(`${s.path}\t${s.size}\t${s.mtimeMs}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** The shipped playbooks: `playbooks/<name>.ts`, as the CLI lists them (lib/playbooks.ts). */
export const shippedPlaybooks = (/** @type {Source[]} */ sources) =>
  sources.flatMap((s) => /^playbooks\/([^/]+)(?<!\.test)\.ts$/.exec(s.path)?.slice(1, 2) ?? []);
