// SELinux: its mode now and at boot, and the bind-mount suffix (`:Z`) containers need while it enforces.
import { defineFact, type StepContext } from '../lib/types.ts';
import { keyValues, readOk } from './os.ts';

export interface SelinuxInfo {
  /** getenforce: Enforcing | Permissive | Disabled, or absent when SELinux tools are not installed. */
  mode: 'Enforcing' | 'Permissive' | 'Disabled' | 'absent';
  /** SELINUX= in /etc/selinux/config (what the next boot uses), when the file exists. */
  configured?: string;
}

export const selinuxFact = defineFact<SelinuxInfo>({
  name: 'selinux',
  become: true,
  command: `echo "MODE=$(getenforce 2>/dev/null || echo absent)"; grep '^SELINUX=' /etc/selinux/config 2>/dev/null || true`,
  parse: (read) => parseSelinux(readOk(read, 'the SELinux mode')),
});

export function parseSelinux(text: string): SelinuxInfo {
  const kv = keyValues(text);
  const mode = (['Enforcing', 'Permissive', 'Disabled'] as const).find((m) => m === kv.MODE) ?? 'absent';
  return { mode, configured: kv.SELINUX?.toLowerCase() };
}

/** The bind-mount suffix for a SELinux mode: ":Z" (private relabel) while enforcing, else nothing. */
export const mountSuffixFor = (s: SelinuxInfo): '' | ':Z' => (s.mode === 'Enforcing' ? ':Z' : '');

/**
 * For the roles that bind-mount host paths into containers: append this to `-v host:container`
 * (or compose `volumes:` entries). Read from the host, after preflight may have changed the mode.
 */
export async function bindMountSuffix(ctx: StepContext): Promise<'' | ':Z'> {
  return mountSuffixFor(await ctx.fact(selinuxFact));
}
