// One run at a time per host: before a run changes anything it takes a lock file on every host it targets, at
// the head of the host's first batched read (the facts are read only once it is taken), or alone where that
// read did not take it. The file is root's, in /run (gone after a reboot), created with O_EXCL (`set -C`), and
// says who holds it and since when. A second run finds it and refuses (exit 4) with that text, nothing changed:
// no step starts anywhere before every host's lock is taken; a lock left by a dead controller is broken with
// --break-lock. Hosts reached only through delegation (the LB a gateway is drained on) are locked on first contact.
import { hostname, userInfo } from 'node:os';
import pLimit from 'p-limit';
import type { TransportFactory } from './connections.ts';
import type { BatchHead } from './facts.ts';
import { errorMessage, InputError, UnreachableError } from './errors.ts';
import { isLocal } from './patterns.ts';
import { sh } from './shell.ts';
import type { ExecResult, Host, Transport } from './types.ts';

export const LOCK_FILE = '/run/gatewright.lock';

/** `gatewright_lock_file` moves it (hosts that share one machine in tests and benches need one per run of them). */
export function lockFileOf(host: Host): string {
  const file = host.vars.gatewright_lock_file ?? LOCK_FILE;
  if (typeof file !== 'string' || !file.startsWith('/')) throw new InputError(`${host.name}: gatewright_lock_file must be an absolute path, got ${JSON.stringify(file)}`);
  return file;
}
const TAKE_TIMEOUT_MS = 30_000;

/** The holder's line: controller, user, pid, playbook and since when. */
export function lockOwner(playbook: string, now = new Date()): string {
  return `gatewright ${playbook} run by ${userInfo().username}@${hostname()} (pid ${process.pid}) since ${now.toISOString()}`;
}

/** takeLockCmd's exit code when another run holds the lock (0: taken; anything else: it failed). */
export const HELD_EXIT = 3;

/**
 * Creates the lock file or prints who holds it (exit HELD_EXIT: a batch it heads reads nothing). With
 * `breakLock`, removes a held lock first and prints it.
 */
export function takeLockCmd(owner: string, breakLock = false, file = LOCK_FILE): string {
  return [
    sh`f=${file}; me=${owner}`,
    breakLock ? `if [ -e "$f" ]; then printf 'broke: %s\\n' "$(cat "$f")"; rm -f "$f"; fi` : ':',
    `if (set -C; printf '%s\\n' "$me" >"$f") 2>/dev/null; then echo 'lock: taken'`,
    `elif [ "$(cat "$f" 2>/dev/null)" = "$me" ]; then echo 'lock: taken'`,
    `elif [ -e "$f" ]; then echo 'lock: held'; cat "$f"; exit ${HELD_EXIT}`,
    `else echo "cannot create $f" >&2; exit 1; fi`,
  ].join('\n');
}

/** Removes the lock only while it is still ours (never a lock another run took after a --break-lock). */
export const releaseLockCmd = (owner: string, file = LOCK_FILE): string =>
  sh`f=${file}; if [ "$(cat "$f" 2>/dev/null)" = ${owner} ]; then rm -f "$f"; fi`;

export type TakeAnswer = { taken: true; broke?: string } | { taken: false; holder: string };

export function parseTake(stdout: string): TakeAnswer {
  const lines = stdout.split('\n').map((l) => l.trim());
  const broke = lines.find((l) => l.startsWith('broke: '))?.slice('broke: '.length);
  if (lines.includes('lock: taken')) return broke ? { taken: true, broke } : { taken: true };
  const at = lines.indexOf('lock: held');
  if (at < 0) throw new Error(`unexpected answer while taking ${LOCK_FILE}: ${stdout.slice(0, 200)}`);
  return { taken: false, holder: lines.slice(at + 1).filter(Boolean).join(' ') || '(a run creating it right now)' };
}

/** Another run holds the lock on some hosts: exit 4, the holders named. */
export class LockHeldError extends InputError {
  override name = 'LockHeldError';
  constructor(
    readonly holders: Map<string, string>,
    file = LOCK_FILE,
  ) {
    super(
      [
        `another run holds the lock (${file}) on ${[...holders.keys()].join(', ')}:`,
        ...[...holders].map(([host, holder]) => `  ${host}: ${holder}`),
        'Nothing was changed. Wait for that run to end; if its controller is gone (the lock is stale), rerun with --break-lock.',
      ].join('\n'),
    );
  }
}

export interface RunLockOptions {
  owner: string;
  breakLock?: boolean;
  /** Said once per lock broken with --break-lock. */
  onBroken?(host: string, holder: string): void;
}

export class RunLock {
  private readonly locked = new Map<string, { host: Host; transport: Promise<Transport> }>();
  private released = false;

