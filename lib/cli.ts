// `npm run play <playbook> -- [flags]`: parse, validate, call the runner, exit code. Nothing else.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { helpText, parseCli, type CliOptions } from './args.ts';
import { Connections } from './connections.ts';
import { InputError } from './errors.ts';
import { Interrupt, trapSignals } from './interrupt.ts';
import { loadInventory } from './inventory.ts';
import { lockOwner, RunLock } from './lock.ts';
import { limitHosts, planRun, stepTags } from './plan.ts';
import { availablePlaybooks, loadPlaybook, type PlaybookImport } from './playbooks.ts';
import { askPassword } from './prompt.ts';
import { Keyring, vaultPasswords } from './vault.ts';
import { Redactor } from './redact.ts';
import { plainRenderer, type Renderer } from './render.ts';
import { runLog, runStamp, writeJsonReport } from './report.ts';
import { writeRetryFile } from './retry-file.ts';
import { runPlaybook } from './runner.ts';
import { runAdhoc } from './adhoc.ts';
import { resolvePattern } from './patterns.ts';
import type { Inventory } from './types.ts';
import { checkPlaybookVars, parseExtraVars } from './vars.ts';
import type { Listener } from './events.ts';

const DEFAULT_INVENTORY = 'inventory/lab.yaml';
const NO_TERMINAL_FOR_VAULT = 'asking for a vault password needs a terminal; use --vault-password-file or ANSIBLE_VAULT_PASSWORD_FILE';
const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);
/** How long a forced interrupt spends putting things back before it exits anyway. */
const FORCED_RESTORE_MS = 60_000;

export async function main(argv: string[], importPlaybook?: PlaybookImport): Promise<number> {
  const opts = parseCli(argv);
  if (opts.help) return out(helpText()), 0;
  if (!opts.playbook) {
    if (opts.adhocCommand !== undefined) throw new InputError('-a COMMAND needs a host pattern: npm run play -- <pattern> -a COMMAND');
    throw new InputError(`which playbook? available in ${opts.playbookDir}/: ${availablePlaybooks(opts.playbookDir).join(', ') || 'none'} (see --help)`);
  }
  const { inventory, keyring } = await readInventory(opts);
  if (opts.adhocCommand !== undefined) return adhoc(opts, opts.playbook, opts.adhocCommand, inventory, keyring);
  if (opts.become) for (const host of inventory.hosts.values()) host.vars.ansible_become ??= true;
  const playbook = await loadPlaybook(opts.playbook, opts.playbookDir, importPlaybook);
  const plan = planRun(playbook, inventory, opts); // validates patterns, --limit and needs before connecting
  const selected = [...new Set(plan.plays.flatMap((p) => p.hosts))];
  for (const warning of checkPlaybookVars(playbook.variables, selected)) err(`warning: ${warning}`);

  if (opts.listHosts || opts.listTasks || opts.listTags) {
    for (const p of plan.plays) {
      out(`play ${p.play.name} (${p.play.hosts}${p.play.runOnce ? ', run once' : ''}): ${p.runHosts.map((h) => h.name).join(', ') || '(no hosts)'}`);
      if (opts.listTasks) for (const s of p.steps) out(`  - ${s.name}  [${stepTags(p.play, s).join(', ')}]`);
      if (opts.listTags) out(`  TAGS: [${[...new Set(p.steps.flatMap((s) => stepTags(p.play, s)))].join(', ')}]`);
    }
    return 0;
  }

  // The tree (listr2) is drawn only on a terminal: there it loads while the hosts connect; a pipe never loads it.
  const tree = process.stdout.isTTY && !opts.verbose ? import('./tree-view.ts') : undefined;
  tree?.catch(() => undefined); // awaited (and thrown) by renderer(); this only keeps it from being unhandled
  const { redactor, connections } = await connect(opts, keyring);
  // The hosts connect now, --forks at a time (a failure is the run's to report, on first use), while the tree loads.
  const connecting = pLimit(Math.max(1, opts.forks));
  for (const host of new Set(plan.nodes.map((n) => n.host))) void connecting(() => connections.get(host)).catch(() => undefined);
  // --check changes nothing: it neither takes nor waits for the lock.
  const lock = opts.check
    ? undefined
    : new RunLock(connections.get, {
        owner: lockOwner(playbook.name),
        breakLock: opts.breakLock,
        onBroken: (host, holder) => err(`${host}: broke the run lock held by: ${holder}`),
      });
  const close = async () => {
    for (const failure of (await lock?.release()) ?? []) err(`warning: ${failure}`);
    await connections.closeAll();
  };
  const interrupt = new Interrupt();
  const untrap = trapSignals(interrupt, {
    graceful: () => err('\ninterrupted (SIGINT): no new step starts; running steps finish and put back what they took down. Ctrl-C again to put it back now and exit.'),
    force: async (signal) => {
      const held = interrupt.holding();
      err(`\ninterrupted (${signal}): putting back now: ${held.join('; ') || 'nothing is held down'}`);
      const timeout = new Promise<string[]>((resolve) => setTimeout(() => resolve([`gave up after ${FORCED_RESTORE_MS / 1000} s`]), FORCED_RESTORE_MS).unref());
      for (const failure of await Promise.race([interrupt.restoreAll(), timeout])) err(`could not put back: ${failure}`);
      await Promise.race([close(), timeout]);
      exit(interrupt.exitCode!);
    },
    exitNow: (code) => process.exit(code),
  });
  const runDir = join(opts.runsDir, runStamp());
  const view = await renderer(opts, tree);
  const listeners: Listener[] = [view.listener, runLog(runDir)];
  const transports = lock?.transports ?? connections.get;
  // The lock is taken with each host's first read; held elsewhere, this throws (exit 4) before anything started.
  const summary = await runPlaybook(playbook, opts, { inventory, transports, listeners, redactor, close, interrupt, lock }).finally(untrap);
  await view.done();
  if (opts.json) writeJsonReport(opts.json, summary);
  out(`logs: ${runDir}/`);
  const retry = writeRetryFile(runDir, summary);
  if (retry) out(`retry the failed and unreachable hosts: --limit @${retry}`);
  return summary.exitCode;
}

