// The bundle's own compose project, as the guide runs it (`docker compose up -d` in the unpacked folder):
// what its compose file says (services, images, the conf it mounts), which running container is its service,
// and whether that container must be recreated. Pure: tested with recorded `docker inspect` output.
import { posix } from 'node:path';
import { parse } from 'yaml';

/** A bind mount: host path, container path, and its options as the vendor wrote them (`ro`, `rw`, `ro,z`). */
export type Mount = [from: string, to: string, mode?: string];

export interface ComposeService {
  image: string;
  /** Host path (resolved against the bundle folder) -> container path, and the vendor's mode (`ro`, ...) if any. */
  mounts: Mount[];
}

export interface ComposeFile {
  /** Top-level `name:` (compose v2), else compose derives the project from the folder. */
  name?: string;
  services: Record<string, ComposeService>;
}

/** Reads the parts of a vendor compose file we act on; `file` names it in errors. */
export function parseComposeFile(text: string, dir: string, file = `${dir}/docker-compose.yaml`): ComposeFile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  const top = doc as { name?: unknown; services?: Record<string, { image?: unknown; volumes?: unknown[] }> } | null;
  if (!top || typeof top !== 'object' || !top.services || typeof top.services !== 'object') throw new Error(`${file} has no services`);
  const services: Record<string, ComposeService> = {};
  for (const [name, s] of Object.entries(top.services)) {
    if (typeof s?.image !== 'string' || !s.image) throw new Error(`${file}: service ${name} has no image`);
    const mounts: Mount[] = [];
    for (const v of s.volumes ?? []) {
      const [from, to, mode] = typeof v === 'string' ? v.split(':') : longVolume(v);
      if (!from || !to || !(from.startsWith('.') || from.startsWith('/'))) continue;
      mounts.push(mode ? [posix.resolve(dir, from), to, mode] : [posix.resolve(dir, from), to]);
    }
    services[name] = { image: s.image, mounts };
  }
  return { name: typeof top.name === 'string' ? top.name : undefined, services };
}

/** A long-syntax `volumes:` entry as the short one's parts (`read_only: true` is the mode `ro`). */
function longVolume(v: unknown): (string | undefined)[] {
  if (typeof v !== 'object' || !v) return [];
  const l = v as { source?: string; target?: string; read_only?: boolean };
  return [l.source, l.target, l.read_only ? 'ro' : undefined];
}

/** The project name compose gives a folder without `name:` (v2's rule: lower case, [a-z0-9_-] only). */
export const projectOfDir = (dir: string): string =>
  posix.basename(dir).toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');

export const projectName = (f: ComposeFile, dir: string): string => f.name ?? projectOfDir(dir);

/** The service we deploy from the file; a missing one is a clear error naming the ones there are. */
export function serviceOf(f: ComposeFile, name: string, file: string): ComposeService {
  const s = f.services[name];
  if (!s) throw new Error(`${file} has no service ${name} (it has: ${Object.keys(f.services).join(', ')}); set the *_compose_service variable`);
  return s;
}

/** Where the container reads a host file: the mount of that file, or of a folder holding it. */
export function containerPathOf(s: ComposeService, hostFile: string): string | undefined {
  for (const [from, to] of s.mounts) {
    if (from === hostFile) return to;
    if (hostFile.startsWith(`${from}/`)) return posix.join(to, hostFile.slice(from.length + 1));
  }
  return undefined;
}

/** One container compose started for a service (from its labels), as `docker inspect` shows it. */
export interface ServiceContainer {
  id: string;
  name: string;
  running: boolean;
  /** Image ID the container runs. */
  image: string;
  /** RFC 3339 with nanoseconds. */
  startedAt: string;
  project: string;
  workingDir: string;
}

export interface ComposeWanted {
  dir: string;
  /** Image ID the service's image ref points at ('' when not loaded yet: --check before a load). */
  imageId: string;
  /** Newest modification time of the files the container reads at start (conf, certificates), ns since epoch. */
  confMtimeNs: bigint;
  /** The conf step will still change a file (only in --check, where it has not applied). */
  confPending: boolean;
}

export type ComposeAction =
  | { kind: 'none'; container: ServiceContainer }
  | { kind: 'up'; reason: string; retire: ServiceContainer[] };

/** RFC 3339 nanosecond timestamp -> ns since epoch (Date has only ms). */
export function rfc3339Ns(ts: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts.trim());
  if (!m) throw new Error(`cannot read the time ${ts}`);
  const secs = BigInt(Math.floor(Date.parse(`${m[1]}${m[3]}`) / 1000));
  return secs * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9));
}

/** `find -printf %T@` ("1701350000.1234567890") -> ns since epoch; 0 for nothing. */
export function findMtimeNs(out: string): bigint {
  const t = out.trim().split('\n').filter(Boolean).pop();
  if (!t) return 0n;
  const [s, frac = ''] = t.split('.');
  return BigInt(s) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
}

/**
 * Keep the running container when it is this folder's, runs the wanted image and started after its conf
 * was last written (a bind-mounted file is read at start only). A container of the same service from another
 * folder (the previous version's bundle, a hand-made deployment elsewhere) is retired in the same turn.
 */
export function planCompose(containers: ServiceContainer[], want: ComposeWanted): ComposeAction {
  const mine = containers.filter((c) => c.workingDir === want.dir);
  const others = containers.filter((c) => c.workingDir !== want.dir);
  const current = mine.find((c) => c.running) ?? mine[0];
  const up = (reason: string): ComposeAction => ({ kind: 'up', reason, retire: others });
  if (!current) return up(others.length ? `replaces ${others.map((c) => `${c.name} (${c.workingDir || 'no folder'})`).join(', ')}` : 'no container');
  if (!current.running) return up('container stopped');
  if (want.imageId && current.image !== want.imageId) return up('image changed');
  if (!want.imageId) return up('image not loaded yet');
  if (want.confPending) return up('conf changed');
  if (want.confMtimeNs > rfc3339Ns(current.startedAt)) return up('conf written after the container started');
  if (others.some((c) => c.running)) return up(`another copy runs: ${others.filter((c) => c.running).map((c) => c.name).join(', ')}`);
  return { kind: 'none', container: current };
}
