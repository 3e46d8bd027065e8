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
  parse: ({ stdout }) => parseHaproxyInfo(stdout),
});

export function parseHaproxyInfo(text: string): HaproxyInfo {
  const kv = keyValues(text);
  return {
    version: /version (\S+)/i.exec(kv.VERSION ?? '')?.[1],
    serviceManager: kv.SM === 'systemd' ? 'systemd' : 'sysv',
    running: kv.ACTIVE === 'active',
    enabled: kv.SM !== 'systemd' || kv.ENABLED === 'enabled',
  };
}
