// Ansible's INI inventory, read as Ansible's ini plugin reads it (ansible/plugins/inventory/ini.py), into the
// same shape as a YAML inventory (all → children → group → hosts / vars / children), with the line of every
// group, host and variable so errors point into the INI file.
//
// - `[group]` lists hosts: `name [key=value ...]`, `name:port`, ranges `web[01:10]`, `db-[a:c]`, `10.0.0.[1:3]`,
//   `[1:10:2]`; hosts before any header are in `ungrouped`.
// - `[group:vars]` holds `key=value`; `[group:children]` names child groups.
// - A host line is split as Python's shlex.split(line, comments=True) splits it; every value (inline or in
//   :vars) is read as a Python literal when it is one (`1` → 1, `True` → true, `'x'` → x, `[1, 2]`), else kept
//   as the string: what Ansible does, quirks included (`a='1'` is the number 1, `a=yes` the string yes).
import { InputError } from './errors.ts';
import { parsePythonLiteral } from './python-literal.ts';
import type { Vars } from './types.ts';

export interface IniGroup {
  hosts: Record<string, Vars>;
  vars: Vars;
  children: Record<string, null>;
}

export interface IniInventory {
  /** YAML-inventory shape: `{ all: { vars, children: { <group>: { hosts, vars, children } } } }`. */
  data: { all: { vars: Vars; children: Record<string, IniGroup> } };
  /** The INI line of a YAML-shaped key path (group, host, var), for error messages. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

const SECTION = /^\[([^\]:\s]+)(?::(vars|children))?\]\s*$/;
const ANY_SECTION = /^\[(.*)\]\s*$/;

export function parseIniInventory(file: string, text: string): IniInventory {
  const groups = new Map<string, IniGroup>();
  const allVars: Vars = {};
  const lines = new Map<string, number>();
  const at = (path: (string | number)[], line: number) => lines.has(path.join('\0')) || lines.set(path.join('\0'), line);
  const fail = (line: number, message: string) => new InputError(`${file}:${line}: ${message}`);
  const group = (name: string, line: number): IniGroup => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { hosts: {}, vars: {}, children: {} }));
    at(['all', 'children', name], line);
    return g;
  };

  let section: { name: string; kind: 'hosts' | 'vars' | 'children' } = { name: 'ungrouped', kind: 'hosts' };
  text.split(/\r?\n/).forEach((raw, index) => {
    const n = index + 1;
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;

    if (line.startsWith('[')) {
      const m = SECTION.exec(line);
      if (!m) {
        const inner = ANY_SECTION.exec(line)?.[1];
        throw fail(n, inner === undefined ? `invalid section header "${line}"` : `invalid section "[${inner}]" (expected [group], [group:vars] or [group:children])`);
      }
      section = { name: m[1], kind: (m[2] as 'vars' | 'children' | undefined) ?? 'hosts' };
      if (section.name !== 'all' || section.kind !== 'vars') group(section.name, n);
      return;
    }

    if (section.kind === 'vars') {
      const eq = line.indexOf('=');
      if (eq <= 0) throw fail(n, `expected key=value in [${section.name}:vars], got "${line}"`);
      const key = line.slice(0, eq).trim();
      const value = parsePythonLiteral(line.slice(eq + 1).trim());
      if (section.name === 'all') {
        allVars[key] = value;
        at(['all', 'vars', key], n);
      } else {
        group(section.name, n).vars[key] = value;
        at(['all', 'children', section.name, 'vars', key], n);
      }
      return;
    }

    if (section.kind === 'children') {
      const child = shlexSplit(line, () => fail(n, 'unterminated quote'))[0];
      if (child === 'all') throw fail(n, '"all" cannot be a child group');
      group(child, n);
      group(section.name, n).children[child] = null;
      at(['all', 'children', section.name, 'children', child], n);
      return;
    }

    const [pattern, ...assignments] = shlexSplit(line, () => fail(n, 'unterminated quote'));
    if (pattern === undefined) return; // only a comment after whitespace
    const vars: Vars = {};
    for (const a of assignments) {
      const eq = a.indexOf('=');
      if (eq <= 0) throw fail(n, `expected key=value host variable assignment, got "${a}"`);
      vars[a.slice(0, eq)] = parsePythonLiteral(a.slice(eq + 1));
    }
    const { names, port } = hostPattern(pattern, (message) => fail(n, message));
    const g = group(section.name, n);
    for (const name of names) {
      g.hosts[name] = { ...g.hosts[name], ...(port === undefined ? {} : { ansible_port: port }), ...vars };
      at(['all', 'children', section.name, 'hosts', name], n);
      for (const key of Object.keys(vars)) at(['all', 'children', section.name, 'hosts', name, key], n);
    }
  });

  return {
    data: { all: { vars: allVars, children: Object.fromEntries(groups) } },
    lineOf(path) {
      for (let len = path.length; len > 0; len--) {
        const line = lines.get(path.slice(0, len).join('\0'));
        if (line !== undefined) return line;
      }
      return undefined;
    },
  };
}

/** `name`, `name:port`, with `[a:b]` / `[a:b:step]` ranges expanded (several are allowed). */
export function hostPattern(pattern: string, fail: (message: string) => Error): { names: string[]; port?: number } {
  // A trailing :port, but not the colons inside ranges or of an IPv6 address.
  let host = pattern;
  let port: number | undefined;
  const outside = pattern.replace(/\[[^\]]*\]/g, '');
  const m = /^(.*):(\d+)$/.exec(pattern);
  if (m && (outside.match(/:/g) ?? []).length === 1) {
    host = m[1];
    port = Number(m[2]);
  }
  return { names: expandRanges(host, fail), port };
}

