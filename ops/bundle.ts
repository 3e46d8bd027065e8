// Offline bundles as the guide ships them: upload only when the host lacks this exact file (sha256),
// unpack only a bundle not unpacked yet (stamp), `docker load` only an image whose ID is not present.
import { createReadStream, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { sh } from '../lib/shell.ts';
import { defineStep, type Change, type Step, type StepContext } from '../lib/types.ts';
import {
  dockerLoadCmd,
  dockerPullCmd,
  imageIdCmd,
  listImageTarballsCmd,
  manifestCache,
  readCacheCmd,
  parseSha256sum,
  parseTarballManifest,
  readStampCmd,
  sha256sumCmd,
  stripComponents,
  tarballManifestCmd,
  tarListCmd,
  unpackCmd,
} from './docker.ts';

const localShas = new Map<string, Promise<string>>();

/** sha256 of a controller file, memoised per path, size and mtime (bundles are hundreds of MB). */
export function localSha256(path: string): Promise<string> {
  const st = statSync(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  let sha = localShas.get(key);
  if (!sha) {
    sha = new Promise<string>((resolve, reject) => {
      const h = createHash('sha256');
      createReadStream(path).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
    });
    localShas.set(key, sha);
  }
  return sha;
}

export async function remoteSha256(ctx: StepContext, path: string): Promise<string | null> {
  return parseSha256sum((await ctx.run(sha256sumCmd(path), { become: true })).stdout);
}

export interface BundleFile {
  /** Controller path of the tarball. */
  local(ctx: StepContext): string;
  /** Where it lives on the host. */
  remote(ctx: StepContext): string;
}

export function uploadStep(name: string, file: BundleFile): Step {
  return defineStep({
    name,
    async plan(ctx) {
      const local = file.local(ctx);
      const remote = file.remote(ctx);
      const [want, have] = [await localSha256(local).catch(() => { throw new Error(`bundle ${local} not found on the controller (api7_bundle_dir)`); }), await remoteSha256(ctx, remote)];
      if (want === have) return [];
      return [
        {
          summary: `upload ${posix.basename(local)} to ${remote}${have ? ' (checksum differs)' : ''}`,
          async apply() {
            await ctx.run(sh`mkdir -p -- ${posix.dirname(remote)}`, { become: true });
            await ctx.transport.putFile(local, remote, { mode: 0o644, become: true });
            const got = await remoteSha256(ctx, remote);
            if (got !== want) throw new Error(`uploaded ${remote} but its sha256 is ${got}, expected ${want}`);
          },
        },
      ];
    },
  });
}

export function unpackStep(name: string, file: BundleFile, dir: (ctx: StepContext) => string): Step {
  return defineStep({
    name,
    async plan(ctx) {
      const tarball = file.remote(ctx);
      const dest = dir(ctx);
      const sha = await localSha256(file.local(ctx));
      const stamp = (await ctx.run(readStampCmd(dest), { become: true })).stdout.trim();
      if (stamp === sha) return [];
      return [
        {
          summary: `unpack ${posix.basename(tarball)} into ${dest}`,
          async apply() {
            const listing = (await ctx.run(tarListCmd(tarball), { become: true })).stdout;
            await ctx.run(unpackCmd(tarball, dest, stripComponents(listing), sha), { become: true });
          },
        },
      ];
    },
  });
}

/**
 * manifest.json of an image tarball. Reading it decompresses the whole tarball (seconds per run), so
 * it is cached beside the tarball under the checksum of what it came from (`key`).
 */
async function readManifest(ctx: StepContext, tarball: string, key: string): Promise<string | undefined> {
  const cache = manifestCache(tarball);
  const cached = (await ctx.run(readCacheCmd(cache), { become: true })).stdout;
  const nl = cached.indexOf('\n');
  if (nl > 0 && cached.slice(0, nl) === key) return cached.slice(nl + 1);
  const read = await ctx.run(tarballManifestCmd(tarball), { become: true, nothrow: true });
  if (!read.ok) {
    if (ctx.check) return undefined;
    throw new Error(`cannot read manifest.json of ${tarball} on ${ctx.host.name}: ${read.stderr.trim()}`);
  }
  if (!ctx.check) await ctx.transport.put(cache, `${key}\n${read.stdout}`, { mode: 0o644, become: true });
  return read.stdout;
}

/** Plans a `docker load` for each tarball holding an image whose ID the host does not have. */
export async function planImageLoads(ctx: StepContext, tarballs: string[], key: string): Promise<Change[]> {
  const changes: Change[] = [];
  for (const tarball of tarballs) {
    const manifest = await readManifest(ctx, tarball, key);
    if (manifest === undefined) {
      changes.push({ summary: `docker load ${posix.basename(tarball)} (once it is there)`, apply: async () => undefined });
      continue;
    }
    const missing: string[] = [];
    for (const img of parseTarballManifest(manifest)) {
      const refs = img.tags.length ? img.tags : [img.id];
      for (const ref of refs) {
        const have = (await ctx.run(imageIdCmd(ref), { become: true })).stdout.trim();
        if (have !== img.id) missing.push(ref);
      }
    }
    if (missing.length) {
      changes.push({
        summary: `docker load ${posix.basename(tarball)} (${missing.join(', ')})`,
        async apply() {
          await ctx.run(dockerLoadCmd(tarball), { become: true, timeoutMs: 600_000 });
        },
      });
    }
  }
  return changes;
}

export function loadBundleImagesStep(name: string, file: BundleFile, dir: (ctx: StepContext) => string): Step {
  return defineStep({
    name,
    async plan(ctx) {
      const out = (await ctx.run(listImageTarballsCmd(dir(ctx)), { become: true })).stdout;
      const tarballs = out.split('\n').map((l) => l.trim()).filter(Boolean);
      if (!tarballs.length && !ctx.check) throw new Error(`no image tarballs in ${dir(ctx)}/images`);
      return planImageLoads(ctx, tarballs, await localSha256(file.local(ctx)));
    },
  });
}

/** The registry path (`*_image_source: registry`): pull a ref the host does not have. */
export async function planPull(ctx: StepContext, ref: string): Promise<Change[]> {
  const have = (await ctx.run(imageIdCmd(ref), { become: true })).stdout.trim();
  if (have) return [];
  return [{ summary: `docker pull ${ref}`, apply: async () => void (await ctx.run(dockerPullCmd(ref), { become: true, timeoutMs: 600_000 })) }];
}

/** The ID an image ref points at on this host ('' when absent, e.g. in --check before a load). */
export async function imageId(ctx: StepContext, ref: string): Promise<string> {
  return (await ctx.run(imageIdCmd(ref), { become: true })).stdout.trim();
}
