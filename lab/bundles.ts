// Offline deliveries in the guide's layout in .lab/bundles, so the roles cannot tell the lab from a
// real delivery. Each is rebuilt only when what it is made of changes (a stamp file holds that
// recipe), so a role's checksum comparison sees the same bundle on a rerun.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { LabRecipes } from './recipes.ts';
import { imageTag } from './recipe.ts';
import { bundleName, composeFile, LAYOUT, type Plane } from './bundle-files.ts';
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

async function planeBundle(plane: Plane, version: string, builtTag: string): Promise<void> {
  const l = LAYOUT[plane];
  const name = bundleName(plane, version);
  const compose = composeFile(plane, version);
  const recipe = createHash('sha256').update(`${builtTag}\n${compose}\n${l.defaultConf}`).digest('hex');
  await ensureBuilt(`${name}.tar.gz`, recipe, async (tmp) => {
    const staging = join(MACHINE.buildDir, 'bundles', name);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(join(staging, name, 'images'), { recursive: true });
    mkdirSync(join(staging, name, l.confFile, '..'), { recursive: true });
    writeFileSync(join(staging, name, 'docker-compose.yaml'), compose);
    writeFileSync(join(staging, name, l.confFile), l.defaultConf);
    await saveImage(builtTag, l.image(version), join(staging, name, l.imageFile(version)));
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
    ...recipes.standins.map((s) => limit(() => planeBundle(s.plane, s.version, imageTag(s.recipe)))),
  ];
  await Promise.all(jobs);
}
