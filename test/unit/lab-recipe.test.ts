import { describe, expect, it } from 'vitest';
import type { Recipe } from '../../lab/recipe.ts';
import { imageTag, recipeHash, renderDockerfile } from '../../lab/recipe.ts';
import { baseRecipe, hostRecipe, linkedLibraries } from '../../lab/recipes.ts';

const files: Record<string, Buffer> = { '/in/a': Buffer.from('one'), '/in/b': Buffer.from('two') };
const read = (p: string): Buffer => files[p];

const recipe = (over: Partial<Recipe> = {}): Recipe => ({
  name: 'thing',
  dockerfile: 'FROM scratch\nCOPY a /a\n',
  files: { a: { copyFrom: '/in/a' }, note: { text: 'hello' } },
  ...over,
});

describe('recipe hashing', () => {
  it('is stable for the same recipe', () => {
    expect(recipeHash(recipe(), read)).toBe(recipeHash(recipe(), read));
    expect(recipeHash(recipe(), read)).toMatch(/^[0-9a-f]{12}$/);
  });

  it.each<[string, Partial<Recipe>]>([
    ['the Dockerfile', { dockerfile: 'FROM scratch\nCOPY a /b\n' }],
    ['a copied file', { files: { a: { copyFrom: '/in/b' }, note: { text: 'hello' } } }],
    ['an inline file', { files: { a: { copyFrom: '/in/a' }, note: { text: 'hello!' } } }],
    ['a file mode', { files: { a: { copyFrom: '/in/a', mode: 0o755 }, note: { text: 'hello' } } }],
    ['a file path', { files: { b: { copyFrom: '/in/a' }, note: { text: 'hello' } } }],
    ['the name', { name: 'other' }],
  ])('changes with %s', (_what, over) => {
    expect(recipeHash(recipe(over), read)).not.toBe(recipeHash(recipe(), read));
  });

  it('does not depend on the order files are listed in', () => {
    const reordered = recipe({ files: { note: { text: 'hello' }, a: { copyFrom: '/in/a' } } });
    expect(recipeHash(reordered, read)).toBe(recipeHash(recipe(), read));
  });

  it('changes when a parent changes, and names the parent in FROM', () => {
    const parentA = recipe({ name: 'p' });
    const parentB = recipe({ name: 'p', dockerfile: 'FROM scratch\n' });
    const child = (parent: Recipe) => recipe({ name: 'c', parent, dockerfile: 'FROM {{parent}}\n', files: {} });
    expect(recipeHash(child(parentA), read)).not.toBe(recipeHash(child(parentB), read));
    const c = child(parentA);
    recipeHash(parentA, read);
    recipeHash(c, read);
    expect(renderDockerfile(c)).toBe(`FROM ${imageTag(parentA)}\n`);
  });

  it('builds the host image on the base from the machine mirror', () => {
    const base = baseRecipe({ main: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' });
    expect(base.dockerfile).toBe('debootstrap --variant=minbase bookworm http://deb.debian.org/debian\n');
    const host = hostRecipe(base);
    expect(host.dockerfile).toContain('apt-get install -y -q --download-only docker.io docker-compose');
    expect(host.dockerfile).toContain('STOPSIGNAL SIGRTMIN+3');
    expect(host.dockerfile).not.toMatch(/install -y -q --no-install-recommends[^\n]*docker\.io/);
  });

  it('finds the libraries node links (all glibc/libstdc++/libgcc, copyable into an image)', () => {
    const libs = linkedLibraries(['/usr/bin/node']);
    expect(libs.some((l) => l.endsWith('/libc.so.6'))).toBe(true);
    expect(libs.some((l) => l.includes('ld-linux'))).toBe(true);
    for (const lib of libs) expect(lib.startsWith('/')).toBe(true);
  });
});
