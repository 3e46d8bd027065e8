// manifest.json of an image tarball (which image IDs and tags it holds), read from the controller's copy of the
// bundle once per bundle checksum and kept in the user's cache. Reading it decompresses the tarball: done on
// each host, that was seconds of CPU per host on a first deploy or an upgrade; here once, for every host.
// The host's copy is byte-identical (checked by sha256 on upload, stamped on unpack). Anything that goes wrong
// here answers undefined: the host reads its own copy as before.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sh } from '../lib/shell.ts';
import { controllerCacheDir, keepInCache } from './controller-cache.ts';
import { parseTarballManifest } from './docker.ts';

const run = promisify(execFile);
const inProcess = new Map<string, Promise<string | undefined>>();

/** A tarball's own manifest.json, or that of an image tarball inside it (`inner`: its file name, e.g. under images/). */
export const localManifestCmd = (tarball: string, inner?: string): string => {
  const z = (name: string) => (name.endsWith('.tar') ? '' : 'z');
  if (!inner) return sh`tar -x${z(tarball)}Of ${tarball} manifest.json`;
  return sh`tar -x${z(tarball)}Of ${tarball} --wildcards --no-anchored ${`images/${inner}`} | tar -x${z(inner)}Of - manifest.json`;
};

async function read(file: string, command: string): Promise<string | undefined> {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    // not kept yet
  }
  try {
    const { stdout } = await run('sh', ['-c', command], { maxBuffer: 16 * 1024 * 1024 });
    parseTarballManifest(stdout); // only a manifest that reads is kept
    keepInCache(file, stdout);
    return stdout;
  } catch {
    return undefined;
  }
}

/**
 * manifest.json of the controller's `tarball` (checksum `sha`), or of the image tarball `inner` in it; undefined
 * when it cannot be read here (no GNU tar, no such member): the caller reads the host's copy.
 */
export function localManifest(tarball: string, sha: string, inner?: string): Promise<string | undefined> {
  const name = `${sha}${inner ? `-${inner.replace(/[^A-Za-z0-9._-]/g, '_')}` : ''}.json`;
  let manifest = inProcess.get(name);
  if (!manifest) {
    manifest = read(join(controllerCacheDir(), 'manifests', name), localManifestCmd(tarball, inner));
    inProcess.set(name, manifest);
  }
  return manifest;
}
