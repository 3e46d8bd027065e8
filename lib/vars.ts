// Variable values: the connection vars the runner reads (validated), where each value was written, env and
// file lookups, -e extra vars, and the load-time check of a playbook's variables (its schema lives in vars/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from './errors.ts';
import type { Keyring } from './vault.ts';
import { readYaml, yamlError, type YamlSource } from './yaml-source.ts';
import type { Host, VariableSchema, Vars } from './types.ts';

/** Ansible's booleans (its `bool` filter): strings case-insensitively. Anything else is not a boolean. */
const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);
export function parseBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v !== 'string') return undefined;
  const s = v.toLowerCase();
  return TRUE.has(s) ? true : FALSE.has(s) ? false : undefined;
}

/** The one boolean, integer and port of every variable check (the connection vars here, the stack's in vars/). */
export const bool = z.unknown().transform((v, ctx) => {
  const b = parseBool(v);
  if (b === undefined) ctx.addIssue({ code: 'custom', message: 'must be true or false (yes/no, on/off, 1/0 as Ansible reads them)' });
  return b ?? false;
});
/** A number, or a string of digits only: Number('80\\n') is 80, but the raw value is what a template renders. */
export const integer = z
  .union([z.number(), z.string().regex(/^-?\d+$/, 'must be a whole number')], { error: 'must be a whole number' })
  .transform(Number)
  .pipe(z.number().int('must be a whole number'));
export const port = integer.pipe(z.number().min(1, 'must be a TCP port (1-65535)').max(65535, 'must be a TCP port (1-65535)'));

/**
 * Shapes of values that go into generated config files (haproxy.cfg), where a newline, a space or a `#` would
 * add a directive or cut one: one table for the loader's checks and the renderers' own.
 */
export const SAFE_VALUES = {
  /** A host name or an IP address (v4, v6, v6 with a %zone). */
  address: { pattern: /^[A-Za-z0-9._:%-]+$/, says: 'a host name or an IP address (letters, digits and . : - _ %)' },
  /** A frontend's address: empty or `*` (every address of the host), or one address. */
  bindAddress: { pattern: /^[A-Za-z0-9._:%*-]*$/, says: 'empty (every address), * or an IP address' },
  /** `address:port` (the address possibly empty or `*`), or empty: none. */
  bind: { pattern: /^(?:[A-Za-z0-9._:%*-]*:\d{1,5})?$/, says: 'address:port, or empty for none' },
  path: { pattern: /^\/[A-Za-z0-9._/-]+$/, says: 'an absolute path of letters, digits and . _ - /' },
  /** Inventory host and group names (server names). */
  name: { pattern: /^[A-Za-z0-9_.-]+$/, says: 'a name of letters, digits and . _ -' },
} as const;

export const safe = (kind: keyof typeof SAFE_VALUES) => z.string({ error: `must be ${SAFE_VALUES[kind].says}` }).regex(SAFE_VALUES[kind].pattern, `must be ${SAFE_VALUES[kind].says}`);
const address = safe('address');

/** The ansible_* / ssh_* vars the runner reads; other vars pass through untouched. */
export const connectionVars = z.looseObject({
  ansible_host: address.optional(),
  ansible_port: port.optional(),
  ansible_user: z.string().min(1).optional(),
  ansible_ssh_private_key_file: z.string().min(1).optional(),
  ansible_become: bool.optional(),
  ansible_become_password: z.string().optional(),
  ansible_become_user: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'must be a user name').optional(),
  ansible_become_method: z.enum(['sudo', 'su'], { error: 'must be sudo or su' }).optional(),
  ansible_connection: z.enum(['ssh', 'local']).optional(),
  ansible_ssh_common_args: z.string().optional(),
  ssh_jump_host: z.string().min(1).optional(),
  ssh_known_hosts_file: z.string().min(1).optional(),
  command_timeout: z.coerce.number().positive().optional(),
});

/** Names the runner itself reads (never unknown): the connection vars, every ansible_*, and these. */
const RUNNER_VARS = new Set([...Object.keys(connectionVars.shape), 'remote_tmp', 'gatewright_lock_file']);
export const isRunnerVar = (name: string): boolean => name.startsWith('ansible_') || RUNNER_VARS.has(name);

