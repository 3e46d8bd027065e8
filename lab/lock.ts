// One lab command at a time on the machine (an e2e run's `ensureLab` and a person's `lab up` may race).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { MACHINE } from './topology.ts';
import { processAlive, sleep } from './engine.ts';
import { log } from './run.ts';

export async function withLock<T>(fn: () => Promise<T>, lockFile: string = MACHINE.lockFile): Promise<T> {
  mkdirSync(dirname(lockFile), { recursive: true });
  let told = false;
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lockFile, 'utf8').trim());
      if (!holder || !processAlive(holder)) {
        rmSync(lockFile, { force: true }); // left by a command that died
        continue;
      }
      if (!told) log(`waiting for another lab command (pid ${holder}) to finish`);
      told = true;
      await sleep(1000);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
