import { statMemoCmd } from '../../lib/stat-memo.ts';
import { API_MARK, engineGetCmd } from '../../facts/engine-api.ts';
import { describe, expect, it } from 'vitest';
import {
  bundleImagesCmd,
  dockerLoadCmd,
  IMAGES_CMD,
  imageIdCmd,
  normalizeRef,
  parseBundleImages,
  parseImages,
  sha256OrMissingCmd,
  parseSha256sum,
  parseTarballManifest,
  sha256sumCmd,
  stripComponents,
  tarballManifestCmd,
  unpackCmd,
} from '../../ops/docker.ts';

const HEX = 'a'.repeat(64);

describe('bundle commands', () => {
  it('checksums the remote bundle, printing nothing when it is missing', () => {
    expect(sha256sumCmd('/opt/api7/bundles/api7-2.13.2304-cp.tar.gz')).toBe(
      'sha256sum -- /opt/api7/bundles/api7-2.13.2304-cp.tar.gz 2>/dev/null || true',
    );
    expect(parseSha256sum(`${HEX}  /opt/x.tar.gz\n`)).toBe(HEX);
    expect(parseSha256sum('')).toBeNull();
  });

  it('unpacks into the plane folder and stamps it with the bundle checksum', () => {
    expect(unpackCmd('/opt/api7/bundles/b.tar.gz', '/opt/api7/2.13.2304/cp', 1, HEX)).toBe(
      'mkdir -p -- /opt/api7/2.13.2304/cp && tar -xzf /opt/api7/bundles/b.tar.gz -C /opt/api7/2.13.2304/cp --no-same-owner --strip-components=1' +
        ` && printf '%s\\n' ${HEX} > /opt/api7/2.13.2304/cp/.gatewright-bundle`,
    );
  });

  it('strips the one top folder a bundle wraps itself in, and only then', () => {
    expect(stripComponents('api7-2.13.2304-cp/\napi7-2.13.2304-cp/docker-compose.yaml\napi7-2.13.2304-cp/images/x.tar.gz\n')).toBe(1);
    expect(stripComponents('./\n./docker-compose.yaml\n./images/\n./images/x.tar.gz\n')).toBe(0);
    expect(stripComponents('docker-compose.yaml\n')).toBe(0);
  });

  it('reads image IDs and tags from the tarball without loading it', () => {
    expect(tarballManifestCmd('/opt/i/etcd-3.4.23.tar.gz')).toBe('tar -xzOf /opt/i/etcd-3.4.23.tar.gz manifest.json');
    expect(tarballManifestCmd('/opt/i/x.tar')).toBe('tar -xOf /opt/i/x.tar manifest.json');
    const classic = JSON.stringify([{ Config: `${HEX}.json`, RepoTags: ['gatewright/etcd:3.4.23'], Layers: [] }]);
    expect(parseTarballManifest(classic)).toEqual([{ id: `sha256:${HEX}`, tags: ['gatewright/etcd:3.4.23'] }]);
    const oci = JSON.stringify([{ Config: `blobs/sha256/${HEX}`, RepoTags: null, Layers: [] }]);
    expect(parseTarballManifest(oci)).toEqual([{ id: `sha256:${HEX}`, tags: [] }]);
  });

  it('compares and loads images by exact commands', () => {
    expect(imageIdCmd('api7/api7-gateway:2.13.2304')).toBe("docker image inspect --format '{{.Id}}' api7/api7-gateway:2.13.2304 2>/dev/null || true");
    expect(dockerLoadCmd('/opt/api7/2.13.2304/dp/images/api7-gateway-2.13.2304.tar.gz')).toBe(
      'docker load -i /opt/api7/2.13.2304/dp/images/api7-gateway-2.13.2304.tar.gz',
    );
  });

  it('lists the image tarballs of an unpacked bundle with their cached manifests in one read', () => {
    expect(bundleImagesCmd('/opt/api7/2.13.2304/dp')).toBe(
      `d=/opt/api7/2.13.2304/dp/images; if [ ! -d "$d" ]; then echo missing; exit 0; fi; ` +
        `l=$(find "$d" -maxdepth 1 -type f \\( -name '*.tar' -o -name '*.tar.gz' \\)) || exit 1; ` +
        `printf '%s\\n' "$l" | sort | while IFS= read -r t; do [ -n "$t" ] || continue; ` +
        `printf '%s %s\\n' ==gatewright-tarball== "$t"; cat -- "$t.gatewright-manifest" 2>/dev/null; echo; done`,
    );
    expect(parseBundleImages('missing\n')).toBe('missing');
    expect(parseBundleImages('')).toEqual([]);
    expect(parseBundleImages(`==gatewright-tarball== /d/images/a.tar.gz\nKEY\n[{"Config":"x"}]\n\n==gatewright-tarball== /d/images/b c.tar\n\n`)).toEqual([
      { path: '/d/images/a.tar.gz', cache: 'KEY\n[{"Config":"x"}]\n' },
      { path: '/d/images/b c.tar', cache: '' },
    ]);
  });

  it("reads every image's refs in one read: the engine API's image list, else as `docker image ls` names them", () => {
    expect(IMAGES_CMD).toBe(engineGetCmd('/images/json', "docker image ls --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}'"));
    const ids = parseImages(`sha256:${HEX} api7ee.azurecr.io/api7-gateway:2.13.2304\nsha256:${HEX} bitnami/etcd:3.4.23\nsha256:${HEX} <none>:<none>\n`);
    expect([...ids.keys()]).toEqual(['api7ee.azurecr.io/api7-gateway:2.13.2304', 'bitnami/etcd:3.4.23']);
    // The API lists an image once with all its tags; an untagged one has none (null) or <none>:<none>.
    const api = [
      { Id: `sha256:${HEX}`, RepoTags: ['api7ee.azurecr.io/api7-gateway:2.13.2304', 'docker.io/bitnami/etcd:3.4.23'] },
      { Id: 'sha256:1', RepoTags: null },
      { Id: 'sha256:2', RepoTags: ['<none>:<none>'] },
    ];
    expect(parseImages(`${API_MARK}\n${JSON.stringify(api)}\n`)).toEqual(ids);
    expect(normalizeRef('docker.io/bitnami/etcd:3.4.23')).toBe('bitnami/etcd:3.4.23');
    expect(normalizeRef('docker.io/library/nginx')).toBe('nginx:latest');
    expect(normalizeRef('registry:5000/team/app')).toBe('registry:5000/team/app:latest');
    expect(normalizeRef('app@sha256:ab')).toBe('app@sha256:ab');
  });

  it('checksums a bundle on the host, saying missing rather than printing nothing', () => {
    expect(sha256OrMissingCmd('/opt/api7/bundles/b.tar.gz')).toBe(
      `if [ -e /opt/api7/bundles/b.tar.gz ]; then ${statMemoCmd('/opt/api7/bundles/b.tar.gz', '/opt/api7/bundles/b.tar.gz.gatewright-sha256', 'sha256sum -- /opt/api7/bundles/b.tar.gz')}; else echo missing; fi`,
    );
  });
});
