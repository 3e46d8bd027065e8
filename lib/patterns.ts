// Ansible host patterns: `all`, `group`, `host`, `a,b`, `a:b`, `group:!host`, `group:&other`, `web*`.
// Unions first, then intersections, then exclusions (as Ansible); the result keeps inventory order.
import { InputError } from './errors.ts';
import { globToRegExp } from './glob.ts';
import { implicitLocalhost } from './inventory.ts';
import type { Host, Inventory } from './types.ts';

export function resolvePattern(inventory: Inventory, pattern: string): Host[] {
  const terms = pattern.split(/[,:]/).map((t) => t.trim()).filter(Boolean);
  if (terms.length === 0) throw new InputError(`empty host pattern "${pattern}"`);
  const union = new Set<string>();
  const intersections: Set<string>[] = [];
  const exclusions = new Set<string>();
  for (const term of terms) {
    if (term.startsWith('!')) matchTerm(inventory, term.slice(1), pattern).forEach((h) => exclusions.add(h));
    else if (term.startsWith('&')) intersections.push(new Set(matchTerm(inventory, term.slice(1), pattern)));
    else matchTerm(inventory, term, pattern).forEach((h) => union.add(h));
  }
  const order = [...inventory.hosts.keys()];
  const local = inventory.hosts.has('localhost') ? undefined : implicitLocalhost(inventory);
  if (local && union.has('localhost')) order.push('localhost');
  return order
    .filter((h) => union.has(h) && intersections.every((s) => s.has(h)) && !exclusions.has(h))
    .map((h) => inventory.hosts.get(h) ?? local!);
}

function matchTerm(inventory: Inventory, term: string, pattern: string): string[] {
  if (term === 'all' || term === '*') return [...inventory.hosts.keys()];
  if (inventory.groups.has(term)) return inventory.groups.get(term)!;
  if (inventory.hosts.has(term)) return [term];
  if (term === 'localhost' && implicitLocalhost(inventory)) return ['localhost']; // Ansible's implicit one
  if (/[*?]/.test(term)) {
    const re = globToRegExp(term);
    const names = [...inventory.hosts.keys()].filter((h) => re.test(h));
    for (const [g, members] of inventory.groups) if (re.test(g)) names.push(...members);
    if (names.length) return names;
  }
  const where = term === pattern ? '' : ` in pattern "${pattern}"`;
  throw new InputError(`unknown host or group "${term}"${where} (inventory ${inventory.source})`);
}

/** Is this host reached on the controller itself? */
export const isLocal = (host: Host): boolean =>
  host.vars.ansible_connection === 'local' || (host.name === 'localhost' && host.vars.ansible_connection !== 'ssh');
