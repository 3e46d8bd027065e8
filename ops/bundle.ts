// Offline bundles as the guide ships them: upload only when the host lacks this exact file (sha256),
// unpack only a bundle not unpacked yet (stamp), `docker load` only an image whose ID is not present.
// The reads are facts (a role names them in its batch); the changes are commands (data).
import { execFile } from 'node:child_process';
import { posix } from 'node:path';
import { promisify } from 'node:util';
import { fileFact } from '../lib/files.ts';
import { sh } from '../lib/shell.ts';
import { defineFact, defineStep, type Change, type Fact, type Step, type StepContext } from '../lib/types.ts';
import { localSha256 } from './local-checksum.ts';
import {
  bundleImagesCmd,
  bundleStamp,
  dockerLoadCmd,
  dockerPullCmd,
  IMAGES_CMD,
  imageIdCmd,
  manifestCache,
  normalizeRef,
  parseBundleImages,
  parseImages,
  parseSha256sum,
  parseTarballManifest,
  readCacheCmd,
  sha256OrMissingCmd,
  sha256sumCmd,
  stripComponents,
  tarballManifestCmd,
  unpackCmd,
  type BundleTarball,
} from './docker.ts';

export async function remoteSha256(ctx: StepContext, path: string): Promise<string | null> {
  return parseSha256sum((await ctx.run(sha256sumCmd(path), { become: true })).stdout);
}

