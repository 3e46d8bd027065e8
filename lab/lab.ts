// `up` and `down`: the whole lab, idempotently. `up` twice leaves one lab (stopped, paused or cut
// hosts come back); `down` leaves no container, mount, cgroup, iptables rule or process of ours.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { HOSTS, MACHINE, NET, PATHS } from './topology.ts';
import type { LabHost } from './topology.ts';
import { checkMachine, installTools } from './preflight.ts';
import { engineResponds, enginePid, startEngine, stopEngine } from './engine.ts';
import { machineMirrors } from './apt-sources.ts';
import type { LabRecipes } from './recipes.ts';
import { labRecipes } from './recipes.ts';
import type { Recipe } from './recipe.ts';
import { imageTag } from './recipe.ts';
import { ensureImage, pruneImages } from './images.ts';
import { ensureKeys, keysStamp } from './keys.ts';
import { createHost, ensureNetwork, hostInfo, type InitMode, waitSsh, wakeHost } from './hosts.ts';
import { ensureBridgeNetfilter, ensureRule, forwardRule, removeOurRules } from './firewall.ts';
import { restoreHost } from './faults.ts';
import { renderInventory } from './inventory.ts';
import { ensureLabSecrets } from './secrets.ts';
import { ensureBundles } from './bundles.ts';
import { buildStandinBundles } from './standins-build.ts';
import { killOurProcesses, removeOurCgroups, unmountOurs } from './teardown.ts';
import { withLock } from './lock.ts';
import { docker, dockerTry, log, seconds, timed } from './run.ts';

export interface UpOptions {
  init?: InitMode;
}

export interface UpResult {
  inventory: string;
  /** Hosts this `up` created from their image (the others already existed and were kept). */
  created: string[];
}

/** Brings the lab up (or back). */
export async function up(opts: UpOptions = {}): Promise<UpResult> {
  checkMachine();
  const init = opts.init ?? 'systemd';
  const start = performance.now();
  const created: string[] = [];
  await withLock(async () => {
    await timed('tools present', installTools);
    await timed('engine ready', startEngine);
    const standins = await timed('stand-ins bundled', buildStandinBundles);
    const recipes = await timed('recipes hashed', async () => labRecipes(machineMirrors(), standins));
    await timed('host images ready', async () => {
      for (const r of [recipes.host, recipes.lb, recipes.upstream]) reportImage(r, await ensureImage(r));
    });
    await timed('network ready', async () => {
      await ensureNetwork();
      await ensureBridgeNetfilter();
      await ensureRule(forwardRule());
    });
    await timed('ssh keys ready', ensureKeys);
    await timed('hosts running', () =>
      Promise.all(HOSTS.map(async (h) => (await ensureHost(h, hostImage(recipes, h), init)) && created.push(h.name))),
    );
    await timed('hosts ssh-ready', () => Promise.all(HOSTS.map((h) => waitSsh(h))));
    writeInventory();
    await timed('bundle images ready', async () => {
      for (const r of [recipes.etcd, ...recipes.standins.map((s) => s.recipe)]) reportImage(r, await ensureImage(r));
    });
    await timed('bundles ready', () => ensureBundles(recipes));
    await pruneImages(allRecipes(recipes));
  });
  log(`lab up in ${seconds(start)}; inventory ${PATHS.inventory}`);
  return { inventory: PATHS.inventory, created };
}

/** `up`, idempotently, for tests: returns the inventory path. */
export const ensureLab = async (opts: UpOptions = {}): Promise<string> => (await up(opts)).inventory;

function allRecipes(r: LabRecipes): Recipe[] {
  return [r.base, r.host, r.lb, r.upstream, r.etcdDebian, r.etcd, r.runtime, ...r.standins.map((s) => s.recipe)];
}

function hostImage(recipes: LabRecipes, host: LabHost): string {
  return imageTag(recipes[host.image]);
}

function reportImage(recipe: Recipe, source: string): void {
  if (source !== 'present') log(`  ${imageTag(recipe)}: ${source === 'cache' ? 'loaded from cache' : 'built'}`);
}

/** Creates, recreates (image, init or keys changed) or brings back a host; true when it was (re)created. */
async function ensureHost(host: LabHost, image: string, init: InitMode): Promise<boolean> {
  const info = await hostInfo(host);
  const changed = [info.image !== image && 'image', info.init !== init && 'init', info.keys !== keysStamp(host) && 'ssh keys'].filter(Boolean);
  if (info.state !== 'missing' && changed.length) {
    log(`  ${host.name}: ${changed.join(', ')} changed, recreating it`);
  } else if (info.state !== 'missing') {
    await restoreHost(host.name);
    await wakeHost(host, info.state);
    return false;
  }
  await createHost(host, image, init);
  return true;
}

function writeInventory(): void {
  mkdirSync(dirname(PATHS.inventory), { recursive: true });
  const machine = { cpus: cpus().length, memoryMb: Math.floor(totalmem() / 2 ** 20) };
  ensureLabSecrets();
  writeFileSync(PATHS.inventory, renderInventory({ machine }));
}

export interface DownOptions {
  /** Also remove the image cache, the engine's images, keys and bundles. */
  purge?: boolean;
}

export async function down(opts: DownOptions = {}): Promise<void> {
  checkMachine();
  const start = performance.now();
  await withLock(async () => {
    if (enginePid() && (await engineResponds())) {
      await timed('hosts removed', async () => {
        const ids = (await docker('ps', '-aq')).split('\n').filter(Boolean);
        if (ids.length) await docker('rm', '-f', '-v', ...ids);
        await dockerTry('network', 'rm', NET.name);
      });
    }
    await timed('engine stopped', stopEngine);
    await timed('machine clean', async () => {
      killOurProcesses();
      await unmountOurs();
      await removeOurRules();
      removeOurCgroups();
      for (const dir of [MACHINE.runDir, MACHINE.hostsDir, MACHINE.buildDir]) rmSync(dir, { recursive: true, force: true });
      rmSync(PATHS.inventory, { force: true });
      if (opts.purge) {
        for (const dir of [MACHINE.dataDir, MACHINE.cacheDir, PATHS.labDir]) rmSync(dir, { recursive: true, force: true });
      }
    });
  });
  log(`lab down in ${seconds(start)}${opts.purge ? ' (purged caches)' : ''}`);
}
