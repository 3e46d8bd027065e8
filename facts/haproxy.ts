// What the lb role looks at on an LB host.
import { defineFact } from '../lib/types.ts';
import { keyValues } from './os.ts';

/** How the host starts services: systemd, or SysV init scripts (`service`). */
export type ServiceManager = 'systemd' | 'sysv';

export interface HaproxyInfo {
  /** `2.6.12-1+deb12u4`, or undefined when haproxy is not installed. */
  version?: string;
  serviceManager: ServiceManager;
  running: boolean;
  /** Starts at boot (systemd: is-enabled; SysV: the package's rc links are trusted). */
  enabled: boolean;
}

export const haproxyFact = defineFact<HaproxyInfo>({
  name: 'haproxy',
  command:
    'if command -v haproxy >/dev/null 2>&1; then echo "VERSION=$(haproxy -v | head -n 1)"; fi; ' +
    'if [ -d /run/systemd/system ]; then echo SM=systemd; echo "ACTIVE=$(systemctl is-active haproxy 2>/dev/null)"; ' +
    'echo "ENABLED=$(systemctl is-enabled haproxy 2>/dev/null)"; ' +
    'else echo SM=sysv; if service haproxy status >/dev/null 2>&1; then echo ACTIVE=active; fi; fi',
  become: true,
  parse: ({ code, stdout, stderr }) => {
    if (code !== 0) throw new Error(`cannot read haproxy's version and service state: ${stderr.trim() || `exit ${code}`}`);
    return parseHaproxyInfo(stdout);
  },
});

export function parseHaproxyInfo(text: string): HaproxyInfo {
  const kv = keyValues(text);
  // The service manager line is always printed: without it the answer is not ours, and unknown is never "absent".
  if (kv.SM === undefined) throw new Error(`cannot read haproxy's version and service state: unexpected answer ${JSON.stringify(text.slice(0, 200))}`);
  return {
    version: /version (\S+)/i.exec(kv.VERSION ?? '')?.[1],
    serviceManager: kv.SM === 'systemd' ? 'systemd' : 'sysv',
    running: kv.ACTIVE === 'active',
    enabled: kv.SM !== 'systemd' || kv.ENABLED === 'enabled',
  };
}

export interface HaproxySelinux {
  /** getenforce: Enforcing | Permissive | Disabled, or absent when SELinux tools are not installed. */
  mode: 'Enforcing' | 'Permissive' | 'Disabled' | 'absent';
  /** `getsebool haproxy_connect_any`, read only while SELinux enforces (else undefined: nothing to set). */
  connectAny?: boolean;
}

/**
 * RHEL's policy lets haproxy connect only to its own ports: the boolean that lifts it, read as root with the mode
 * it matters under, so the lb role reads both in its one batch. A failed getsebool is an error, never "off".
 */
export const haproxyConnectAnyFact = defineFact<HaproxySelinux>({
  name: 'haproxy_connect_any',
  command:
    'mode=$(getenforce 2>/dev/null || echo absent); echo "MODE=$mode"; ' +
    'if [ "$mode" = Enforcing ]; then getsebool haproxy_connect_any; fi',
  become: true,
  parse: (r) => parseHaproxySelinux(r.code, r.stdout, r.stderr),
});

export function parseHaproxySelinux(code: number, stdout: string, stderr = ''): HaproxySelinux {
  const modeLine = /^MODE=(\S+)$/m.exec(stdout)?.[1];
  const mode = (['Enforcing', 'Permissive', 'Disabled'] as const).find((m) => m === modeLine) ?? 'absent';
  if (code !== 0) throw new Error(`cannot read the SELinux boolean haproxy_connect_any: ${stderr.trim() || stdout.trim() || `exit ${code}`}`);
  if (mode !== 'Enforcing') return { mode };
  const value = /^haproxy_connect_any --> (on|off)$/m.exec(stdout)?.[1];
  if (!value) throw new Error(`cannot read the SELinux boolean haproxy_connect_any: unexpected answer ${JSON.stringify(stdout.trim())}`);
  return { mode, connectAny: value === 'on' };
}

/**
 * What the installed haproxy accepts: `modern` (2.2+: http-check send, retry-on), `1.8` (EL8: expose-fd
 * listeners, `option redispatch 1`, no L7 retries, checks in `option httpchk`'s own line), `1.5` (CentOS 7: no
 * expose-fd, plain `option redispatch`, `observe` on server lines). The runtime API commands the roles send
 * (`set server <b>/<s> state ready|drain|maint`, `show stat`) are the same at every level: 1.5.0 has them.
 */
export type HaproxyLevel = 'modern' | '1.8' | '1.5';

/** The LB config's floor, and where to get it; the lb role's refusal and preflight's check say the same. */
export const haproxyTooOld = (version: string): string =>
  `haproxy ${version} is too old: the LB config needs haproxy 1.5 or later (CentOS 7's base haproxy is 1.5, EL8's 1.8); ` +
  'install it from the distribution (yum/dnf install haproxy) or a newer build (e.g. the IUS or haproxy.debian.net packages), then rerun';

export function haproxyLevel(version: string | undefined): HaproxyLevel {
  if (version === undefined) return 'modern'; // not installed yet (--check on a bare host): the package we install
  const [major, minor] = version.split(/[.-]/).map(Number);
  if (!Number.isInteger(major) || !Number.isInteger(minor)) throw new Error(`cannot read the haproxy version "${version}"`);
  const v = major * 100 + minor;
  if (v >= 202) return 'modern';
  if (v >= 108) return '1.8';
  if (v >= 105) return '1.5';
  throw new Error(haproxyTooOld(version));
}

/**
 * The level an LB host's config is rendered at: `lb_haproxy_level` when the operator forces one, else the
 * version's. The floor holds either way: no level's config parses on an older haproxy.
 */
export function configLevel(version: string | undefined, forced?: HaproxyLevel): HaproxyLevel {
  const installed = haproxyLevel(version);
  return forced ?? installed;
}
