// The contract between the runner (lib/) and the roles (roles/) and playbooks (playbooks/).
// Roles only ever see these types; how hosts are reached, scheduled and rendered lives behind them.

import type { RemoteShell } from './remote-shell.ts';

// ---------------------------------------------------------------- commands and transports

export interface ExecResult {
  /** Exit code of the remote command (or -1 when it was killed by the timeout). */
  code: number;
  stdout: string;
  stderr: string;
  ok: boolean;
}

export interface ExecOptions {
  /** Run as root through sudo (the host's `ansible_become` decides the default). */
  become?: boolean;
  /** With `become`: run as this user instead of root (ad-hoc commands; the roles always need root). */
  becomeUser?: string;
  /** Kill the command after this long; default 120 s (`command_timeout` var). */
  timeoutMs?: number;
  /** Bytes for the command's stdin: how secrets reach a command without showing in argv. */
  stdin?: string | Buffer;
  /** Do not throw on a non-zero exit; the caller reads `code`. Throwing is the default (as in zx). */
  nothrow?: boolean;
  /** Stream stdout/stderr lines to the verbose log as they arrive. */
  stream?: boolean;
  /** Called with each chunk of output as it arrives (set by the runner for -v / `stream`). */
  onOutput?(chunk: string, stream: 'stdout' | 'stderr'): void;
  /** The output holds secrets (e.g. a secret file's content): logs and reports show it hidden. */
  secretOutput?: boolean;
}

export interface PutOptions {
  mode?: number; // e.g. 0o600
  owner?: string; // "user" or "user:group"
  become?: boolean;
}

/** How one host is reached: ssh (node-ssh) for remote hosts, local (zx) for the controller. */
export interface Transport {
  readonly kind: 'ssh' | 'local';
  /** `command` is one shell command line, every value already quoted with lib/shell.ts `sh`. */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Atomically writes `content` to `path` (temp file in the same directory + rename). */
  put(path: string, content: string | Buffer, opts?: PutOptions): Promise<void>;
  /** Uploads a local file (large bundles) to `path`, atomically, as above. */
  putFile(localPath: string, path: string, opts?: PutOptions): Promise<void>;
  close(): Promise<void>;
}

/** Thrown by exec when a command fails and `nothrow` was not set. */
export class CommandError extends Error {
  constructor(
    readonly host: string,
    readonly command: string,
    readonly result: ExecResult,
  ) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    super(`command failed on ${host} (exit ${result.code}): ${command}${tail ? `\n${tail}` : ''}`);
    this.name = 'CommandError';
  }
}

// ---------------------------------------------------------------- inventory

export type Vars = Record<string, unknown>;

export interface Host {
  /** Inventory name (e.g. lab1). */
  name: string;
  /** ansible_host, or the name. */
  address: string;
  port: number;
  user: string;
  /** Groups this host belongs to, directly or through children. */
  groups: string[];
  /** Fully merged variables: all < parent groups < child groups < host_vars < -e extra vars. */
  vars: Vars;
}

export interface Inventory {
  /** The file it was read from (for messages). */
  source: string;
  hosts: Map<string, Host>;
  /** group name -> host names, children resolved; always has `all`. */
  groups: Map<string, string[]>;
  /** Hosts of a group, in inventory order; throws on an unknown group. */
  group(name: string): Host[];
}

// ---------------------------------------------------------------- facts

/** A fact is a command plus a parser, memoised per host per run (pyinfra-style). */
export interface Fact<T> {
  name: string;
  command: string;
  become?: boolean;
  /** Its output may hold secrets (a file's content): never logged nor reported, read alone or in a batch. */
  secret?: boolean;
  /**
   * Bytes for the command's stdin (a password for a login: never in argv). In a batch it is the batch's stdin,
   * read by this fact alone: one such fact per batch, any other is read by itself when asked.
   */
  stdin?: string;
  /** Parse the result. The fact's command runs with nothrow: parse sees the exit code. */
  parse(result: ExecResult): T;
}

// ---------------------------------------------------------------- steps

export type Status = 'ok' | 'changed' | 'failed' | 'skipped';

