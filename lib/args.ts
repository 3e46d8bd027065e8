// The command line: flags (node:util parseArgs), their help text, and validation into typed options.
import { parseArgs } from 'node:util';
import { InputError } from './errors.ts';
import { expandLimit } from './retry-file.ts';

const FLAGS = {
  inventory: { type: 'string', short: 'i', multiple: true, arg: 'PATH', help: 'inventory: a YAML or INI file, or a directory of them (repeatable, merged in order; default inventory/lab.yaml if it exists)' },
  limit: { type: 'string', short: 'l', arg: 'PATTERN', help: 'only these hosts/groups: host|group[,…], a:b, group:!host, group:&other; @FILE: the hosts listed in FILE (a run\'s .runs/<stamp>/failed)' },
  tags: { type: 'string', short: 't', arg: 'LIST', help: 'only steps with one of these tags (a play\'s tags include its name and role)' },
  'skip-tags': { type: 'string', arg: 'LIST', help: 'skip steps with one of these tags' },
  'extra-vars': { type: 'string', short: 'e', multiple: true, arg: 'VARS', help: 'key=value, @file.yaml or a {…} mapping; highest precedence (repeatable)' },
  forks: { type: 'string', short: 'f', arg: 'N', help: 'hosts worked on at once (default 10)' },
  check: { type: 'boolean', short: 'C', help: 'plan every step, change nothing, say what would change' },
  diff: { type: 'boolean', short: 'D', help: 'show unified diffs of files that change (secret files hidden)' },
  verbose: { type: 'boolean', short: 'v', help: 'a line per event, every command and its streamed output' },
  json: { type: 'string', arg: 'FILE', help: 'write a machine-readable report (results, counts, timings, exit code)' },
  'list-hosts': { type: 'boolean', help: 'print the hosts of each play and exit' },
  'list-tags': { type: 'boolean', help: 'print the tags of each play\'s steps and exit' },
  'start-at-step': { type: 'string', arg: 'NAME', help: 'begin at the first step of this name (wildcards allowed); earlier steps and plays are not run' },
  'list-tasks': { type: 'boolean', help: 'print the steps of each play (after --tags/--skip-tags) and exit' },
  'known-hosts': { type: 'string', arg: 'FILE', help: 'known_hosts file (else var ssh_known_hosts_file, else ~/.ssh/known_hosts)' },
  'accept-new-host-keys': { type: 'boolean', help: 'record unknown host keys in the known_hosts file once the login succeeded (changed keys and new key types for a known host are always refused)' },
  'private-key': { type: 'string', arg: 'FILE', help: 'ssh key for hosts without ansible_ssh_private_key_file (ssh-agent is used too)' },
  user: { type: 'string', short: 'u', arg: 'USER', help: 'login user for hosts without ansible_user' },
  timeout: { type: 'string', arg: 'SECONDS', help: 'ssh connect timeout (default 10)' },
  'break-lock': { type: 'boolean', help: 'remove a run lock left by a dead controller, then take it (see docs/OPERATIONS.md)' },
  'vault-password-file': { type: 'string', multiple: true, arg: 'FILE', help: 'ansible-vault password: a file holding it, or an executable printing it (repeatable)' },
  'vault-id': { type: 'string', multiple: true, arg: '[ID@]SOURCE', help: 'a vault id\'s password: SOURCE is a file, an executable or prompt (repeatable)' },
  'ask-vault-pass': { type: 'boolean', short: 'J', help: 'prompt for the vault password (else ANSIBLE_VAULT_PASSWORD_FILE)' },
  args: { type: 'string', short: 'a', arg: 'COMMAND', help: 'ad-hoc: run COMMAND (sh) on the hosts of the pattern given instead of a playbook, in parallel' },
  become: { type: 'boolean', short: 'b', help: 'become root through sudo where the inventory does not say (ansible_become)' },
  'become-user': { type: 'string', arg: 'USER', help: 'ad-hoc: become this user instead of root (else ansible_become_user)' },
  'ask-become-pass': { type: 'boolean', short: 'K', help: 'prompt for the become password, sudo or su (else ansible_become_password or GW_BECOME_PASSWORD)' },
  'playbook-dir': { type: 'string', arg: 'DIR', help: 'where playbooks live (default playbooks/)' },
  'runs-dir': { type: 'string', arg: 'DIR', help: 'where per-host logs go (default .runs/)' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
} as const;

export interface CliOptions {
  playbook?: string;
  /** -i, in the order given (empty: the default inventory). */
  inventories: string[];
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  extraVars: string[];
  forks: number;
  check: boolean;
  diff: boolean;
  verbose: boolean;
  json?: string;
  listHosts: boolean;
  listTasks: boolean;
  listTags: boolean;
  startAtStep?: string;
  knownHosts?: string;
  acceptNewHostKeys: boolean;
  privateKey?: string;
  user?: string;
  timeoutSeconds: number;
  askBecomePass: boolean;
  /** -a: an ad-hoc command; then the positional is a host pattern. */
  adhocCommand?: string;
  become: boolean;
  becomeUser?: string;
  vaultPasswordFiles: string[];
  vaultIds: string[];
  askVaultPass: boolean;
  breakLock: boolean;
  playbookDir: string;
  runsDir: string;
  help: boolean;
}

export const EXIT_CODES: [number, string][] = [
  [0, 'every host converged (or would, with --check)'],
  [1, 'internal error (a bug: please report it with the run log)'],
  [2, 'some host failed (also when others were unreachable)'],
  [3, 'some host was unreachable (none failed)'],
  [4, 'bad input: inventory, flags or playbook; or another run holds the lock on a host (nothing changed)'],
  [130, 'interrupted by Ctrl-C (SIGINT); 143 by SIGTERM, 129 by SIGHUP: what steps took down was put back'],
];

export function helpText(): string {
  const rows = Object.entries(FLAGS).map(([name, f]) => {
    const short = 'short' in f ? `-${f.short}, ` : '    ';
    const arg = 'arg' in f ? ` ${f.arg}` : '';
    return [`  ${short}--${name}${arg}`, f.help];
  });
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return [
    'usage: npm run play <playbook> -- [flags]      (e.g. npm run play site -- -i inventory/lab.yaml --limit gateway)',
    '       npm run play -- <pattern> -a COMMAND [-b] [flags]   (ad-hoc, e.g. npm run play -- etcd -a uptime)',
    '',
    'Runs playbooks/<playbook>.ts (or a path to a playbook file) against the inventory; with -a, runs one',
    'command on the hosts of <pattern> instead.',
    '',
    'flags:',
    ...rows.map(([a, b]) => a.padEnd(width) + b),
    '',
    'exit codes:',
    ...EXIT_CODES.map(([c, t]) => `  ${String(c).padEnd(3)}  ${t}`),
  ].join('\n');
}

const list = (v?: string): string[] | undefined => v?.split(',').map((s) => s.trim()).filter(Boolean);

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`--${name} ${v}: expected a positive whole number`);
  return n;
}

