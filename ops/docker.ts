// Pure builders for the docker and bundle commands the stack roles run on hosts, and parsers of
// their output. Tested by exact strings (test/unit/bundle-commands.test.ts, compose-commands.test.ts).
import { sh } from '../lib/shell.ts';
import type { ServiceContainer } from './compose.ts';

/** `sha256sum` of a remote file; prints nothing when it is missing. */
export const sha256sumCmd = (path: string): string => sh`sha256sum -- ${path} 2>/dev/null || true`;

export function parseSha256sum(stdout: string): string | null {
  const m = /^([0-9a-f]{64})\s/.exec(stdout.trim());
  return m ? m[1] : null;
}

/** The bundle's file names, to tell whether it wraps everything in one top folder. */
export const tarListCmd = (tarball: string): string => sh`tar -tzf ${tarball}`;

/** 1 when every entry sits under one top-level folder (`api7-2.13.2304-cp/...`), else 0. */
export function stripComponents(listing: string): number {
  const tops = new Set<string>();
  let nested = false;
  for (const line of listing.split('\n').map((l) => l.trim().replace(/^\.\//, ''))) {
    if (!line || line === '.' || line === './') continue;
    const [top, ...rest] = line.split('/');
    tops.add(top);
    if (rest.some(Boolean)) nested = true;
  }
  return tops.size === 1 && nested ? 1 : 0;
}

/** A small file's content, or nothing when it is missing. */
export const readCacheCmd = (path: string): string => sh`cat -- ${path} 2>/dev/null || true`;

/** The stamp that says which bundle a folder holds (its sha256), so we unpack only a new one. */
export const bundleStamp = (dir: string): string => `${dir}/.gatewright-bundle`;

export const readStampCmd = (dir: string): string => readCacheCmd(bundleStamp(dir));

export const unpackCmd = (tarball: string, dir: string, strip: number, sha: string): string =>
  sh`mkdir -p -- ${dir} && tar -xzf ${tarball} -C ${dir} --no-same-owner --strip-components=${strip}` +
  sh` && printf '%s\\n' ${sha} > ${bundleStamp(dir)}`;

/** Image tarballs shipped in an unpacked bundle. */
export const listImageTarballsCmd = (dir: string): string =>
  sh`find ${`${dir}/images`} -maxdepth 1 -type f \\( -name '*.tar' -o -name '*.tar.gz' \\) 2>/dev/null | sort`;

/** `docker save` tarballs carry manifest.json: the image's config digest (= its ID) and tags. */
export const tarballManifestCmd = (tarball: string): string =>
  tarball.endsWith('.tar') ? sh`tar -xOf ${tarball} manifest.json` : sh`tar -xzOf ${tarball} manifest.json`;

/** Where the manifest of an image tarball is cached, first line the checksum it belongs to. */
export const manifestCache = (tarball: string): string => `${tarball}.gatewright-manifest`;

export interface TarballImage {
  /** sha256:<hex>, what `docker image inspect` shows as .Id once loaded. */
  id: string;
  tags: string[];
}

/** Reads manifest.json of `docker save` (Config: "<hex>.json") or OCI layout (Config: "blobs/sha256/<hex>"). */
export function parseTarballManifest(json: string): TarballImage[] {
  const entries = JSON.parse(json) as { Config: string; RepoTags?: string[] | null }[];
  return entries.map((e) => {
    const hex = /([0-9a-f]{64})(?:\.json)?$/.exec(e.Config)?.[1];
    if (!hex) throw new Error(`manifest.json: cannot read an image ID from Config ${e.Config}`);
    return { id: `sha256:${hex}`, tags: e.RepoTags ?? [] };
  });
}

/** The local image ID of a ref, or nothing when the ref is not present. */
export const imageIdCmd = (ref: string): string =>
  sh`docker image inspect --format '{{.Id}}' ${ref} 2>/dev/null || true`;

export const dockerLoadCmd = (tarball: string): string => sh`docker load -i ${tarball}`;

export const dockerPullCmd = (ref: string): string => sh`docker pull ${ref}`;

/** Compose's labels on the containers it starts: how we find the bundle's service without labels of our own. */
export const COMPOSE_LABEL = {
  service: 'com.docker.compose.service',
  project: 'com.docker.compose.project',
  workingDir: 'com.docker.compose.project.working_dir',
} as const;

const SERVICE_JSON =
  `{"id":{{json .Id}},"name":{{json .Name}},"running":{{json .State.Running}},"image":{{json .Image}},"startedAt":{{json .State.StartedAt}},` +
  `"project":{{json (index .Config.Labels "${COMPOSE_LABEL.project}")}},"workingDir":{{json (index .Config.Labels "${COMPOSE_LABEL.workingDir}")}}}`;

/** Every container compose started for `service`, from any project (this bundle's, an older one's, a hand-made one). */
export const serviceContainersCmd = (service: string): string =>
  sh`docker ps -aq --filter ${`label=${COMPOSE_LABEL.service}=${service}`} | xargs -r docker inspect --format ${SERVICE_JSON}`;

export function parseServiceContainers(stdout: string): ServiceContainer[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const c = JSON.parse(line) as Record<string, unknown>;
      return {
        id: String(c.id),
        name: String(c.name).replace(/^\//, ''),
        running: c.running === true,
        image: String(c.image ?? ''),
        startedAt: String(c.startedAt ?? ''),
        project: String(c.project ?? ''),
        workingDir: String(c.workingDir ?? ''),
      };
    });
}

/** Newest modification time (find's %T@) of the regular files under `paths`; nothing when none exists. */
export const newestMtimeCmd = (paths: string[]): string =>
  sh`find ${paths} -type f -printf '%T@\\n' 2>/dev/null | sort -n | tail -n 1`;

/** `<compose> <words>` in the bundle folder, as the guide types it (compose picks the project, file and override). */
export const composeInDirCmd = (compose: readonly string[], dir: string, words: readonly string[]): string =>
  sh`cd ${dir} && ${compose} ${words}`;

/** Takes down another folder's project of the same service: `compose down` there, or the containers when the folder is gone. */
export const retireContainersCmd = (compose: readonly string[], c: ServiceContainer): string =>
  c.workingDir
    ? sh`if [ -d ${c.workingDir} ]; then cd ${c.workingDir} && ${compose} -p ${c.project} down; else docker rm -f ${c.id}; fi`
    : sh`docker rm -f ${c.id}`;

/** Removes a container by name if it exists (stop first so etcd leaves cleanly). */
export const removeContainerCmd = (name: string): string =>
  sh`if docker inspect ${name} >/dev/null 2>&1; then docker stop -t 30 ${name} >/dev/null && docker rm ${name} >/dev/null; fi`;

