// Finding a playbook: a name in the playbook directory, or a path to a .ts file.
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from './errors.ts';
import type { Playbook } from './types.ts';

/**
 * Loads a playbook file's module. Node's own import under tsx; the launcher (bin/play.mjs) hands in its
 * build of the shipped playbooks instead, as plain node cannot import a .ts file.
 */
export type PlaybookImport = (file: string) => Promise<unknown>;

const importFile: PlaybookImport = (file) => import(pathToFileURL(file).href);

export function availablePlaybooks(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => f.slice(0, -3)).sort();
}

/** The absolute file a playbook argument names: a path as given, or a name in the playbook directory. */
export function playbookFile(nameOrPath: string, dir: string): string {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.ts');
  return resolve(isPath ? nameOrPath : `${dir}/${nameOrPath}.ts`);
}

export async function loadPlaybook(nameOrPath: string, dir: string, importModule: PlaybookImport = importFile): Promise<Playbook> {
  const file = playbookFile(nameOrPath, dir);
  if (!existsSync(file)) {
    const known = availablePlaybooks(dir);
    throw new InputError(`no playbook "${nameOrPath}" (${file}); available in ${dir}/: ${known.join(', ') || 'none'}`);
  }
  const mod = (await importModule(file)) as { default?: Playbook };
  const pb = mod.default;
  if (!pb || !Array.isArray(pb.plays)) throw new InputError(`${file}: the default export is not a Playbook (use definePlaybook)`);
  return pb;
}