/** A command a change runs on its host, as `--check -v` prints it. A bare string runs as root (become); an object without `become` as the host's default (ansible_become). */
export type PlannedCommand =
  | string
  | { command: string; become?: boolean; timeoutMs?: number; /** Secret bytes for stdin: never in argv. */ stdin?: string; /** Output lines to the -v log as they arrive (a package install). */ stream?: boolean };

/** A file a change writes on its host (atomically: a temp file in the same folder, then rename). */
export interface PlannedWrite {
  path: string;
  content: string | Buffer;
  mode?: number;
  owner?: string;
  become?: boolean;
  /** The content holds secrets: `--check -v` and logs show its path only. */
  secret?: boolean;
}

/**
 * One difference between what is and what should be, and how to close it, as data: the files it writes, then
 * the commands it runs, in order (`--check -v` prints both). `apply` is for what is more than commands
 * (orchestration: a rolling restart behind the LBs, a health gate); it runs after the writes and commands.
 */
export interface Change {
  /** Says what will change, e.g. "write /opt/api7/dp/gateway_conf/config.yaml". */
  summary: string;
  /** Unified diff for --diff; the runner redacts secrets (and whole files marked secret). */
  diff?: string;
  writes?: PlannedWrite[];
  commands?: PlannedCommand[];
  apply?(): Promise<void>;
  /** Runs the whole change (writes, commands, apply) inside something: a health gate after it, a warning on failure. Set with `lib/change.ts` `around`. */
  around?(inner: () => Promise<void>): Promise<void>;
}