  constructor(
    private readonly base: TransportFactory,
    private readonly opts: RunLockOptions,
  ) {}

  /** The factory the run uses: a remote host is locked on first contact; a host held by another run fails. */
  transports: TransportFactory = (host) => {
    if (isLocal(host)) return this.base(host);
    if (this.released) return Promise.reject(new Error(`${host.name}: the run lock was released (run interrupted): not contacting it`));
    let entry = this.locked.get(host.name);
    if (!entry) this.locked.set(host.name, (entry = { host, transport: this.connectAndTake(host) }));
    return entry.transport;
  };

  private async connectAndTake(host: Host): Promise<Transport> {
    const t = await this.base(host);
    const file = lockFileOf(host);
    this.readTake(host, file, await t.exec(takeLockCmd(this.opts.owner, this.opts.breakLock, file), { become: true, nothrow: true, timeoutMs: TAKE_TIMEOUT_MS }));
    return t;
  }

  /** Reads a take's answer: taken (says a broken lock), else throws (held: LockHeldError; failed: Error). */
  private readTake(host: Host, file: string, r: ExecResult): void {
    if (!r.ok && r.code !== HELD_EXIT) throw new Error(`${host.name}: could not take the run lock ${file} (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-300)}`);
    const answer = parseTake(r.stdout);
    if (!answer.taken) throw new LockHeldError(new Map([[host.name, answer.holder]]), file);
    if (answer.broke) this.opts.onBroken?.(host.name, answer.broke);
  }

  /**
   * The take, to run at the head of `host`'s first batched read (lib/facts.ts): a taken lock is the host's from
   * then on, so `acquire` does not take it again. Undefined where there is nothing to take (a local host, a host
   * already locked, a bad lock path: `acquire` reports it).
   */
  head(host: Host): BatchHead | undefined {
    if (isLocal(host) || this.released || this.locked.has(host.name)) return undefined;
    let file: string;
    try {
      file = lockFileOf(host);
    } catch {
      return undefined;
    }
    return {
      command: takeLockCmd(this.opts.owner, this.opts.breakLock, file),
      accept: (r) => {
        this.readTake(host, file, r);
        if (this.released) {
          // Taken after the run let its locks go (a forced exit during the first reads): give this one back too.
          void this.base(host).then((t) => t.exec(releaseLockCmd(this.opts.owner, file), { become: true, nothrow: true, timeoutMs: TAKE_TIMEOUT_MS })).catch(() => undefined);
          throw new Error(`${host.name}: the run lock was released (run interrupted): not reading it`);
        }
        if (!this.locked.has(host.name)) this.locked.set(host.name, { host, transport: this.base(host) });
      },
    };
  }

  /** The connection a head's read goes over, before the host's lock is taken: only for that read. */
  connect: TransportFactory = (host) => this.base(host);

  /**
   * Locks every targeted host not locked yet by its first read's head, before any step starts. Held anywhere:
   * releases what it took and throws LockHeldError. An unreachable host is left to the run to report; another
   * failure fails that host's work.
   */
  async acquire(hosts: Host[], forks = 10): Promise<void> {
    const limit = pLimit(forks);
    const holders = new Map<string, string>();
    let bad: InputError | undefined;
    await Promise.all(
      hosts.map((h) =>
        limit(() =>
          this.transports(h).catch((e: unknown) => {
            if (e instanceof LockHeldError) for (const [host, holder] of e.holders) holders.set(host, holder);
            else if (e instanceof InputError) bad ??= e;
          }),
        ),
      ),
    );
    if (holders.size || bad) {
      await this.release();
      throw bad ?? new LockHeldError(holders, lockFileOf(hosts.find((h) => holders.has(h.name))!));
    }
  }

  /** Removes our lock from every host that has it; a host gone meanwhile keeps it until its reboot. Returns why not. */
  async release(): Promise<string[]> {
    const entries = [...this.locked.values()];
    this.locked.clear();
    this.released = true;
    const failures: string[] = [];
    await Promise.all(
      entries.map(async ({ host, transport }) => {
        const t = await transport.catch(() => undefined);
        if (!t) return; // never taken
        const r = await t.exec(releaseLockCmd(this.opts.owner, lockFileOf(host)), { become: true, nothrow: true, timeoutMs: TAKE_TIMEOUT_MS }).catch((e: unknown) => ({
          ok: false,
          code: -1,
          stderr: e instanceof UnreachableError ? e.message : errorMessage(e),
          stdout: '',
        }));
        if (!r.ok) failures.push(`${host.name}: ${lockFileOf(host)} not removed: ${r.stderr.trim().slice(-200)}`);
      }),
    );
    return failures;
  }
}
