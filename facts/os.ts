// What preflight looks at on a host: each fact is one read-only command plus a pure parser. They are read as
// root, like every fact of the preflight role, so the role reads them all in one batch (root and user facts
// would take two); later roles that ask for the same fact get preflight's memo.
import { defineFact, type ExecResult } from '../lib/types.ts';
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
  become: true,
  // One name per `command -v`: dash stops at the first it cannot find.
  command:
    'cat /etc/os-release 2>/dev/null; echo "PACKAGE_MANAGERS=$(for p in dnf yum apt-get; do command -v $p; done | tr "\\n" " ")"',
  parse: (read) => parseOsRelease(readOk(read, 'the operating system (/etc/os-release)')),
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

/**
 * The output of a read whose commands all end in `echo` or `|| true`: any other exit is the read itself failing
 * (sudo refused, killed), which must never parse as "nothing there".
 */
export function readOk(read: ExecResult, what: string): string {
  if (read.code !== 0) throw new Error(`cannot read ${what} (exit ${read.code}): ${read.stderr.trim().split('\n')[0] ?? ''}`);
  return read.stdout;
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
  become: true,
  command: 'echo "KERNEL=$(uname -r)"; echo "ARCH=$(uname -m)"; echo "CPUS=$(nproc)"; grep MemTotal /proc/meminfo',
  parse(read) {
    const m = parseMachine(read.stdout);
    // 0 CPUs or 0 MB would read as "too small": a read that said nothing is an error, not a tiny host.
    if (read.code !== 0 || !m.kernel || !m.cpus || !m.memoryMb) throw new Error(`cannot read kernel, CPUs and memory (exit ${read.code}): ${read.stderr.trim() || read.stdout.trim()}`);
    return m;
  },
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
  become: true,
  command:
    "{ timedatectl status 2>/dev/null | grep -i 'synchronized:'; chronyc -n tracking 2>/dev/null | grep -i '^leap status'; } || true",
  parse: (read) => parseTimeSync(readOk(read, 'the time sync state')),
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
    become: true,
    command: probes.join('; '),
    parse(read) {
      const found = parseDisk(read.stdout);
      // A directory df said nothing about is unknown, never "enough space".
      const unread = dirs.filter((d) => !found.some((f) => f.dir === d && Number.isFinite(f.freeMb) && f.mount));
      if (unread.length) throw new Error(`cannot read free space under ${unread.join(', ')} (exit ${read.code}): ${read.stderr.trim()}`);
      return found;
    },
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
