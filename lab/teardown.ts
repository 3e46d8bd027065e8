// What `down` sweeps after stopping the engine, and what the down test checks: mounts under our
// directories (dockerd leaves <exec-root>/netns/default), cgroups under our parent, processes
// running from our paths or in our cgroups.
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MACHINE } from './topology.ts';
import { processAlive } from './engine.ts';
import { $try } from './run.ts';

const OUR_DIRS = [MACHINE.runDir, MACHINE.dataDir];

/** Mount points under our directories, deepest first (pure over /proc/self/mounts). */
export function ourMountPoints(mounts: string): string[] {
  const points = mounts
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((p): p is string => !!p && OUR_DIRS.some((d) => p === d || p.startsWith(`${d}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export const currentMounts = (): string[] => ourMountPoints(readFileSync('/proc/self/mounts', 'utf8'));

export async function unmountOurs(): Promise<void> {
  for (const point of currentMounts()) {
    if ((await $try`umount ${point}`).exitCode !== 0) await $try`umount -l ${point}`;
  }
}

/** Our cgroup directories in every hierarchy (v1 controllers and the unified one), deepest first. */
export function ourCgroups(root = '/sys/fs/cgroup'): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    found.push(dir);
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(join(dir, entry.name));
  };
  const tops = [join(root, MACHINE.cgroupParent)];
  if (existsSync(root)) {
    for (const entry of readdirSync(root, { withFileTypes: true })) {
      if (entry.isDirectory()) tops.push(join(root, entry.name, MACHINE.cgroupParent));
    }
  }
  for (const top of tops) if (existsSync(top) && statSync(top).isDirectory()) walk(top);
  return [...new Set(found)].sort((a, b) => b.length - a.length);
}

export function removeOurCgroups(): void {
  for (const dir of ourCgroups()) {
    try {
      rmdirSync(dir);
    } catch {
      // still has processes: reported by ourProcesses()
    }
  }
}

/** A command line naming one of our directories (`/run/gatewright-lab1/…` is another lab's, not ours). */
export function fromOurDirs(cmdline: string, dirs: readonly string[] = OUR_DIRS): boolean {
  return cmdline.split('\0').some((arg) => dirs.some((d) => arg === d || arg.includes(`${d}/`)));
}

/** Pids running from our paths (dockerd, containerd, shims) or inside our cgroups. */
export function ourProcesses(): number[] {
  const pids = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!pid || pid === process.pid || !processAlive(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      if (fromOurDirs(cmdline) || cgroup.includes(`/${MACHINE.cgroupParent}/`) || cgroup.includes(`/${MACHINE.cgroupParent}\n`)) pids.add(pid);
    } catch {
      // exited meanwhile
    }
  }
  return [...pids];
}

export function killOurProcesses(): void {
  for (const pid of ourProcesses()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
