// The controller's cache of what the bundles hold (checksums, image manifests): the user's own folder, files
// 0600, each written whole (a temp file renamed into place). Only a cache: one that cannot be written is a slower
// next run, never an error.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** `$XDG_CACHE_HOME/gatewright` (or ~/.cache/gatewright). */
export const controllerCacheDir = (): string => join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'gatewright');

/** Writes `file` whole, 0600 in a 0700 folder; a failure is ignored (see above). */
export function keepInCache(file: string, content: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, content, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // a slower next run
  }
}
