// Brings the lab up once for the whole end-to-end run (idempotent: a lab already up is reused, stopped
// or cut hosts come back). `up` prints its step timings. Tests learn which hosts are fresh from it.
import type { TestProject } from 'vitest/node';
import { up } from '../../lab/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Hosts this run's `up` created: only these are known to be untouched by earlier runs. */
    labCreatedHosts: string[];
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const { inventory, created } = await up();
  process.stderr.write(`e2e: lab ready, inventory ${inventory}; fresh hosts: ${created.join(' ') || 'none (lab reused)'}\n`);
  project.provide('labCreatedHosts', created);
}
