// /etc/docker/daemon.json from `docker_daemon_options` (log rotation, data-root, registry mirrors...).
export const DAEMON_JSON = '/etc/docker/daemon.json';

/**
 * What the role adds unless the options say otherwise. live-restore: a dockerd restart (a changed
 * daemon.json, an engine upgrade) leaves the containers running, so etcd and the gateways do not stop
 * with it. The restart still rolls one host at a time (roles/docker/rolling.ts): the first restart that
 * turns it on, and a dockerd that fails to come back, still stop the host's containers.
 */
export const DAEMON_DEFAULTS: Record<string, unknown> = { 'live-restore': true };

/** Keys whose change makes dockerd look in another place: every image and container (etcd's too) vanishes from it. */
export const STORAGE_KEYS = ['data-root', 'graph', 'storage-driver'];

/** The daemon.json the role writes: the defaults, then `docker_daemon_options` over them. */
export function wantedDaemonOptions(options: unknown): Record<string, unknown> {
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) {
    throw new Error(`docker_daemon_options must be a mapping (daemon.json keys), got ${JSON.stringify(options)}`);
  }
  return { ...DAEMON_DEFAULTS, ...((options ?? {}) as Record<string, unknown>) };
}

/**
 * Storage keys the new file would change on a host whose dockerd runs: refused, since the restart would
 * come up without the containers it runs now. Unparseable old content counts as "unknown": refused too.
 */
export function storageChanges(oldText: string | undefined, wanted: Record<string, unknown>): string[] {
  if (oldText === undefined || oldText.trim() === '') return STORAGE_KEYS.filter((k) => wanted[k] !== undefined);
  let old: Record<string, unknown>;
  try {
    old = JSON.parse(oldText) as Record<string, unknown>;
  } catch {
    return ['(the current daemon.json is not JSON)'];
  }
  return STORAGE_KEYS.filter((k) => JSON.stringify(old[k]) !== JSON.stringify(wanted[k]));
}

/** Stable rendering (sorted keys) so a rerun writes the same bytes and changes nothing. */
export function renderDaemonJson(options: Record<string, unknown>): string {
  return `${JSON.stringify(sortKeys(options), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
