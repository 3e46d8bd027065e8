// Pure builders for the docker and bundle commands the stack roles run on hosts, and parsers of
// their output. Tested by exact strings (test/unit/bundle-commands.test.ts, compose-commands.test.ts).
import { apiAnswer, apiBody, engineGetCmd, engineListInspectCmd } from '../facts/engine-api.ts';
import { raw, sh } from '../lib/shell.ts';
import { statMemoCmd } from '../lib/stat-memo.ts';
import type { ServiceContainer } from './compose.ts';

/** `sha256sum` of a remote file; prints nothing when it is missing. */
export const sha256sumCmd = (path: string): string => sh`sha256sum -- ${path} 2>/dev/null || true`;

/** Where a remote file's sha256 is kept beside it (lib/stat-memo.ts), so a bundle is hashed once, not every run. */
export const shaMemo = (path: string): string => `${path}.gatewright-sha256`;

/**
 * `sha256sum` of a remote file (from its memo while the file is unchanged), or `missing`; a file that is there
 * but cannot be read fails (unknown is not absent).
 */
export const sha256OrMissingCmd = (path: string): string =>
  sh`if [ -e ${path} ]; then ` + statMemoCmd(sh`${path}`, shaMemo(path), sh`sha256sum -- ${path}`) + '; else echo missing; fi';

export function parseSha256sum(stdout: string): string | null {
  const m = /^([0-9a-f]{64})\s/.exec(stdout.trim());
  return m ? m[1] : null;
}


/** From a bundle's listing (`tar -tzf`): 1 when every entry sits under one top-level folder (`api7-2.13.2304-cp/...`), else 0. */
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


export const unpackCmd = (tarball: string, dir: string, strip: number, sha: string): string =>
  sh`mkdir -p -- ${dir} && tar -xzf ${tarball} -C ${dir} --no-same-owner --strip-components=${strip}` +
  sh` && printf '%s\\n' ${sha} > ${bundleStamp(dir)}`;

/** Marks each tarball's section in `bundleImagesCmd`'s output (no path or manifest.json holds it). */
export const TARBALL_MARK = '==gatewright-tarball==';

/**
 * Every image tarball of an unpacked bundle, each followed by its cached manifest (`manifestCache`, empty when
 * none): one read. `missing` when the bundle has no images/ folder.
 */
export const bundleImagesCmd = (dir: string): string =>
  sh`d=${`${dir}/images`}; if [ ! -d "$d" ]; then echo missing; exit 0; fi; ` +
  sh`l=$(find "$d" -maxdepth 1 -type f \\( -name '*.tar' -o -name '*.tar.gz' \\)) || exit 1; ` +
  sh`printf '%s\\n' "$l" | sort | while IFS= read -r t; do [ -n "$t" ] || continue; ` +
  sh`printf '%s %s\\n' ${TARBALL_MARK} "$t"; cat -- "$t.gatewright-manifest" 2>/dev/null; echo; done`;

export interface BundleTarball {
  path: string;
  /** The manifest cache's content (first line: the checksum it belongs to), '' when there is none. */
  cache: string;
}

export function parseBundleImages(stdout: string): BundleTarball[] | 'missing' {
  if (stdout.trim() === 'missing') return 'missing';
  return stdout
    .split(`${TARBALL_MARK} `)
    .slice(1)
    .map((section) => {
      const nl = section.indexOf('\n');
      return { path: section.slice(0, nl), cache: section.slice(nl + 1).replace(/\n$/, '') };
    });
}


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

/**
 * Every tagged image on the host, one read for every ref of a role: the engine API's image list where it can,
 * else `<id> <repository>:<tag>` a line from the CLI.
 */
export const IMAGES_CMD = engineGetCmd('/images/json', "docker image ls --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}'");

