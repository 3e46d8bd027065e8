// Builds lab images locally (no registry), keeps them in our engine and in a `docker save | zstd`
// cache under /var/cache/gatewright-lab that survives `down`; a recipe change means a new hash,
// hence a rebuild.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Recipe } from './recipe.ts';
import { imageTag, recipeHash, renderDockerfile } from './recipe.ts';
import { MACHINE } from './topology.ts';
import { $, DOCKER, dockerTry, log, seconds } from './run.ts';

export const IMAGE_CACHE = join(MACHINE.cacheDir, 'images');

export const cacheFile = (recipe: Recipe): string => join(IMAGE_CACHE, `${recipe.name}-${recipeHash(recipe)}.tar.zst`);

export type ImageSource = 'present' | 'cache' | 'built';

/** Makes the recipe's image present in our engine (parents first); says where it came from. */
export async function ensureImage(recipe: Recipe): Promise<ImageSource> {
  const tag = imageTag(recipe);
  if ((await dockerTry('image', 'inspect', '--format', '{{.Id}}', tag)).ok) return 'present';
  const cached = cacheFile(recipe);
  if (existsSync(cached)) {
    await $`zstd -dcq ${cached} | ${DOCKER} load -q`;
    return 'cache';
  }
  if (recipe.parent) await ensureImage(recipe.parent);
  const start = performance.now();
  if (recipe.kind === 'rootfs') await buildRootfs(recipe, tag);
  else await buildDocker(recipe, tag);
  log(`  built ${tag} in ${seconds(start)}`);
  await saveToCache(recipe, tag);
  return 'built';
}

async function writeContext(recipe: Recipe, dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [path, file] of Object.entries(recipe.files)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    if ('text' in file) writeFileSync(target, file.text);
    else cpSync(file.copyFrom, target, { dereference: true });
    chmodSync(target, file.mode ?? 0o644);
  }
  await recipe.prepare?.(dir);
}

async function buildDocker(recipe: Recipe, tag: string): Promise<void> {
  const dir = join(MACHINE.buildDir, recipe.name);
  await writeContext(recipe, dir);
  writeFileSync(join(dir, 'Dockerfile'), renderDockerfile(recipe));
  try {
    // Build containers have no network of their own (--bridge=none): apt reaches the mirror via the host.
    await $({ env: { ...process.env, DOCKER_BUILDKIT: '0' } })`${DOCKER} build -q --network=host --label ${`${MACHINE.label}=image`} -t ${tag} ${dir}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** debootstrap minbase from the machine's Debian mirror, then `docker import`. */
async function buildRootfs(recipe: Recipe, tag: string): Promise<void> {
  const dir = join(MACHINE.buildDir, `${recipe.name}-rootfs`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const [, variant, suite, mirror] = recipe.dockerfile.trim().split(/\s+/);
    await $`debootstrap ${variant} ${suite} ${dir} ${mirror}`;
    await writeContext({ ...recipe, prepare: undefined }, join(dir, '.lab-context'));
    await $`cp -a ${join(dir, '.lab-context')}/. ${dir}/ && rm -rf ${join(dir, '.lab-context')} ${join(dir, 'etc/apt/sources.list.d')}`;
    await $`chroot ${dir} apt-get clean`;
    await $`tar -C ${dir} --numeric-owner -c . | ${DOCKER} import --change ${'CMD ["/bin/bash"]'} - ${tag}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function saveToCache(recipe: Recipe, tag: string): Promise<void> {
  mkdirSync(IMAGE_CACHE, { recursive: true });
  const file = cacheFile(recipe);
  const older = (f: string): boolean => f.startsWith(`${recipe.name}-`) && /^[0-9a-f]{12}\.tar\.zst$/.test(f.slice(recipe.name.length + 1));
  for (const old of readdirSync(IMAGE_CACHE).filter(older)) rmSync(join(IMAGE_CACHE, old));
  await $`${DOCKER} save ${tag} | zstd -T0 -3 -q -f -o ${`${file}.tmp`}`;
  await $`mv ${`${file}.tmp`} ${file}`;
}

/** Removes our images no current recipe names (stand-in edits leave old ones behind); in-use ones stay. */
export async function pruneImages(keep: Recipe[]): Promise<void> {
  const wanted = new Set(keep.map(imageTag));
  const ours = (await dockerTry('images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=gatewright-lab/*')).stdout;
  const stale = ours.split('\n').filter((tag) => tag && !wanted.has(tag));
  if (stale.length) await dockerTry('rmi', ...stale);
  await dockerTry('image', 'prune', '-f');
}