export function parseCli(argv: string[]): CliOptions {
  let parsed;
  try {
    const options = Object.fromEntries(
      Object.entries(FLAGS).map(([k, f]) => [k, { type: f.type, ...('short' in f && { short: f.short }), ...('multiple' in f && { multiple: f.multiple }) }]),
    );
    parsed = parseArgs({ args: argv, options: options as never, allowPositionals: true, strict: true });
  } catch (error) {
    throw new InputError(`${(error as Error).message.split('\n')[0]} (see --help)`);
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const positionals = parsed.positionals[0] === 'play' ? parsed.positionals.slice(1) : parsed.positionals;
  if (positionals.length > 1) throw new InputError(`one playbook at a time, got: ${positionals.join(' ')}`);
  const s = (k: string) => v[k] as string | undefined;
  const b = (k: string) => v[k] === true;
  return {
    playbook: positionals[0],
    inventories: (v.inventory as string[] | undefined) ?? [],
    limit: expandLimit(s('limit')),
    tags: list(s('tags')),
    skipTags: list(s('skip-tags')),
    extraVars: (v['extra-vars'] as string[] | undefined) ?? [],
    forks: positiveInt('forks', s('forks'), 10),
    check: b('check'),
    diff: b('diff'),
    verbose: b('verbose'),
    json: s('json'),
    listHosts: b('list-hosts'),
    listTasks: b('list-tasks'),
    listTags: b('list-tags'),
    startAtStep: s('start-at-step'),
    knownHosts: s('known-hosts'),
    acceptNewHostKeys: b('accept-new-host-keys'),
    privateKey: s('private-key'),
    user: s('user'),
    timeoutSeconds: positiveInt('timeout', s('timeout'), 10),
    askBecomePass: b('ask-become-pass'),
    adhocCommand: s('args'),
    become: b('become'),
    becomeUser: s('become-user'),
    vaultPasswordFiles: (v['vault-password-file'] as string[] | undefined) ?? [],
    vaultIds: (v['vault-id'] as string[] | undefined) ?? [],
    askVaultPass: b('ask-vault-pass'),
    breakLock: b('break-lock'),
    playbookDir: s('playbook-dir') ?? 'playbooks',
    runsDir: s('runs-dir') ?? '.runs',
    help: b('help'),
  };
}
