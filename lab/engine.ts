// The lab's own dockerd: own socket, data-root, exec-root and cgroup parent; no iptables, no default
// bridge. It never touches another engine on the machine (a second 20.10 dockerd with iptables on would
// flush the shared DOCKER chains).
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MACHINE } from './topology.ts';
import { $try, dockerTry } from './run.ts';

export const DOCKERD_LOG = join(MACHINE.dataDir, 'dockerd.log');

export function dockerdArgs(): string[] {
  return [
    '--host', `unix://${MACHINE.socket}`,
    '--data-root', MACHINE.engineRoot,
    '--exec-root', MACHINE.execRoot,
    '--pidfile', MACHINE.pidFile,
    '--bridge=none',
    '--iptables=false',
    '--ip-masq=false',
    '--storage-driver=overlay2',
    `--cgroup-parent=/${MACHINE.cgroupParent}`,
    '--log-opt', 'max-size=10m',
  ];
}

/** The engine's pid when its pidfile names a live dockerd. */
export function enginePid(): number | undefined {
  if (!existsSync(MACHINE.pidFile)) return undefined;
  const pid = Number(readFileSync(MACHINE.pidFile, 'utf8').trim());
  if (!pid) return undefined;
  return processAlive(pid) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd' ? pid : undefined;
}

/** Alive and not a zombie (a daemon whose parent never reaps it still has a /proc entry). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

export async function engineResponds(): Promise<boolean> {
  return (await dockerTry('version', '--format', '{{.Server.Version}}')).ok;
}

export async function startEngine(): Promise<'running' | 'started'> {
  if (enginePid() && (await engineResponds())) return 'running';
  for (const dir of [MACHINE.runDir, MACHINE.dataDir, MACHINE.engineRoot]) mkdirSync(dir, { recursive: true });
  // No inherited pipes: a daemon holding our stdout would make `npm run lab -- up | tee` hang.
  const out = openSync(DOCKERD_LOG, 'w'); // one engine run per log
  const child = spawn('/usr/sbin/dockerd', dockerdArgs(), { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  closeSync(out);
  for (let i = 0; i < 300; i++) {
    if (await engineResponds()) return 'started';
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  const tail = (await $try`tail -n 20 ${DOCKERD_LOG}`).stdout;
  throw new Error(`the lab's dockerd did not come up (log ${DOCKERD_LOG}):\n${tail}`);
}

/** Stops our dockerd and waits for it to exit (it stops its containerd with it). */
export async function stopEngine(): Promise<void> {
  const pid = enginePid();
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 300 && processAlive(pid); i++) await sleep(100);
  if (processAlive(pid)) process.kill(pid, 'SIGKILL');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
