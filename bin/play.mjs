// `npm run play`: the CLI without tsx's start. It runs lib/cli.ts from a build (launcher/build.mjs: made again
// whenever a source changed), in this process, so signals reach the CLI's own handling. A playbook that is not
// shipped, and any trouble with the build, run the sources under tsx instead, in this process too.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { currentBuild, moduleOf } from './launcher/build.mjs';
import { route } from './launcher/route.mjs';

const root = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
/** GATEWRIGHT_BUILD_DEBUG=1: which build, whether it was made now, and which route, on stderr. */
const log = process.env.GATEWRIGHT_BUILD_DEBUG ? (/** @type {string} */ line) => process.stderr.write(`launcher: ${line}\n`) : () => {};
const load = (/** @type {string} */ file) => import(pathToFileURL(file).href);

/**
 * The bundled CLI, ready to run with everything it will import already loaded (a build removed later by
 * another run cannot break this one); undefined when the command line needs tsx.
 * @returns {Promise<(() => void) | undefined>}
 */
async function fromBuild() {
  process.setSourceMapsEnabled(true); // an internal error's stack names lib/*.ts lines, as under tsx
  const { dir, stamp } = await currentBuild(root, process.env.GATEWRIGHT_BUILD_DIR || join(root, '.build'), log);
  const [{ parseCli }, { playbookFile }] = await Promise.all([load(moduleOf(dir, 'lib/args')), load(moduleOf(dir, 'lib/playbooks'))]);
  const shipped = new Map(stamp.playbooks.map((p) => [join(root, 'playbooks', `${p}.ts`), moduleOf(dir, `playbooks/${p}`)]));
  const chosen = route(argv, { parseCli, playbookFile, shipped, exists: existsSync });
  if (chosen.via === 'tsx') return log('route: tsx (a playbook outside the build)'), undefined;
  const { playbook } = chosen;
  const [cli, playbookModule] = await Promise.all([load(moduleOf(dir, 'lib/cli')), playbook && load(playbook.module)]);
  log(`route: build${playbook ? ` (${playbook.module})` : ''}`);
  return () => cli.run(argv, (/** @type {string} */ file) => (file === playbook?.file ? Promise.resolve(playbookModule) : load(file)));
}

async function fromSources() {
  const { register } = await import('tsx/esm/api');
  register();
  const cli = await load(join(root, 'lib', 'cli.ts'));
  cli.run(argv);
}

/** @type {(() => void) | undefined} */
let start;
try {
  start = await fromBuild();
} catch (error) {
  // Never fail because of the cache: no esbuild, a failed build, a build removed under us.
  log(`no build (${error instanceof Error ? error.message.split('\n')[0] : String(error)}): tsx`);
}
if (start) start();
else await fromSources();
