// Variable values: the connection vars we understand (validated), env and file lookups, and -e extra vars.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from './errors.ts';
import type { Keyring } from './vault.ts';
import { readYaml, yamlError, type YamlSource } from './yaml-source.ts';
import type { Vars } from './types.ts';

/** A number, or a string of digits only: Number('80\\n') is 80, but the raw value is what a template renders. */
const integer = z.union([z.number(), z.string().regex(/^-?\d+$/, 'must be a whole number')]).transform(Number).pipe(z.number().int());
const port = integer.pipe(z.number().min(1).max(65535));
const bool = z.union([z.boolean(), z.enum(['yes', 'no', 'true', 'false', 'True', 'False'])]);

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

const safe = (kind: keyof typeof SAFE_VALUES) => z.string().regex(SAFE_VALUES[kind].pattern, `must be ${SAFE_VALUES[kind].says}`);
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
  // su asks for its password on a terminal, which a command run over SSH does not have: refuse it plainly.
  ansible_become_method: z.enum(['sudo'], { error: 'only sudo is supported (su needs a terminal for its password)' }).optional(),
  ansible_connection: z.enum(['ssh', 'local']).optional(),
  ansible_ssh_common_args: z.string().optional(),
  ssh_jump_host: z.string().min(1).optional(),
  ssh_known_hosts_file: z.string().min(1).optional(),
  command_timeout: z.coerce.number().positive().optional(),
});

/**
 * Stack values checked when the inventory is read, before anything changes: those rendered into haproxy.cfg
 * (where a newline or a space would add a directive) and those that size a deletion (a snapshot count of 0
 * would prune every snapshot).
 */
export const stackValueVars = z.looseObject({
  etcd_snapshot_keep: integer.pipe(z.number().min(1, 'must be at least 1 (0 or less would delete every etcd snapshot)')).optional(),
  lb_bind_address: safe('bindAddress').nullish(),
  lb_stats_bind: safe('bind').nullish(),
  lb_admin_socket: safe('path').optional(),
  lb_control_port: port.optional(),
  lb_http_port: port.optional(),
  lb_https_port: port.optional(),
  dashboard_port: port.optional(),
  gateway_http_port: port.optional(),
  gateway_https_port: port.optional(),
});

/** Every var the loader checks: connection vars and stack values. */
export const checkedVars = connectionVars.extend(stackValueVars.shape);

export const asBool = (v: unknown): boolean => v === true || v === 'yes' || v === 'true' || v === 'True';

/** Validates a vars mapping read from `src` at `path`; errors point at the offending key's line. */
export function checkVars(src: YamlSource, path: (string | number)[], vars: unknown): Vars {
  if (vars === null || vars === undefined) return {};
  if (typeof vars !== 'object' || Array.isArray(vars)) throw yamlError(src, path, 'expected a mapping of variables');
  // Lookups first: the checks see the value that will be used.
  const resolved = resolveLookups(src, path, vars as Vars);
  const result = checkedVars.safeParse(resolved);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw yamlError(src, [...path, ...(issue.path as (string | number)[])], issue.message);
  }
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
      Object.assign(out, checkVars(src, [], src.data));
    } else if (item.trimStart().startsWith('{')) {
      const src = readYaml('-e', item, keyring);
      Object.assign(out, checkVars(src, [], src.data));
    } else {
      const eq = item.indexOf('=');
      if (eq < 1) throw new InputError(`-e ${item}: expected key=value, @file.yaml or a {…} mapping`);
      out[item.slice(0, eq)] = item.slice(eq + 1);
    }
  }
  return out;
}
