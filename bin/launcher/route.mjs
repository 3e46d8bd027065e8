// Which CLI a command line runs on: the build (lib/ and the shipped playbooks, bundled) or tsx from the
// sources. Any other playbook runs under tsx: its imports of lib/*.ts would load a second lib/ beside the
// bundled one, and an error class checked with instanceof would be two classes.

/**
 * @typedef {{ playbook?: string, playbookDir: string, help: boolean, adhocCommand?: string }} Parsed
 * @typedef {{ via: 'build', playbook?: { file: string, module: string } } | { via: 'tsx' }} Route
 * @typedef {{
 *   parseCli: (argv: string[]) => Parsed,
 *   playbookFile: (nameOrPath: string, dir: string) => string,
 *   shipped: Map<string, string>,
 *   exists: (file: string) => boolean,
 * }} Build  the build's own parseCli and playbookFile; shipped: a shipped playbook's file -> its bundled module
 */

/**
 * @param {string[]} argv
 * @param {Build} build
 * @returns {Route}
 */
export function route(argv, { parseCli, playbookFile, shipped, exists }) {
  /** @type {Parsed} */
  let opts;
  try {
    opts = parseCli(argv);
  } catch {
    return { via: 'build' }; // the bundled CLI parses again and says what is wrong (exit 4)
  }
  // --help, no playbook named, an ad-hoc command: no playbook is loaded.
  if (opts.help || !opts.playbook || opts.adhocCommand !== undefined) return { via: 'build' };
  const file = playbookFile(opts.playbook, opts.playbookDir);
  const module = shipped.get(file);
  if (module) return { via: 'build', playbook: { file, module } };
  // A playbook that is not there: the bundled CLI says so, without tsx's start.
  return exists(file) ? { via: 'tsx' } : { via: 'build' };
}
