// Builds the stand-in bundles once per test file into a fresh temp dir far from any node_modules,
// so the tests prove a bundle needs nothing but node and itself.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildStandins, type Standin } from '../../lab/standins/build.ts';

export interface Bundles {
  dir: string;
  files: Record<Standin, string>;
  remove(): Promise<void>;
}

export async function buildBundles(): Promise<Bundles> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatewright-standins-'));
  const files = await buildStandins(dir);
  const contents = (await readdir(dir)).sort();
  if (contents.join(',') !== 'dashboard.cjs,gateway.cjs,upstream.cjs') throw new Error(`unexpected bundle dir contents: ${contents.join(',')}`);
  return { dir, files, remove: () => rm(dir, { recursive: true, force: true }) };
}