/** -i (or the lab's default), vault passwords, -e: the inventory, checked, before anything connects. */
async function readInventory(opts: CliOptions): Promise<{ inventory: Inventory; keyring: Keyring }> {
  const inventories = opts.inventories.length ? opts.inventories : existsSync(DEFAULT_INVENTORY) ? [DEFAULT_INVENTORY] : [];
  if (!inventories.length) throw new InputError(`no inventory: pass -i FILE or -i DIRECTORY (${DEFAULT_INVENTORY} does not exist)`);
  const keyring = new Keyring(
    await vaultPasswords({
      passwordFiles: opts.vaultPasswordFiles,
      ids: opts.vaultIds,
      asked: opts.askVaultPass ? await askPassword('Vault password: ', NO_TERMINAL_FOR_VAULT) : undefined,
      envFile: process.env.ANSIBLE_VAULT_PASSWORD_FILE || undefined,
      prompt: (question) => askPassword(question, NO_TERMINAL_FOR_VAULT),
    }),
  );
  const inventory = loadInventory(inventories, { extraVars: parseExtraVars(opts.extraVars, keyring), defaultUser: opts.user, keyring });
  return { inventory, keyring };
}

/** Secrets known before the run (vault plaintexts, the become password) and the connections' settings. */
async function connect(opts: CliOptions, keyring: Keyring): Promise<{ redactor: Redactor; connections: Connections }> {
  const redactor = new Redactor();
  for (const revealed of keyring.revealed) redactor.add(revealed);
  const becomePassword = opts.askBecomePass ? await askPassword('BECOME password: ') : process.env.GW_BECOME_PASSWORD;
  redactor.add(becomePassword);
  const connections = new Connections({
    knownHostsFile: opts.knownHosts,
    acceptNewHostKeys: opts.acceptNewHostKeys,
    privateKeyFile: opts.privateKey,
    connectTimeoutMs: opts.timeoutSeconds * 1000,
    attempts: 3,
    becomePassword,
  });
  return { redactor, connections };
}

/** `npm run play -- <pattern> -a COMMAND`: no lock (a look at the hosts must not wait for a run). */
async function adhoc(opts: CliOptions, pattern: string, command: string, inventory: Inventory, keyring: Keyring): Promise<number> {
  let hosts = resolvePattern(inventory, pattern);
  if (opts.limit !== undefined) {
    const limit = new Set(limitHosts(inventory, opts.limit));
    hosts = hosts.filter((h) => limit.has(h.name));
  }
  if (!hosts.length) throw new InputError(`host pattern ${pattern}${opts.limit ? ` with --limit ${opts.limit}` : ''} selects no host`);
  if (opts.listHosts) return hosts.forEach((h) => out(h.name)), 0;
  const { redactor, connections } = await connect(opts, keyring);
  for (const h of hosts) redactor.addFromVars(h.vars);
  const runDir = join(opts.runsDir, runStamp());
  try {
    const { exitCode } = await runAdhoc(hosts, { command, become: opts.become, becomeUser: opts.becomeUser, forks: opts.forks }, { transports: connections.get, redactor, write: out, log: runLog(runDir) });
    return exitCode;
  } finally {
    await connections.closeAll();
  }
}

async function renderer(opts: CliOptions, tree: Promise<typeof import('./tree-view.ts')> | undefined): Promise<Renderer> {
  if (tree) return (await tree).treeRenderer({ diff: opts.diff, write: out });
  return { listener: plainRenderer({ verbose: opts.verbose, diff: opts.diff, write: out }), done: async () => undefined };
}

function exit(code: number): void {
  process.exitCode = code;
  // Let stdout drain; do not wait for a stray handle.
  setTimeout(() => process.exit(code), 500).unref();
}

/** The whole command: main, then the exit code (4 for bad input, 1 for a bug). bin/play.mjs calls it in-process. */
export function run(argv: string[], importPlaybook?: PlaybookImport): void {
  main(argv, importPlaybook).then(exit, (error: unknown) => {
    if (error instanceof InputError) {
      process.stderr.write(`error: ${error.message}\n`);
      exit(4);
    } else {
      process.stderr.write(`internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
      exit(1);
    }
  });
}

// `tsx lib/cli.ts` runs it; an import (the launcher, its build) does not.
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('lib/cli.ts')) run(process.argv.slice(2));
