// SELinux and container bind mounts. Enterprise hosts keep SELinux enforcing, so by default we leave
// it so and label bind mounts for the container (`:Z`); `preflight_selinux: permissive` relaxes it instead.
import type { SelinuxInfo } from '../../facts/selinux.ts';

export type SelinuxWanted = 'keep' | 'permissive';

/** Commands that make SELinux permissive now and at boot; none when it already is, or is off. */
export function planSelinux(s: SelinuxInfo, wanted: SelinuxWanted): string[] {
  if (wanted !== 'permissive' || s.mode === 'absent' || s.mode === 'Disabled') return [];
  const commands: string[] = [];
  if (s.mode === 'Enforcing') commands.push('setenforce 0');
  if (s.configured === 'enforcing') {
    commands.push("sed -i 's/^SELINUX=enforcing/SELINUX=permissive/' /etc/selinux/config");
  }
  return commands;
}