/** The checksum of a file on the host, null when it is not there; a file that cannot be read fails the read. */
export const remoteShaFact = (path: string): Fact<string | null> =>
  defineFact({
    name: `sha256 ${path}`,
    become: true,
    command: sha256OrMissingCmd(path),
    parse(r) {
      if (r.code !== 0) throw new Error(`cannot checksum ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
      if (r.stdout.trim() === 'missing') return null;
      const sha = parseSha256sum(r.stdout);
      if (!sha) throw new Error(`cannot checksum ${path}: unexpected answer`);
      return sha;
    },
  });

/** The stamp an unpacked bundle folder carries: the checksum of the bundle it holds. */
export const bundleStampFact = (dir: string) => fileFact(bundleStamp(dir), true);

/** The image tarballs of an unpacked bundle and their cached manifests, in one read. */
export const bundleImagesFact = (dir: string): Fact<BundleTarball[] | 'missing'> =>
  defineFact({
    name: `bundle images ${dir}`,
    become: true,
    command: bundleImagesCmd(dir),
    parse(r) {
      if (r.code !== 0) throw new Error(`cannot list ${dir}/images: ${r.stderr.trim() || `exit ${r.code}`}`);
      return parseBundleImages(r.stdout);
    },
  });

/** Every tagged image on the host (ref -> ID). An engine that does not answer fails the read: unknown is not "no image". */
export const hostImagesFact: Fact<Map<string, string>> = defineFact({
  name: 'docker images',
  become: true,
  command: IMAGES_CMD,
  parse(r) {
    if (r.code !== 0) throw new Error(`docker image ls failed: ${r.stderr.trim().split('\n').pop() || `exit ${r.code}`}`);
    return parseImages(r.stdout);
  },
});

/**
 * The ID a ref points at on this host ('' when absent), from the images fact. In --check on a host whose engine
 * is not there yet (the docker play only planned it), every image is absent; otherwise a failed read fails.
 * A ref by digest is not in `docker image ls`'s refs: it is asked alone.
 */
export async function imageIdOn(ctx: StepContext, ref: string): Promise<string> {
  if (ref.includes('@')) return imageId(ctx, ref);
  const images = await ctx.fact(hostImagesFact).catch((e: unknown) => {
    if (ctx.check) return new Map<string, string>();
    throw new Error(`${e instanceof Error ? e.message : String(e)} on ${ctx.host.name}`);
  });
  if (ref.startsWith('sha256:')) return [...images.values()].includes(ref) ? ref : '';
  return images.get(normalizeRef(ref)) ?? '';
}

export interface BundleFile {
  /** Controller path of the tarball. */
  local(ctx: StepContext): string;
  /** Where it lives on the host. */
  remote(ctx: StepContext): string;
}

/** Step: the bundle is on the host, byte for byte (its sha256). */
export async function planUpload(ctx: StepContext, file: BundleFile): Promise<Change[]> {
  const local = file.local(ctx);
  const remote = file.remote(ctx);
  const want = await localSha256(local).catch(() => {
    throw new Error(`bundle ${local} not found on the controller (api7_bundle_dir)`);
  });
  const have = await ctx.fact(remoteShaFact(remote));
  if (want === have) return [];
  return [
    {
      summary: `upload ${posix.basename(local)} to ${remote}${have ? ' (checksum differs)' : ''}`,
      commands: [sh`mkdir -p -- ${posix.dirname(remote)}`],
      // An upload is a file transfer, not a command: it runs after the mkdir, then proves what arrived.
      async apply() {
        await ctx.transport.putFile(local, remote, { mode: 0o644, become: true });
        const got = await ctx.fact(remoteShaFact(remote), { fresh: true });
        if (got !== want) throw new Error(`uploaded ${remote} but its sha256 is ${got}, expected ${want}`);
      },
    },
  ];
}

export function uploadStep(name: string, file: BundleFile): Step {
  return defineStep({ name, plan: (ctx) => planUpload(ctx, file) });
}

const run = promisify(execFile);
const listings = new Map<string, Promise<number>>();

/** How many leading folders to strip, read from the controller's copy (the host's is byte-identical once uploaded). */
function localStrip(path: string, sha: string): Promise<number> {
  let strip = listings.get(sha);
  if (!strip) {
    strip = run('tar', ['-tzf', path], { maxBuffer: 256 * 1024 * 1024 }).then((r) => stripComponents(r.stdout));
    listings.set(sha, strip);
  }
  return strip;
}

/** Step: the bundle is unpacked into its own folder, which carries the bundle's checksum as its stamp. */
export async function planUnpack(ctx: StepContext, file: BundleFile, dest: string): Promise<Change[]> {
  const sha = await localSha256(file.local(ctx));
  const stamp = await ctx.fact(bundleStampFact(dest));
  if (stamp.kind === 'other') throw new Error(`${bundleStamp(dest)} on ${ctx.host.name} is not a regular file`);
  if (stamp.kind === 'file' && stamp.content.trim() === sha) return [];
  const tarball = file.remote(ctx);
  return [{ summary: `unpack ${posix.basename(tarball)} into ${dest}`, commands: [unpackCmd(tarball, dest, await localStrip(file.local(ctx), sha), sha)] }];
}

/**
 * manifest.json of an image tarball. Reading it decompresses the whole tarball (seconds), so it is cached beside
 * the tarball under the checksum of what it came from (`key`); `cached` is that cache when a batched read already
 * has it. Without it, the controller's copy answers (`local`, ops/local-manifest.ts) before the host reads its own.
 */
async function readManifest(ctx: StepContext, tarball: string, key: string, cached?: string, local?: LocalManifest): Promise<string | undefined> {
  const hit = manifestFromCache(cached ?? (await ctx.run(readCacheCmd(manifestCache(tarball)), { become: true })).stdout, key);
  if (hit !== undefined) return hit;
  const controllers = await local?.(tarball);
  if (controllers !== undefined) return controllers;
  const read = await ctx.run(tarballManifestCmd(tarball), { become: true, nothrow: true });
  if (!read.ok) {
    if (ctx.check) return undefined;
    throw new Error(`cannot read manifest.json of ${tarball} on ${ctx.host.name}: ${read.stderr.trim()}`);
  }
  // A cache, not state: written while planning (never in --check), so a converged host reads it next time.
  if (!ctx.check) await ctx.transport.put(manifestCache(tarball), `${key}\n${read.stdout}`, { mode: 0o644, become: true });
  return read.stdout;
}

/** A manifest cache's manifest when the cache is of checksum `key` (its first line), else undefined. */
export function manifestFromCache(cache: string, key: string): string | undefined {
  const nl = cache.indexOf('\n');
  return nl > 0 && cache.slice(0, nl) === key ? cache.slice(nl + 1) : undefined;
}

/** The manifest of a host's image tarball as the controller's copy has it, undefined when it cannot tell. */
export type LocalManifest = (hostTarball: string) => Promise<string | undefined>;

/**
 * Plans a `docker load` for each tarball holding an image whose ID the host does not have. `tarballs` are paths
 * or, from `bundleImagesFact`, paths with their cached manifests; `have` tells a ref's ID ('' when absent);
 * `local` reads a manifest from the controller's copy.
 */
export async function planImageLoads(
  ctx: StepContext,
  tarballs: (string | BundleTarball)[],
  key: string,
  have: (ref: string) => Promise<string> = (ref) => imageId(ctx, ref),
  local?: LocalManifest,
): Promise<Change[]> {
  const changes: Change[] = [];
  for (const t of tarballs) {
    const tarball = typeof t === 'string' ? t : t.path;
    const manifest = await readManifest(ctx, tarball, key, typeof t === 'string' ? undefined : t.cache, local);
    if (manifest === undefined) {
      changes.push({ summary: `docker load ${posix.basename(tarball)} (once it is there)`, commands: [loadCommand(tarball)] });
      continue;
    }
    const missing: string[] = [];
    for (const img of parseTarballManifest(manifest)) {
      for (const ref of img.tags.length ? img.tags : [img.id]) if ((await have(ref)) !== img.id) missing.push(ref);
    }
    if (missing.length) changes.push({ summary: `docker load ${posix.basename(tarball)} (${missing.join(', ')})`, commands: [loadCommand(tarball)] });
  }
  return changes;
}

const loadCommand = (tarball: string) => ({ command: dockerLoadCmd(tarball), timeoutMs: 600_000 });

/** The registry path (`*_image_source: registry`): pull a ref the host does not have. */
export const pullChange = (ref: string): Change => ({ summary: `docker pull ${ref}`, commands: [{ command: dockerPullCmd(ref), timeoutMs: 600_000 }] });

/** The ID an image ref points at on this host ('' when absent, e.g. in --check before a load). */
export async function imageId(ctx: StepContext, ref: string): Promise<string> {
  return (await ctx.run(imageIdCmd(ref), { become: true })).stdout.trim();
}
