// The layers, read from the code's own imports: lib (runner) <- vars <- facts, ops <- roles <- playbooks.
// No import runs back up a layer, no role imports another role, and the bench does not lean on the tests.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const LAYER: Record<string, number> = { lib: 0, vars: 1, facts: 2, ops: 3, roles: 4, playbooks: 5 };

function sources(dir: string): string[] {
  const abs = join(ROOT, dir);
  return readdirSync(abs).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every relative import of a file (static and dynamic), as a path from the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
  return specs.filter((s) => s.startsWith('.')).map((s) => normalize(join(dirname(file), s)));
}

const top = (path: string) => path.split('/')[0];
const edges = Object.keys(LAYER).concat('bench').flatMap((dir) => sources(dir).flatMap((from) => importsOf(from).map((to) => ({ from, to }))));

describe('structure', () => {
  it('reads a sensible number of imports (the reader itself works)', () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges).toContainEqual({ from: 'roles/etcd/index.ts', to: 'lib/types.ts' });
  });

  it('no import runs back up a layer (lib <- vars <- facts <- ops <- roles <- playbooks)', () => {
    const up = edges.filter(({ from, to }) => top(from) in LAYER && top(to) in LAYER && LAYER[top(to)] > LAYER[top(from)]);
    expect(up.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('no role imports another role', () => {
    const across = edges.filter(({ from, to }) => top(from) === 'roles' && top(to) === 'roles' && from.split('/')[1] !== to.split('/')[1]);
    expect(across.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('lib, vars, facts, ops and roles import nothing outside the layers (no lab, test or bench code)', () => {
    const out = edges.filter(({ from, to }) => top(from) in LAYER && !(top(to) in LAYER));
    expect(out.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('bench does not import test code', () => {
    const toTests = edges.filter(({ from, to }) => top(from) === 'bench' && top(to) === 'test');
    expect(toTests.map((e) => `${e.from} -> ${relative(ROOT, join(ROOT, e.to))}`)).toEqual([]);
  });
});