export interface StepContext {
  host: Host;
  inventory: Inventory;
  /** This host's merged vars plus role defaults (vars win). */
  vars: Vars;
  /** --check: plan only; the runner never calls `apply` then. */
  check: boolean;
  /** Run a command on this host (throws CommandError unless nothrow). */
  run(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /**
   * zx's `$` bound to this host, as root: `` await ctx.$`docker load -i ${tarball}` `` quotes every value for
   * POSIX sh, runs like `run(..., { become: true })` and throws zx's ProcessOutput on a non-zero exit.
   * `ctx.$({ become: false })` runs as the login user; `ctx.$({ nothrow, input, timeout, secretOutput, stream, cwd })`.
   */
  $: RemoteShell;
  /** A fact of this host, memoised for the run: `fresh` reads it again; `current` reads it again only if something changed since. */
  fact<T>(fact: Fact<T>, opts?: { fresh?: boolean; current?: boolean }): Promise<T>;
  /** The transport itself (put / putFile). */
  transport: Transport;
  /** Another host's context (delegation: run etcdctl on an etcd node from the dashboard role). */
  on(hostName: string): StepContext;
  /** Has this run found that host unreachable? (A gate may then count it out, as a known loss, not a failure.) */
  unreachable(hostName: string): boolean;
  /** Registers a value that must be redacted from every output, log and report. */
  secret(value: string): void;
  /** A line for the verbose renderer and the host's log. */
  log(line: string): void;
  /** Something the operator should know though nothing failed (e.g. etcd auth is off): printed once in the recap. */
  warn(message: string): void;
  /**
   * Figures a step measured (e.g. the verify playbook's request counts): they go into this step's
   * result (`data`), the `--json` report and the line printed for the step. Optional: contexts built outside
   * the runner may lack it.
   */
  report?(key: string, value: unknown): void;
  /** State shared by every host of the same play during one run (locks, run-once, barriers). */
  play: PlayShared;
  /**
   * Takes something down (drains a server, stops a service) and keeps `restore` until the step calls
   * `restore()` on the answer, which it does in a `finally`. If the run is interrupted meanwhile and the
   * operator insists (second Ctrl-C, SIGTERM), the runner calls it. Refused once the run is interrupted.
   */
  hold(what: string, takeDown: () => Promise<unknown>, restore: () => Promise<void>): Promise<{ restore(): Promise<void> }>;
}

export interface PlayShared {
  /** Runs `fn` once per key for the whole play; every caller gets its result (run again by a waiting host if the one running it lost its connection). */
  once<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /**
   * `when` of a run-once step: true on the host that is to do it, the play's first host still alive (its node
   * running, not yet past this step); 'done once, by <host>' on the others, once that host has done it. Waits
   * while an earlier host is on its way; if the host doing it fails or is unreachable, the next one does it.
   */
  lead(): Promise<true | string>;
  /** Runs `fn` while holding the play-wide lock `key`: one host at a time (rolling changes). */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** The host's node in this play has started (before its connection and its batched facts) and not ended. */
  running(host: string): boolean;
  /** Hosts of the play (after --limit), in inventory order. */
  hosts: Host[];
  /** Free-form shared map (results of `once`, flags). */
  state: Map<string, unknown>;
}

/**
 * A step: look (facts), plan what differs, apply, verify.
 *  - `plan` returns the changes needed; [] means ok (nothing to do).
 *  - `when` returning a string skips the step with that reason.
 *  - `verify` runs after apply (and on ok) to prove the state; throwing fails the step.
 */
export interface Step {
  name: string;
  /** Tags for --tags/--skip-tags, in addition to the role's name. */
  tags?: string[];
  when?(ctx: StepContext): boolean | string | Promise<boolean | string>;
  plan(ctx: StepContext): Promise<Change[]>;
  verify?(ctx: StepContext): Promise<void>;
}

export interface StepResult {
  host: string;
  play: string;
  step: string;
  status: Status;
  /** Why skipped / what changed / why failed (redacted). */
  reason?: string;
  changes: string[];
  diffs: string[];
  /** What the planned changes write and run (`write <path>`, `$ <command>`), for `--check -v` and the report. */
  planned?: string[];
  durationMs: number;
  /** Figures the step reported through `ctx.report` (absent when none). */
  data?: Record<string, unknown>;
}

// ---------------------------------------------------------------- roles and playbooks

export interface Role {
  name: string;
  /** Defaults for vars; inventory vars override them. */
  defaults?: Vars;
  /**
   * The facts this role's steps read: fetched together, in one batched remote command per host, when the role
   * starts on a host (then memoised as any fact; a step re-reads one with `fresh` after a change). A function
   * when they depend on the host's variables (a file under the configured data dir).
   */
  facts?: readonly Fact<unknown>[] | ((ctx: StepContext) => readonly Fact<unknown>[]);
  steps: Step[];
}

export interface Play {
  /** Unique in the playbook; other plays name it in `needs`. */
  name: string;
  /** Group or host pattern, e.g. "etcd", "all", "gateway:!lab5". */
  hosts: string;
  role: Role;
  /** Hosts at a time for this play (rolling); default: all (bounded by --forks). */
  serial?: number;
  /** Run on one host of `hosts` only (run-once plays like the smoke route): the first still alive. */
  runOnce?: boolean;
  /**
   * What must be done before a host of this play starts.
   *  - { play, scope: 'host' }: the same host must have finished that play (docker before etcd).
   *  - { play, scope: 'all' }: every host of that play must have finished and succeeded.
   *  - { play, scope: 'alive' }: every host of that play must have finished, and those reached succeeded: a host
   *    found unreachable does not hold this play back (what it serves is the play's own check: the etcd gate
   *    counts quorum, the LB marks the server down). One dead host then stops only its own work.
   * A failed dependency skips the dependent host(s) with the reason.
   */
  needs?: { play: string; scope: 'host' | 'all' | 'alive' }[];
  tags?: string[];
  /**
   * Part of the role: only its steps tagged with one of `only`, or all but those tagged with one of `except`.
   * One role then runs as two plays that wait for different things (a bundle unpacked and loaded while etcd
   * forms, the service started once etcd is there).
   */
  steps?: { only?: string[]; except?: string[] };
}

/** The variables a playbook's roles read: checked once per host when the inventory is loaded, before anything runs. */
export interface VariableSchema {
  /** Problems in one host's merged vars (bad type, bad value), each naming its key; [] when valid. */
  check(vars: Vars): { key: string; message: string }[];
  /** Every variable name the roles read, for the unknown-name warning (with the closest known name). */
  readonly names: readonly string[];
}

export interface Playbook {
  name: string;
  description: string;
  plays: Play[];
  /** The stack's variable schema; without it the runner checks only its own connection vars. */
  variables?: VariableSchema;
}

export const defineRole = (role: Role): Role => role;
export const definePlaybook = (playbook: Playbook): Playbook => playbook;
export const defineStep = (step: Step): Step => step;
export const defineFact = <T>(fact: Fact<T>): Fact<T> => fact;
