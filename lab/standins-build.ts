// The stand-in services (lab/standins, another part of the lab) bundled to one .cjs file each.
// LAB_STANDINS_MODULE points at another build module (a local placeholder while they are written).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StandinBundles } from './recipes.ts';
import { PATHS } from './topology.ts';
import { log } from './run.ts';

type BuildModule = { buildStandins(outDir: string): Promise<StandinBundles> };

export async function buildStandinBundles(): Promise<StandinBundles | undefined> {
  const module = process.env.LAB_STANDINS_MODULE
    ? pathToFileURL(resolve(process.env.LAB_STANDINS_MODULE)).href
    : new URL('./standins/build.ts', import.meta.url).href;
  try {
    const { buildStandins } = (await import(module)) as BuildModule;
    return await buildStandins(PATHS.standinsOut);
  } catch (err) {
    log(`warning: stand-ins not buildable (${(err as Error).message.split('\n')[0]}): no upstream service, no api7 bundles`);
    return undefined;
  }
}
