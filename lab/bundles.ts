// Offline deliveries in the guide's layout in .lab/bundles, so the roles cannot tell the lab from a
// real delivery. Each is rebuilt only when what it is made of changes (a stamp file holds that
// recipe), so a role's checksum comparison sees the same bundle on a rerun.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import type { LabRecipes } from './recipes.ts';
import { imageTag } from './recipe.ts';
import { bundleFiles, bundleName, LAYOUT, type Plane } from './bundle-files.ts';
import { ETCD_IMAGE, ETCD_VERSION, MACHINE, PATHS } from './topology.ts';
import { $, DOCKER, docker, log } from './run.ts';

const stampOf = (file: string): string => join(PATHS.bundlesDir, `.${file}.recipe`);

/** Runs `make` unless `file` exists with the same recipe stamp; returns whether it was (re)built. */
async function ensureBuilt(file: string, recipe: string, make: (tmp: string) => Promise<void>): Promise<boolean> {
  const path = join(PATHS.bundlesDir, file);
  const stamp = stampOf(file);
  if (existsSync(path) && existsSync(stamp) && readFileSync(stamp, 'utf8') === recipe) return false;
  rmSync(stamp, { force: true });
  await make(`${path}.tmp`);
  await $`mv ${`${path}.tmp`} ${path}`;
  writeFileSync(stamp, recipe);
  log(`  bundle ${file} written`);
  return true;
}

/** `docker save <ref> | gzip`, the ref tagged onto our built image first. */
async function saveImage(builtTag: string, ref: string, out: string): Promise<void> {
  await docker('tag', builtTag, ref);
  await $`${DOCKER} save ${ref} | gzip -1 -n > ${out}`;
}

async function planeBundle(plane: Plane, version: string, tag: string, builtTag: string): Promise<void> {
  const l = LAYOUT[plane];
  const name = bundleName(plane, version);
  const files = bundleFiles(plane, version, tag);
  const recipe = createHash('sha256').update(JSON.stringify({ builtTag, tag, files, dirs: l.dirs })).digest('hex');
  await ensureBuilt(`${name}.tar.gz`, recipe, async (tmp) => {
    const staging = join(MACHINE.buildDir, 'bundles', name);
    rmSync(staging, { recursive: true, force: true });
    for (const dir of ['images', ...l.dirs]) mkdirSync(join(staging, name, dir), { recursive: true });
    for (const [path, file] of Object.entries(files)) {
      mkdirSync(dirname(join(staging, name, path)), { recursive: true });
      writeFileSync(join(staging, name, path), file.text, { mode: file.mode });
      chmodSync(join(staging, name, path), file.mode);
    }
    await saveImage(builtTag, l.image(tag), join(staging, name, l.imageFile(version)));
    await $`tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C ${staging} -c ${name} | gzip -1 -n > ${tmp}`;
    rmSync(staging, { recursive: true, force: true });
  });
}

export async function ensureBundles(recipes: LabRecipes): Promise<void> {
  mkdirSync(PATHS.bundlesDir, { recursive: true });
  const limit = pLimit(2); // gzip is one core each; the machine has two
  const etcdTag = imageTag(recipes.etcd);
  const jobs = [
    limit(() => ensureBuilt(`etcd-${ETCD_VERSION}.tar.gz`, etcdTag, (tmp) => saveImage(etcdTag, ETCD_IMAGE, tmp))),
    ...recipes.standins.map((s) => limit(() => planeBundle(s.plane, s.version, s.tag, imageTag(s.recipe)))),
  ];
  await Promise.all(jobs);
}
