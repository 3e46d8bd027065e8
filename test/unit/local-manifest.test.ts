// manifest.json read from the controller's copy of a bundle (real tar), kept per bundle checksum.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const MANIFEST = JSON.stringify([{ Config: `${'ab'.repeat(32)}.json`, RepoTags: ['bitnami/etcd:3.4.23'], Layers: [] }]);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-manifest-'));
  vi.stubEnv('XDG_CACHE_HOME', join(dir, 'cache'));
  vi.resetModules();
});
const fresh = async () => import('../../ops/local-manifest.ts');

/** A `docker save`-like tarball (manifest.json at its end), and a bundle holding it under <top>/images/. */
function tarballs() {
  const image = join(dir, 'image');
  mkdirSync(image);
  writeFileSync(join(image, 'layer.tar'), 'x'.repeat(1000));
  writeFileSync(join(image, 'manifest.json'), MANIFEST);
  const etcd = join(dir, 'etcd-3.4.23.tar.gz');
  execFileSync('tar', ['-czf', etcd, '-C', image, 'layer.tar', 'manifest.json']);
  const top = join(dir, 'b', 'api7-2.13.2304-cp');
  mkdirSync(join(top, 'images'), { recursive: true });
  execFileSync('tar', ['-czf', join(top, 'images', 'api7-dashboard.tar.gz'), '-C', image, 'layer.tar', 'manifest.json']);
  writeFileSync(join(top, 'docker-compose.yaml'), 'services: {}\n');
  const bundle = join(dir, 'api7-2.13.2304-cp.tar.gz');
  execFileSync('tar', ['-czf', bundle, '-C', join(dir, 'b'), 'api7-2.13.2304-cp']);
  return { etcd, bundle };
}

describe('localManifest', () => {
  it('reads an image tarball\'s manifest, and one inside a bundle\'s images/ folder', async () => {
    const t = tarballs();
    const m = await fresh();
    expect(await m.localManifest(t.etcd, 'sha-etcd')).toBe(MANIFEST);
    expect(await m.localManifest(t.bundle, 'sha-cp', 'api7-dashboard.tar.gz')).toBe(MANIFEST);
  });

  it('keeps it per checksum: a new process answers from the cache, not the tarball', async () => {
    const t = tarballs();
    await (await fresh()).localManifest(t.etcd, 'sha-etcd');
    const cache = join(dir, 'cache', 'gatewright', 'manifests');
    expect(readdirSync(cache)).toEqual(['sha-etcd.json']);
    writeFileSync(join(cache, 'sha-etcd.json'), 'planted');
    vi.resetModules();
    expect(await (await fresh()).localManifest(t.etcd, 'sha-etcd')).toBe('planted');
  });

  it('no such image in the bundle, or not a tarball: undefined (the host reads its own), and nothing kept', async () => {
    const t = tarballs();
    const m = await fresh();
    expect(await m.localManifest(t.bundle, 'sha-cp', 'api7-gateway.tar.gz')).toBeUndefined();
    writeFileSync(join(dir, 'junk.tar.gz'), 'not gzip');
    expect(await m.localManifest(join(dir, 'junk.tar.gz'), 'sha-junk')).toBeUndefined();
    expect(existsSync(join(dir, 'cache'))).toBe(false);
  });
});
