// Ansible inventories: YAML (all / children / hosts / vars) or INI files, a directory of them, or several
// (`-i` repeated), each with group_vars/ and host_vars/ beside it.
//
// Precedence, low to high (Ansible's order): group vars written in the inventory file (all, then parent
// groups, then child groups; same depth by name) < group_vars/ files (same order) < host vars written in
// the inventory file < host_vars/ files < -e extra vars. Merging replaces whole values (no deep merge).
// Several sources merge in the order given (a later one wins), as Ansible merges them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { Document, LineCounter } from 'yaml';
import { InputError } from './errors.ts';
import { parseIniInventory } from './inventory-ini.ts';
import { isVaulted, Keyring } from './vault.ts';
import { checkVars, connectionVars, mergeVars } from './vars.ts';
import { readYaml, yamlError, type YamlSource } from './yaml-source.ts';
import type { Host, Inventory, Vars } from './types.ts';

interface GroupDef {
  vars: Vars;
  hosts: string[];
  children: string[];
  parents: Set<string>;
}

interface Layer {
  hostVars: Map<string, Vars[]>;
  groups: Map<string, GroupDef>;
  hostOrder: string[];
}

const GROUP_KEYS = new Set(['hosts', 'vars', 'children']);
const NAME = /^[A-Za-z0-9_.-]+$/;
/** Read as YAML; every other file as INI (Ansible's yaml plugin takes only these extensions). */
const YAML_FILE = /\.(ya?ml|json)$/;
/**
 * What Ansible skips in an inventory directory: hidden files, group_vars/host_vars, and the extensions of
 * INVENTORY_IGNORE_EXTS (a `hosts.ini` in a directory is skipped by Ansible too: name it `hosts`).
 */
const IGNORED_IN_DIR = /^\.|^(group_vars|host_vars|vars_plugins)$|(~|\.orig|\.ini|\.cfg|\.retry|\.pyc|\.pyo|\.swp|\.bak|\.rpm|\.md|\.txt|\.rst)$/;

export interface LoadOptions {
  extraVars?: Vars;
  /** -u: the login user when a host has no ansible_user. */
  defaultUser?: string;
  /** Vault passwords for encrypted files and `!vault` values; what it decrypts is secret. */
  keyring?: Keyring;
}

/** One inventory file, a directory of them, or several (`-i a -i b`): merged in that order. */
export function loadInventory(sources: string | readonly string[], opts: LoadOptions = {}): Inventory {
  const list = typeof sources === 'string' ? [sources] : [...sources];
  if (!list.length) throw new InputError('no inventory given (-i FILE or -i DIRECTORY)');
  const layer: Layer = { hostVars: new Map(), groups: new Map(), hostOrder: [] };
  const keyring = opts.keyring ?? new Keyring();
  ensureGroup(layer, 'all');
  const varDirs: string[] = [];
  for (const source of list) {
    if (!existsSync(source)) throw new InputError(`inventory ${source} not found`);
    const isDir = statSync(source).isDirectory();
    const files = isDir ? inventoryFiles(source) : [source];
    if (!files.length) throw new InputError(`inventory directory ${source} holds no inventory file (YAML *.yaml/*.yml, or INI files without an extension)`);
    for (const file of files) readInventoryFile(file, layer, keyring);
    const dir = isDir ? source : dirname(source);
    if (!varDirs.includes(dir)) varDirs.push(dir);
  }
  const groupFiles = new Map<string, Vars>();
  const hostFiles = new Map<string, Vars>();
  for (const dir of varDirs) {
    mergeInto(groupFiles, readVarsDir(join(dir, 'group_vars'), new Set(layer.groups.keys()), 'group', keyring));
    mergeInto(hostFiles, readVarsDir(join(dir, 'host_vars'), new Set(layer.hostOrder), 'host', keyring));
  }
  return build(list.join(', '), layer, groupFiles, hostFiles, opts);
}

/** The inventory files of a directory, as Ansible takes them: sorted by name, subdirectories walked. */
function inventoryFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .filter((entry) => !IGNORED_IN_DIR.test(entry))
    .flatMap((entry) => {
      const full = join(dir, entry);
      return statSync(full).isDirectory() ? inventoryFiles(full) : [full];
    });
}

function readInventoryFile(file: string, layer: Layer, keyring: Keyring): void {
  const src = YAML_FILE.test(file) ? readYaml(file, undefined, keyring) : readIni(file, keyring);
  const top = src.data;
  if (top === null || top === undefined) return; // an empty file adds nothing
  if (typeof top !== 'object' || Array.isArray(top)) {
    throw yamlError(src, [], 'an inventory is a mapping of groups (start with `all:`)');
  }
  for (const [name, def] of Object.entries(top)) {
    readGroup(src, layer, name, def, [name]);
    if (name !== 'all') link(layer, 'all', name);
  }
}

