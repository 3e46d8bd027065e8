// The version a stand-in reports: API7_VERSION from the environment, else a VERSION file baked next to
// the bundle (or the entry file when run from source), else "dev".
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function standinVersion(env: NodeJS.ProcessEnv = process.env, entry = process.argv[1] ?? ''): string {
  const fromEnv = env.API7_VERSION?.trim();
  if (fromEnv) return fromEnv;
  try {
    const baked = readFileSync(path.join(path.dirname(entry), 'VERSION'), 'utf8').trim();
    if (baked) return baked;
  } catch {
    // no baked file: fall through
  }
  return 'dev';
}
