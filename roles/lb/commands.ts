// Pure command builders for the lb role: package, config validation, service. Tested by exact value.
import { sh } from '../../lib/shell.ts';
import type { ServiceManager } from '../../facts/haproxy.ts';
import type { PackageManager } from '../../facts/os.ts';

/**
 * Installs haproxy from the host's configured repositories (or a local mirror/cache when offline).
 * apt: refresh the lists only when no candidate resolves, so an offline host with cached .debs installs as is.
 */
export function installHaproxy(pm: PackageManager): string {
  if (pm === 'apt') {
    return (
      `export DEBIAN_FRONTEND=noninteractive; ` +
      `if ! apt-cache policy haproxy 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt-get update; fi; ` +
      `apt-get install -y haproxy`
    );
  }
  return sh`${pm} install -y haproxy`;
}

/** Validates a candidate file with haproxy's own parser; exit status and message are haproxy's. */
export const validateConfig = (path: string): string => sh`haproxy -c -f ${path}`;

/** Puts a validated candidate in place with the config's owner and mode, atomically (same directory). */
export const installCandidate = (candidate: string, path: string): string =>
  sh`chmod 0644 ${candidate} && chown root:root ${candidate} && mv -f -- ${candidate} ${path}`;

export const removeFile = (path: string): string => sh`rm -f -- ${path}`;

/** A reload keeps the listening sockets and lets old workers finish their connections: never a restart. */
export function reloadHaproxy(sm: ServiceManager): string {
  return sm === 'systemd' ? 'systemctl reload haproxy' : 'service haproxy reload';
}

export function startHaproxy(sm: ServiceManager): string {
  return sm === 'systemd' ? 'systemctl enable haproxy && systemctl start haproxy' : 'service haproxy start';
}

/** RHEL's policy lets haproxy connect only to its own ports; the dashboards and gateways listen elsewhere. */
export const allowConnectAny = 'setsebool -P haproxy_connect_any 1';