/** An INI inventory as a source the YAML reader takes; errors point at the INI line. */
function readIni(file: string, keyring: Keyring): YamlSource {
  const raw = readFileSync(file, 'utf8');
  const text = isVaulted(raw) ? keyring.decrypt(raw, file) : raw;
  // A YAML inventory saved without an extension: Ansible's auto plugin would read it too.
  const firstLine = text.split(/\r?\n/).find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
  let src: YamlSource;
  if (/^(---\s*$|all:\s*(#.*)?$)/.test(firstLine)) {
    src = readYaml(file, text, keyring);
  } else {
    const ini = parseIniInventory(file, text);
    src = { file, data: ini.data, doc: new Document(ini.data), lines: new LineCounter(), lineOf: ini.lineOf };
  }
  if (text !== raw) keyring.revealLeaves(src.data);
  return src;
}

function mergeInto(into: Map<string, Vars>, from: Map<string, Vars>): void {
  for (const [name, vars] of from) into.set(name, mergeVars(mergeVars({}, into.get(name) ?? {}), vars));
}

function ensureGroup(layer: Layer, name: string): GroupDef {
  let g = layer.groups.get(name);
  if (!g) layer.groups.set(name, (g = { vars: {}, hosts: [], children: [], parents: new Set() }));
  return g;
}

function link(layer: Layer, parent: string, child: string): void {
  const p = ensureGroup(layer, parent);
  if (!p.children.includes(child)) p.children.push(child);
  ensureGroup(layer, child).parents.add(parent);
}

function readGroup(src: YamlSource, layer: Layer, name: string, def: unknown, path: string[]): void {
  if (!NAME.test(name)) throw yamlError(src, path, `invalid group name "${name}"`);
  if (layer.hostOrder.includes(name)) throw yamlError(src, path, `"${name}" is already a host name`);
  const group = ensureGroup(layer, name);
  if (def === null || def === undefined) return;
  if (typeof def !== 'object' || Array.isArray(def)) {
    throw yamlError(src, path, 'a group is a mapping with hosts, vars and/or children');
  }
  for (const key of Object.keys(def)) {
    if (!GROUP_KEYS.has(key)) {
      throw yamlError(src, [...path, key], `unknown key "${key}" in group ${name} (expected hosts, vars, children)`);
    }
  }
  const { hosts, vars, children } = def as Record<string, unknown>;
  mergeVars(group.vars, checkVars(src, [...path, 'vars'], vars));
  for (const [host, hv] of Object.entries(mapping(src, [...path, 'hosts'], hosts))) {
    if (!NAME.test(host)) throw yamlError(src, [...path, 'hosts', host], `invalid host name "${host}"`);
    if (layer.groups.has(host)) throw yamlError(src, [...path, 'hosts', host], `"${host}" is already a group name`);
    if (!layer.hostOrder.includes(host)) layer.hostOrder.push(host);
    if (!group.hosts.includes(host)) group.hosts.push(host);
    const list = layer.hostVars.get(host) ?? [];
    list.push(checkVars(src, [...path, 'hosts', host], hv));
    layer.hostVars.set(host, list);
  }
  for (const [child, cdef] of Object.entries(mapping(src, [...path, 'children'], children))) {
    if (child === 'all') throw yamlError(src, [...path, 'children', child], '"all" cannot be a child group');
    link(layer, name, child);
    readGroup(src, layer, child, cdef, [...path, 'children', child]);
  }
}

function mapping(src: YamlSource, path: string[], value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw yamlError(src, path, `expected a mapping (name: …), got ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** group_vars/<name>.yaml|.yml or group_vars/<name>/*.yaml (likewise host_vars). */
function readVarsDir(dir: string, known: Set<string>, kind: 'group' | 'host', keyring: Keyring): Map<string, Vars> {
  const out = new Map<string, Vars>();
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    const isDir = statSync(full).isDirectory();
    const name = isDir ? entry : entry.replace(/\.ya?ml$/, '');
    if (!isDir && name === entry) continue; // not a YAML file (README, .swp, …)
    if (!known.has(name)) throw new InputError(`${full}: no ${kind} named "${name}" in the inventory`);
    const files = isDir ? readdirSync(full).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(full, f)) : [full];
    const vars = out.get(name) ?? {};
    for (const f of files) {
      const src = readYaml(f, undefined, keyring);
      mergeVars(vars, checkVars(src, [], src.data));
    }
    out.set(name, vars);
  }
  return out;
}

function build(file: string, layer: Layer, groupFiles: Map<string, Vars>, hostFiles: Map<string, Vars>, opts: LoadOptions): Inventory {
  const depth = groupDepths(file, layer);
  const members = new Map<string, string[]>();
  const collect = (g: string, seen = new Set<string>()): Set<string> => {
    const out = new Set<string>(layer.groups.get(g)!.hosts);
    for (const c of layer.groups.get(g)!.children) if (!seen.has(c)) collect(c, seen.add(c)).forEach((h) => out.add(h));
    return out;
  };
  // Ansible's implicit group `ungrouped`: the hosts in no group but all (and any listed in it by name).
  if (!layer.groups.has('ungrouped')) link(layer, 'all', 'ungrouped');
  for (const g of layer.groups.keys()) {
    const set = g === 'all' ? new Set(layer.hostOrder) : collect(g);
    members.set(g, layer.hostOrder.filter((h) => set.has(h)));
  }
  const grouped = new Set([...members].filter(([g]) => g !== 'all' && g !== 'ungrouped').flatMap(([, hosts]) => hosts));
  members.set('ungrouped', layer.hostOrder.filter((h) => members.get('ungrouped')!.includes(h) || !grouped.has(h)));
  const byDepth = [...layer.groups.keys()].sort((a, b) => depth.get(a)! - depth.get(b)! || a.localeCompare(b));
  const hosts = new Map<string, Host>();
  for (const name of layer.hostOrder) {
    const groups = byDepth.filter((g) => members.get(g)!.includes(name));
    const vars: Vars = {};
    for (const g of groups) mergeVars(vars, layer.groups.get(g)!.vars);
    for (const g of groups) mergeVars(vars, groupFiles.get(g) ?? {});
    for (const hv of layer.hostVars.get(name) ?? []) mergeVars(vars, hv);
    mergeVars(mergeVars(vars, hostFiles.get(name) ?? {}), opts.extraVars ?? {});
    hosts.set(name, makeHost(name, groups, vars, opts.defaultUser));
  }
  const inventory = makeInventory(file, hosts, members);
  if (!hosts.has('localhost')) {
    // Ansible's implicit localhost: not in `all`, but sees all's vars and -e.
    const vars = { ...layer.groups.get('all')!.vars, ...groupFiles.get('all'), ...opts.extraVars };
    const host = makeHost('localhost', [], { ansible_connection: 'local', ...vars }, opts.defaultUser);
    implicit.set(inventory, { ...host, address: '127.0.0.1' });
  }
  return inventory;
}

const implicit = new WeakMap<Inventory, Host>();
/** The implicit `localhost` (controller) when the inventory does not define one. */
export const implicitLocalhost = (inventory: Inventory): Host | undefined => implicit.get(inventory);

function groupDepths(file: string, layer: Layer): Map<string, number> {
  const depth = new Map<string, number>([['all', 0]]);
  const visit = (g: string, d: number, path: string[]): void => {
    if (path.includes(g)) throw new InputError(`${file}: group cycle ${[...path, g].join(' -> ')}`);
    if ((depth.get(g) ?? -1) < d) depth.set(g, d);
    for (const c of layer.groups.get(g)!.children) visit(c, d + 1, [...path, g]);
  };
  visit('all', 0, []);
  return depth;
}

export function makeHost(name: string, groups: string[], vars: Vars, defaultUser?: string): Host {
  // The merged vars, -e included: an -e value is checked here, naming the host. The stack's own variables are
  // checked against the playbook's schema once it is known (checkPlaybookVars).
  const parsed = connectionVars.safeParse(vars);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`host ${name}: ${issue.path.join('.')}: ${issue.message}`);
  }
  const v = parsed.data;
  return {
    name,
    address: v.ansible_host ?? name,
    port: v.ansible_port ?? 22,
    user: v.ansible_user ?? defaultUser ?? userInfo().username,
    groups: groups.filter((g) => g !== 'all'),
    vars,
  };
}

export function makeInventory(source: string, hosts: Map<string, Host>, groups: Map<string, string[]>): Inventory {
  return {
    source,
    hosts,
    groups,
    group(name: string): Host[] {
      const names = groups.get(name);
      if (!names) throw new InputError(`unknown group "${name}" (inventory ${source})`);
      return names.map((n) => hosts.get(n)!);
    },
  };
}
