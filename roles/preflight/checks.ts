// The guide's host requirements as pure checks: facts and thresholds in, findings out.
import { atLeast, KNOWN_BAD_KERNEL, MIN_DOCKER, MIN_KERNEL } from '../../facts/versions.ts';
import type { DiskFree, MachineInfo, OsInfo } from '../../facts/os.ts';
import type { SelinuxInfo } from '../../facts/selinux.ts';
import { haproxyLevel } from '../../facts/haproxy.ts';
import type { PortConflict } from './ports.ts';

export interface Finding {
  /** fail: the host cannot run the stack; warn: it can, but say so; info: what was found. */
  level: 'fail' | 'warn' | 'info';
  message: string;
}

const fail = (message: string): Finding => ({ level: 'fail', message });
const warn = (message: string): Finding => ({ level: 'warn', message });
const info = (message: string): Finding => ({ level: 'info', message });

export const SUPPORTED_OS = 'CentOS/RHEL 7.6+, Rocky/AlmaLinux 8/9, Debian 11/12, Ubuntu 20.04+';
// The oldest release of each distribution we support (os-release VERSION_ID).
const OLDEST: Record<string, string> = { centos: '7', rhel: '7.6', rocky: '8', almalinux: '8', debian: '11', ubuntu: '20.04' };

export function checkOs(os: OsInfo): Finding[] {
  if (os.family === 'unknown') return [fail(`unsupported operating system ${os.prettyName} (supported: ${SUPPORTED_OS})`)];
  if (!os.packageManager) return [fail(`${os.prettyName}: no package manager found (dnf, yum or apt-get)`)];
  const oldest = OLDEST[os.id];
  if (oldest && os.versionId && !atLeast(os.versionId, oldest)) {
    return [warn(`${os.prettyName} is older than we support (${SUPPORTED_OS})`)];
  }
  return [info(`${os.prettyName}, ${os.family} family, ${os.packageManager}`)];
}

export const ARCHES: Record<string, string> = { x86_64: 'amd64', amd64: 'amd64', aarch64: 'arm64', arm64: 'arm64' };

export function checkArch(m: MachineInfo): Finding[] {
  return ARCHES[m.arch]
    ? [info(`architecture ${m.arch}`)]
    : [fail(`architecture ${m.arch} is not supported (x86_64 or aarch64)`)];
}

export function checkKernel(m: MachineInfo): Finding[] {
  if (!atLeast(m.kernel, MIN_KERNEL)) {
    const why = !atLeast(m.kernel, '3.10.0-328')
      ? `kernels up to ${KNOWN_BAD_KERNEL} (CentOS 7.2) and older are known to be incompatible with Docker 20.10`
      : `Docker 20.10 needs CentOS 7.6's kernel or newer`;
    return [fail(`kernel ${m.kernel} < ${MIN_KERNEL}: ${why}; upgrade the kernel (yum update kernel) and reboot`)];
  }
  return [info(`kernel ${m.kernel}`)];
}

export function checkCpus(m: MachineInfo, min: number): Finding[] {
  return m.cpus < min ? [fail(`${m.cpus} CPUs < ${min} (preflight_min_cpus)`)] : [info(`${m.cpus} CPUs`)];
}

export function checkMemory(m: MachineInfo, minMb: number): Finding[] {
  return m.memoryMb < minMb
    ? [fail(`memory ${m.memoryMb} MB < ${minMb} MB (preflight_min_memory_mb)`)]
    : [info(`memory ${m.memoryMb} MB`)];
}

export function checkDisk(disks: DiskFree[], minMb: number): Finding[] {
  return disks.map((d) =>
    d.freeMb < minMb
      ? fail(`disk ${d.freeMb} MB free under ${d.dir} (on ${d.mount}) < ${minMb} MB (preflight_min_disk_mb)`)
      : info(`${d.freeMb} MB free under ${d.dir} (on ${d.mount})`),
  );
}

export function checkTimeSync(t: { synced?: boolean; source: string }): Finding[] {
  if (t.synced === undefined) return [warn('time sync unknown: neither timedatectl nor chronyc answered (etcd needs synchronised clocks)')];
  return t.synced
    ? [info(`clock synchronised (${t.source})`)]
    : [warn(`clock not synchronised (${t.source}); enable chronyd or systemd-timesyncd, etcd needs synchronised clocks`)];
}

export function checkPorts(available: boolean, conflicts: PortConflict[], claimed: number[]): Finding[] {
  if (!available) return [fail('cannot list listening ports: `ss` is missing (install iproute2)')];
  if (conflicts.length === 0) return [info(`ports ${claimed.join(', ')} free or held by our stack`)];
  return conflicts.map((c) =>
    fail(`port ${c.claim.port} (${c.claim.variable}) is in use by ${c.holders.join(', ')}`),
  );
}

export function checkDockerVersion(version: string): Finding[] {
  return atLeast(version, MIN_DOCKER)
    ? [info(`Docker ${version}`)]
    : [fail(`Docker ${version} < ${MIN_DOCKER}: upgrade Docker (remove the old packages, then run the docker role, e.g. docker_install_method: docker-ce or offline)`)];
}

export function checkSelinux(s: SelinuxInfo, wanted: string): Finding[] {
  if (s.mode !== 'Enforcing') return [info(`SELinux ${s.mode.toLowerCase()}`)];
  if (wanted === 'permissive') return [info('SELinux enforcing: will be set permissive (preflight_selinux: permissive)')];
  return [warn('SELinux is enforcing: the roles relabel their bind mounts (:Z); set preflight_selinux: permissive to relax it instead')];
}

/** The LB config's floor, checked before anything is deployed: the lb play, which refuses it too, runs last in `site`. */
export function checkHaproxyVersion(version: string): Finding[] {
  try {
    return [info(`haproxy ${version} (config level ${haproxyLevel(version)})`)];
  } catch (e) {
    return [fail((e as Error).message)];
  }
}
