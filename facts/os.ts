// What preflight looks at on a host: each fact is one read-only command plus a pure parser.
import { defineFact } from '../lib/types.ts';
import { sh } from '../lib/shell.ts';

// ---------------------------------------------------------------- operating system

export type OsFamily = 'rhel' | 'debian' | 'unknown';
export type PackageManager = 'dnf' | 'yum' | 'apt';

export interface OsInfo {
  /** os-release ID: centos, rhel, rocky, almalinux, debian, ubuntu... */
  id: string;
  idLike: string[];
  versionId: string;
  codename: string;
  prettyName: string;
  family: OsFamily;
  packageManager?: PackageManager;
}

const RHEL_IDS = ['rhel', 'centos', 'rocky', 'almalinux', 'ol', 'fedora'];

export const osFact = defineFact<OsInfo>({
  name: 'os',
  // One name per `command -v`: dash stops at the first it cannot find.
  command:
    'cat /etc/os-release 2>/dev/null; echo "PACKAGE_MANAGERS=$(for p in dnf yum apt-get; do command -v $p; done | tr "\\n" " ")"',
  parse: ({ stdout }) => parseOsRelease(stdout),
});

export function parseOsRelease(text: string): OsInfo {
  const kv = keyValues(text);
  const id = (kv.ID ?? 'unknown').toLowerCase();
  const idLike = (kv.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const kin = [id, ...idLike];
  const family: OsFamily = kin.some((k) => RHEL_IDS.includes(k))
    ? 'rhel'
    : kin.some((k) => k === 'debian' || k === 'ubuntu')
      ? 'debian'
      : 'unknown';
  const found = (kv.PACKAGE_MANAGERS ?? '').split(/\s+/).map((p) => p.split('/').pop());
  const packageManager: PackageManager | undefined = found.includes('dnf')
    ? 'dnf'
    : found.includes('yum')
      ? 'yum'
      : found.includes('apt-get')
        ? 'apt'
        : undefined;
  return {
    id,
    idLike,
    versionId: kv.VERSION_ID ?? '',
    codename: kv.VERSION_CODENAME ?? kv.UBUNTU_CODENAME ?? '',
    prettyName: kv.PRETTY_NAME ?? id,
    family,
    packageManager,
  };
}

/** KEY=value lines (os-release style, values optionally quoted). */
export function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^([A-Za-z0-9_-]+)=(.*)$/);
    if (m) out[m[1]] = m[2].trim().replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}

// ---------------------------------------------------------------- kernel, CPU, memory

export interface MachineInfo {
  kernel: string;
  arch: string;
  cpus: number;
  /** MemTotal in MiB (what the kernel has left after its own reservations). */
  memoryMb: number;
}

export const machineFact = defineFact<MachineInfo>({
  name: 'machine',
  command: 'echo "KERNEL=$(uname -r)"; echo "ARCH=$(uname -m)"; echo "CPUS=$(nproc)"; grep MemTotal /proc/meminfo',
  parse: ({ stdout }) => parseMachine(stdout),
});

export function parseMachine(text: string): MachineInfo {
  const kv = keyValues(text);
  const memKb = Number(text.match(/MemTotal:\s*(\d+)\s*kB/)?.[1] ?? 0);
  return { kernel: kv.KERNEL ?? '', arch: kv.ARCH ?? '', cpus: Number(kv.CPUS ?? 0), memoryMb: Math.floor(memKb / 1024) };
}

// ---------------------------------------------------------------- time sync

/** true / false when a tool said so; undefined when neither timedatectl nor chronyc answered. */
export const timeSyncFact = defineFact<{ synced?: boolean; source: string }>({
  name: 'time-sync',
  command:
    "{ timedatectl status 2>/dev/null | grep -i 'synchronized:'; chronyc -n tracking 2>/dev/null | grep -i '^leap status'; } || true",
  parse: ({ stdout }) => parseTimeSync(stdout),
});

export function parseTimeSync(text: string): { synced?: boolean; source: string } {
  const td = text.match(/synchronized:\s*(yes|no)/i);
  if (td) return { synced: td[1].toLowerCase() === 'yes', source: 'timedatectl' };
  const chrony = text.match(/leap status\s*:\s*(.+)/i);
  if (chrony) return { synced: !/not synchronised/i.test(chrony[1]), source: 'chronyc' };
  return { synced: undefined, source: 'none' };
}

// ---------------------------------------------------------------- disk

export interface DiskFree {
  dir: string;
  /** The existing directory df looked at (the data directory or its nearest existing parent). */
  checked: string;
  mount: string;
  freeMb: number;
}

/** Free space under each directory; one that does not exist yet is measured at its nearest existing parent. */
export function diskFact(dirs: string[]) {
  const probes = dirs.map(
    (dir) =>
      sh`p=${dir}; while [ ! -e "$p" ]; do p=$(dirname "$p"); done; printf '%s\t%s\t' ${dir} "$p"; df -Pm "$p" | tail -n 1`,
  );
  return defineFact<DiskFree[]>({
    name: `disk:${dirs.join(',')}`,
    command: probes.join('; '),
    parse: ({ stdout }) => parseDisk(stdout),
  });
}

export function parseDisk(text: string): DiskFree[] {
  return text
    .split('\n')
    .filter((line) => line.includes('\t'))
    .map((line) => {
      const [dir, checked, df] = line.split('\t');
      const cols = df.trim().split(/\s+/); // Filesystem 1M-blocks Used Available Capacity Mounted-on
      return { dir, checked, mount: cols[5] ?? '', freeMb: Number(cols[3] ?? 0) };
    });
}
