// An image recipe is its Dockerfile plus the files of its build context; its hash names the image
// (`gatewright-lab/<name>:<hash>`) and its cache file, so an image is rebuilt exactly when the recipe
// (or a parent's) changes. Pure: no docker, no disk beyond reading the input files.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A context file: inline text, or a file on the machine copied in as is. */
export type ContextFile = { text: string; mode?: number } | { copyFrom: string; mode?: number };

export interface Recipe {
  name: string;
  /** Parent recipe (its hash is part of ours); `FROM {{parent}}` in the Dockerfile names it. */
  parent?: Recipe;
  /** Dockerfile text, or the debootstrap script for the base (kind 'rootfs'). */
  dockerfile: string;
  files: Record<string, ContextFile>;
  /** Files generated at build time that must not change the hash (e.g. a fresh self-signed cert). */
  prepare?: (contextDir: string) => Promise<void>;
  kind?: 'docker' | 'rootfs';
}

const hashes = new WeakMap<Recipe, string>();

/** Stable 12-hex hash over name, parent hash, Dockerfile and every context file's bytes. */
export function recipeHash(recipe: Recipe, read: (path: string) => Buffer = readFileSync): string {
  const known = hashes.get(recipe);
  if (known) return known;
  const h = createHash('sha256');
  h.update(`name ${recipe.name}\nkind ${recipe.kind ?? 'docker'}\n`);
  if (recipe.parent) h.update(`parent ${recipeHash(recipe.parent, read)}\n`);
  h.update(`dockerfile ${recipe.dockerfile.length}\n${recipe.dockerfile}\n`);
  for (const path of Object.keys(recipe.files).sort()) {
    const file = recipe.files[path];
    const bytes = 'text' in file ? Buffer.from(file.text) : read(file.copyFrom);
    h.update(`file ${path} ${file.mode ?? 0o644} ${createHash('sha256').update(bytes).digest('hex')}\n`);
  }
  const hash = h.digest('hex').slice(0, 12);
  hashes.set(recipe, hash);
  return hash;
}

export const imageTag = (recipe: Recipe): string => `gatewright-lab/${recipe.name}:${recipeHash(recipe)}`;

/** The Dockerfile with `{{parent}}` replaced by the parent's tag. */
export function renderDockerfile(recipe: Recipe): string {
  return recipe.parent ? recipe.dockerfile.replaceAll('{{parent}}', imageTag(recipe.parent)) : recipe.dockerfile;
}