/** A ref as `docker image ls` shows it: Docker Hub's prefixes dropped, `:latest` when it names no tag. */
export function normalizeRef(ref: string): string {
  const r = ref.replace(/^(docker\.io|index\.docker\.io)\//, '').replace(/^library\/(?=[^/]+$)/, '');
  if (r.includes('@')) return r;
  return r.slice(r.lastIndexOf('/') + 1).includes(':') ? r : `${r}:latest`;
}

/** ref -> image ID, from `IMAGES_CMD` (untagged images are not refs). */
export function parseImages(stdout: string): Map<string, string> {
  const ids = new Map<string, string>();
  const api = apiAnswer(stdout) as { Id: string; RepoTags?: string[] | null }[] | undefined;
  if (api) {
    for (const image of api) for (const ref of image.RepoTags ?? []) if (!ref.includes('<none>')) ids.set(normalizeRef(ref), image.Id);
    return ids;
  }
  for (const line of stdout.split('\n')) {
    const [id, ref] = line.trim().split(/\s+/);
    if (!id || !ref || ref.includes('<none>')) continue;
    ids.set(normalizeRef(ref), id);
  }
  return ids;
}

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

/** Starts the line of `serviceStateCmd` that carries the newest modification time of the start files. */
export const MTIME_MARK = 'newest-mtime';

/**
 * Every container compose started for `service`, from any project (this bundle's, an older one's, a hand-made
 * one), then the newest modification time of the files the container reads at start: one read. Over the engine
 * API where it can (the list filtered by the label, then each container's inspect, one curl each), else through
 * the CLI (a JSON line per container). An engine that does not answer fails it (never "no container").
 */
export const serviceStateCmd = (service: string, startFiles: string[]): string =>
  engineListInspectCmd(
    `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`${COMPOSE_LABEL.service}=${service}`] }))}`,
    sh`ids=$(docker ps -aq --filter ${`label=${COMPOSE_LABEL.service}=${service}`}) || exit 1; ` +
      sh`if [ -n "$ids" ]; then docker inspect --format ${SERVICE_JSON} $ids || exit 1; fi`,
  ) + sh`; printf '%s %s\\n' ${MTIME_MARK} "$(${raw(newestMtimeCmd(startFiles))})"`;

export function parseServiceState(stdout: string): { containers: ServiceContainer[]; mtime: string } {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${MTIME_MARK} `) || l === MTIME_MARK);
  if (at < 0) throw new Error('the containers read did not complete (no mtime line)');
  return { containers: parseServiceContainers(lines.slice(0, at).join('\n')), mtime: lines[at].slice(MTIME_MARK.length).trim() };
}

/** `docker inspect`'s object (the API's GET /containers/{id}/json), the fields a service's state needs. */
interface ApiInspect {
  Id: string;
  Name: string;
  Image?: string;
  State?: { Running?: boolean; StartedAt?: string };
  Config?: { Labels?: Record<string, string> | null };
}

/** The API's inspect objects (API_MARK first, one per line), or the CLI's SERVICE_JSON lines. */
export function parseServiceContainers(stdout: string): ServiceContainer[] {
  const body = apiBody(stdout);
  const api = body !== undefined;
  return (body ?? stdout)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      if (api) {
        const c = JSON.parse(line) as ApiInspect;
        const labels = c.Config?.Labels ?? {};
        const fields = { id: c.Id, name: c.Name, running: c.State?.Running, image: c.Image, startedAt: c.State?.StartedAt };
        return serviceContainer({ ...fields, project: labels[COMPOSE_LABEL.project], workingDir: labels[COMPOSE_LABEL.workingDir] });
      }
      return serviceContainer(JSON.parse(line) as Record<string, unknown>);
    });
}

const serviceContainer = (c: Record<string, unknown>): ServiceContainer => ({
  id: String(c.id),
  name: String(c.name).replace(/^\//, ''),
  running: c.running === true,
  image: String(c.image ?? ''),
  startedAt: String(c.startedAt ?? ''),
  project: String(c.project ?? ''),
  workingDir: String(c.workingDir ?? ''),
});

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

