// Variable values: the connection vars we understand (validated), env and file lookups, and -e extra vars.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from './errors.ts';
import { readYaml, yamlError, type YamlSource } from './yaml-source.ts';
import type { Vars } from './types.ts';

const port = z.coerce.number().int().min(1).max(65535);
const bool = z.union([z.boolean(), z.enum(['yes', 'no', 'true', 'false', 'True', 'False'])]);

/** The ansible_* / ssh_* vars the runner reads; other vars pass through untouched. */
export const connectionVars = z.looseObject({
  ansible_host: z.string().min(1).optional(),
  ansible_port: port.optional(),
  ansible_user: z.string().min(1).optional(),
  ansible_ssh_private_key_file: z.string().min(1).optional(),
  ansible_become: bool.optional(),
  ansible_become_password: z.string().optional(),
  ansible_connection: z.enum(['ssh', 'local']).optional(),
  ansible_ssh_common_args: z.string().optional(),
  ssh_jump_host: z.string().min(1).optional(),
  ssh_known_hosts_file: z.string().min(1).optional(),
  command_timeout: z.coerce.number().positive().optional(),
});

export const asBool = (v: unknown): boolean => v === true || v === 'yes' || v === 'true' || v === 'True';

/** Validates a vars mapping read from `src` at `path`; errors point at the offending key's line. */
export function checkVars(src: YamlSource, path: (string | number)[], vars: unknown): Vars {
  if (vars === null || vars === undefined) return {};
  if (typeof vars !== 'object' || Array.isArray(vars)) throw yamlError(src, path, 'expected a mapping of variables');
  const result = connectionVars.safeParse(vars);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw yamlError(src, [...path, ...(issue.path as (string | number)[])], issue.message);
  }
  return resolveLookups(src, path, vars as Vars);
}

const LOOKUP = /\{\{\s*lookup\(\s*['"](env|file)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*\}\}/g;

/**
 * `"{{ lookup('env', 'NAME') }}"` becomes $NAME and `"{{ lookup('file', 'path') }}"` the file's content
 * without its trailing newline (a relative path is taken from the inventory file's folder): ways to keep
 * passwords out of inventory files.
 */
function resolveLookups(src: YamlSource, path: (string | number)[], vars: Vars): Vars {
  const walk = (value: unknown, at: (string | number)[]): unknown => {
    if (typeof value === 'string') {
      return value.replace(LOOKUP, (_, kind: string, arg: string) => {
        if (kind === 'env') {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg)) throw yamlError(src, at, `lookup('env', '${arg}'): not a variable name`);
          const env = process.env[arg];
          if (env === undefined) throw yamlError(src, at, `environment variable ${arg} is not set`);
          return env;
        }
        const file = resolve(dirname(src.file), arg);
        if (!existsSync(file)) throw yamlError(src, at, `lookup('file', '${arg}'): ${file} does not exist`);
        return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...at, i]));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...at, k])]));
    }
    return value;
  };
  return walk(vars, path) as Vars;
}

/** `-e key=value`, `-e @file.yaml`, `-e '{"k": 1}'` (YAML/JSON mapping); later ones win. */
export function parseExtraVars(items: readonly string[]): Vars {
  const out: Vars = {};
  for (const item of items) {
    if (item.startsWith('@')) {
      const file = item.slice(1);
      if (!existsSync(file)) throw new InputError(`-e ${item}: file not found`);
      const src = readYaml(file);
      Object.assign(out, checkVars(src, [], src.data));
    } else if (item.trimStart().startsWith('{')) {
      const src = readYaml('-e', item);
      Object.assign(out, checkVars(src, [], src.data));
    } else {
      const eq = item.indexOf('=');
      if (eq < 1) throw new InputError(`-e ${item}: expected key=value, @file.yaml or a {…} mapping`);
      out[item.slice(0, eq)] = item.slice(eq + 1);
    }
  }
  return out;
}
