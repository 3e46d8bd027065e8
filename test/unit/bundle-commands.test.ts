import { describe, expect, it } from 'vitest';
import {
  dockerLoadCmd,
  imageIdCmd,
  listImageTarballsCmd,
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
    expect(listImageTarballsCmd('/opt/api7/2.13.2304/dp')).toBe(
      "find /opt/api7/2.13.2304/dp/images -maxdepth 1 -type f \\( -name '*.tar' -o -name '*.tar.gz' \\) 2>/dev/null | sort",
    );
  });
});
