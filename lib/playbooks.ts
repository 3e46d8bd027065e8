// Finding a playbook: a name in the playbook directory, or a path to a .ts file.
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from './errors.ts';
import type { Playbook } from './types.ts';

export function availablePlaybooks(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => f.slice(0, -3)).sort();
}

export async function loadPlaybook(nameOrPath: string, dir: string): Promise<Playbook> {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.ts');
  const file = resolve(isPath ? nameOrPath : `${dir}/${nameOrPath}.ts`);
  if (!existsSync(file)) {
    const known = availablePlaybooks(dir);
    throw new InputError(`no playbook "${nameOrPath}" (${file}); available in ${dir}/: ${known.join(', ') || 'none'}`);
  }
  const mod = (await import(pathToFileURL(file).href)) as { default?: Playbook };
  const pb = mod.default;
  if (!pb || !Array.isArray(pb.plays)) throw new InputError(`${file}: the default export is not a Playbook (use definePlaybook)`);
  return pb;
}