export const asBool = (v: unknown): boolean => parseBool(v) ?? false;

// ---------------------------------------------------------------- where a value was written

interface Written {
  src: YamlSource;
  path: (string | number)[];
}
/** For a vars mapping: the file and key path each of its values was read from (none: -e key=value). */
const written = new WeakMap<Vars, Map<string, Written>>();

/** Object.assign of vars that also keeps where each winning value was written. */
export function mergeVars(into: Vars, from: Vars): Vars {
  Object.assign(into, from);
  const sources = written.get(into) ?? new Map<string, Written>();
  const fromSources = written.get(from);
  for (const key of Object.keys(from)) {
    const at = fromSources?.get(key);
    if (at) sources.set(key, at);
    else sources.delete(key);
  }
  written.set(into, sources);
  return into;
}

/** An InputError for one variable: its file, line and key path when known, else the host and the key. */
export function varError(vars: Vars, host: string, key: string, message: string): InputError {
  const at = written.get(vars)?.get(key);
  return at ? yamlError(at.src, [...at.path, key], message) : new InputError(`host ${host}: ${key}: ${message}`);
}

/** Validates a vars mapping read from `src` at `path`; errors point at the offending key's line. */
export function checkVars(src: YamlSource, path: (string | number)[], vars: unknown): Vars {
  if (vars === null || vars === undefined) return {};
  if (typeof vars !== 'object' || Array.isArray(vars)) throw yamlError(src, path, 'expected a mapping of variables');
  // Lookups first: the checks see the value that will be used.
  const resolved = resolveLookups(src, path, vars as Vars);
  const result = connectionVars.safeParse(resolved);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw yamlError(src, [...path, ...(issue.path as (string | number)[])], issue.message);
  }
  written.set(resolved, new Map(Object.keys(resolved).map((key) => [key, { src, path }])));
  return resolved;
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
export function parseExtraVars(items: readonly string[], keyring?: Keyring): Vars {
  const out: Vars = {};
  for (const item of items) {
    if (item.startsWith('@')) {
      const file = item.slice(1);
      if (!existsSync(file)) throw new InputError(`-e ${item}: file not found`);
      const src = readYaml(file, undefined, keyring);
      mergeVars(out, checkVars(src, [], src.data));
    } else if (item.trimStart().startsWith('{')) {
      const src = readYaml('-e', item, keyring);
      mergeVars(out, checkVars(src, [], src.data));
    } else {
      const eq = item.indexOf('=');
      if (eq < 1) throw new InputError(`-e ${item}: expected key=value, @file.yaml or a {…} mapping`);
      mergeVars(out, { [item.slice(0, eq)]: item.slice(eq + 1) });
    }
  }
  return out;
}

// ---------------------------------------------------------------- a playbook's variables, checked at load

/**
 * Checks each host's merged vars against the playbook's schema before anything connects. A bad value throws
 * one InputError (exit 4) naming, for each, the file, line and key; an unknown name is a warning that names
 * the file and the closest known name (a typo would otherwise silently leave the default in force).
 */
export function checkPlaybookVars(schema: VariableSchema | undefined, hosts: readonly Host[]): string[] {
  if (!schema) return [];
  const errors = new Set<string>();
  const warnings = new Set<string>();
  for (const host of hosts) {
    for (const { key, message } of schema.check(host.vars)) errors.add(varError(host.vars, host.name, key, message).message);
    for (const key of Object.keys(host.vars)) {
      if (isRunnerVar(key) || schema.names.includes(key)) continue;
      const near = closestName(key, schema.names);
      const hint = near ? ` (did you mean ${near}?)` : '';
      warnings.add(varError(host.vars, host.name, key, `unknown variable ${key}${hint}; no role reads it`).message);
    }
  }
  if (errors.size) throw new InputError([...errors].join('\n'));
  return [...warnings];
}

/** The known name nearest to `name` by edit distance, when near enough to be a typo of it. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance (insert, delete, substitute: 1 each). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}
