// /etc/docker/daemon.json from `docker_daemon_options` (log rotation, data-root, registry mirrors...).
export const DAEMON_JSON = '/etc/docker/daemon.json';

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