function expandRanges(name: string, fail: (message: string) => Error): string[] {
  const m = /^([^[]*)\[([^\]]+)\](.*)$/.exec(name);
  if (!m) return [name];
  const [, head, range, tail] = m;
  const parts = range.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw fail(`invalid host range "[${range}]" in "${name}" (expected [start:end] or [start:end:step])`);
  const [start, end, stepText = '1'] = parts;
  const step = Number(stepText);
  if (!Number.isInteger(step) || step < 1) throw fail(`invalid step "${stepText}" in host range "[${range}]"`);
  let items: string[];
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const width = start.length; // leading zeros keep their width: [01:10] → 01 … 10
    items = [];
    for (let i = Number(start); i <= Number(end); i += step) items.push(String(i).padStart(width, '0'));
  } else if (/^[a-z]$/i.test(start) && /^[a-z]$/i.test(end)) {
    items = [];
    for (let c = start.charCodeAt(0); c <= end.charCodeAt(0); c += step) items.push(String.fromCharCode(c));
  } else {
    throw fail(`invalid host range "[${range}]" in "${name}" (numbers or single letters)`);
  }
  if (!items.length) throw fail(`host range "[${range}]" in "${name}" is empty (start after end)`);
  return items.flatMap((item) => expandRanges(`${head}${item}${tail}`, fail));
}

/** Python's shlex.split(line, comments=True) in POSIX mode: quotes removed, `#` starts a comment. */
export function shlexSplit(line: string, unterminated: () => Error): string[] {
  const out: string[] = [];
  let token = '';
  let inToken = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else token += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) token += line[++i];
      else token += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inToken = true;
    } else if (c === '\\' && i + 1 < line.length) {
      token += line[++i];
      inToken = true;
    } else if (c === '#') {
      break;
    } else if (/\s/.test(c)) {
      if (inToken) out.push(token);
      token = '';
      inToken = false;
    } else {
      token += c;
      inToken = true;
    }
  }
  if (quote) throw unterminated();
  if (inToken) out.push(token);
  return out;
}
