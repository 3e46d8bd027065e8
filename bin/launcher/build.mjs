// The launcher's build: lib/cli.ts, the two small modules the launcher decides with, and every shipped
// playbook, bundled by esbuild into one folder per source fingerprint (sources.mjs). Shared code goes into
// chunks, so each lib/ module exists once (an error class checked with instanceof stays one class); packages
// stay in node_modules. A build is made in a temp folder and renamed into place: a run never sees half of one.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fingerprint, listSources, shippedPlaybooks } from './sources.mjs';

/** The modules the launcher imports, beside the playbooks: the CLI, and what it decides the route with. */
const LIB_ENTRIES = ['lib/cli', 'lib/args', 'lib/playbooks'];
const STAMP = 'build.json';
/** Packages imported from node_modules at run time; every other package is bundled. */
export const UNBUNDLED = ['node-ssh', 'ssh2', 'zx', 'ansible-vault', 'esbuild', 'tsx'];
/** A temp folder this old is a build that died; younger ones may be another run's, still building. */
const ABANDONED_MS = 10 * 60_000;

/**
 * @typedef {{ fingerprint: string, root: string, sources: number, newestMtimeMs: number, playbooks: string[], ms: number }} Stamp
 * @typedef {{ dir: string, stamp: Stamp, built: boolean }} Build
 */

/** `lib/cli.ts` -> `<dir>/lib/cli.mjs`: where an entry's module is in a build. */
export const moduleOf = (/** @type {string} */ dir, /** @type {string} */ entry) => join(dir, `${entry}.mjs`);

/**
 * import.meta.url, .dirname and .filename of the source file, not of the chunk it ends up in.
 * @param {string} text
 * @param {string} file
 */
export function sourceImportMeta(text, file) {
  /** @type {Record<string, string>} */
  const meta = { url: pathToFileURL(file).href, dirname: dirname(file), filename: file };
  return text.replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_, key) => JSON.stringify(meta[key]));
}

/** @type {import('esbuild').Plugin} */
const importMetaOfSource = {
  name: 'import-meta-of-source',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
      const text = await readFile(path, 'utf8');
      return text.includes('import.meta') ? { contents: sourceImportMeta(text, path), loader: 'ts' } : undefined;
    });
  },
};

/**
 * The build of the sources as they are now: the one already made, or a new one.
 * @param {string} root  the checkout
 * @param {string} buildRoot  where builds are kept (.build/)
 * @param {(line: string) => void} log
 * @returns {Promise<Build>}
 */
export async function currentBuild(root, buildRoot, log) {
  const sources = listSources(root);
  const fp = fingerprint(root, sources);
  const dir = join(buildRoot, fp);
  if (existsSync(join(dir, STAMP))) {
    log(`fresh: ${dir}`);
    return { dir, stamp: JSON.parse(readFileSync(join(dir, STAMP), 'utf8')), built: false };
  }
  const started = performance.now();
  mkdirSync(buildRoot, { recursive: true });
  const tmp = join(buildRoot, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const playbooks = shippedPlaybooks(sources);
  try {
    const esbuild = await import('esbuild');
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: Object.fromEntries([...LIB_ENTRIES, ...playbooks.map((p) => `playbooks/${p}`)].map((e) => [e, `${e}.ts`])),
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // Pure-JS packages go into the build: Node's loader resolves and compiles each file of a package on its own,
      // and zod, yaml and listr2 are hundreds of files (a third of the CLI's start). ssh2 has a native addon,
      // zx is loaded only when a role runs commands, ansible-vault is CommonJS: they stay in node_modules.
      external: UNBUNDLED,
      // A bundled CommonJS file (yaml's node build) requires Node's builtins: ESM has no `require`, so give it one.
      banner: { js: "import { createRequire as __gatewrightRequire } from 'node:module'; const require = __gatewrightRequire(import.meta.url);" },
      logLevel: 'silent',
      sourcemap: 'linked',
      plugins: [importMetaOfSource],
    });
    await esbuild.stop();
    /** @type {Stamp} */
    const stamp = { fingerprint: fp, root, sources: sources.length, newestMtimeMs: Math.max(...sources.map((s) => s.mtimeMs)), playbooks, ms: Math.round(performance.now() - started) };
    writeFileSync(join(tmp, STAMP), `${JSON.stringify(stamp, null, 2)}\n`);
    if (!place(tmp, dir)) return log(`built by another run: ${dir}`), { dir, stamp: JSON.parse(readFileSync(join(dir, STAMP), 'utf8')), built: false };
    log(`built: ${dir} (${sources.length} sources, ${stamp.ms} ms)`);
    removeOthers(buildRoot, fp);
    return { dir, stamp, built: true };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Renames the finished build into place; false when another run put the same build there first. */
function place(/** @type {string} */ tmp, /** @type {string} */ dir) {
  try {
    renameSync(tmp, dir);
    return true;
  } catch (error) {
    const code = /** @type {NodeJS.ErrnoException} */ (error).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(join(dir, STAMP))) return false;
    throw error;
  }
}

/**
 * Builds of older sources, and temp folders of builds that died. A run that picked an old build a moment ago
 * and finds it gone falls back to tsx (bin/play.mjs): removing it never breaks a run.
 */
function removeOthers(/** @type {string} */ buildRoot, /** @type {string} */ keep) {
  for (const name of readdirSync(buildRoot)) {
    const path = join(buildRoot, name);
    try {
      if (name === keep || (name.startsWith('.tmp-') && Date.now() - statSync(path).mtimeMs < ABANDONED_MS)) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Another run removed it first.
    }
  }
}
