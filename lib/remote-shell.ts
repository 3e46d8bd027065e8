// `ctx.$`: zx's `$` bound to one host. zx builds the command line and the result (ProcessOutput, nothrow,
// text(), lines(), json()); the command itself runs through the context's `run`, so it goes over the host's
// transport (ssh, sudo, timeout) and shows in events, logs and reports exactly as a `ctx.run` command does.
import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { PassThrough, Readable, Writable } from 'node:stream';
import type * as Zx from 'zx/core';
import type { Duration, Options as ZxOptions, ProcessOutput, ProcessPromise } from 'zx/core';
import { quote } from './shell.ts';
import type { ExecOptions, ExecResult } from './types.ts';

export type Run = (command: string, opts?: ExecOptions) => Promise<ExecResult>;

let zxModule: typeof Zx | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads zx's core: `$`, ProcessPromise, ProcessOutput (the module `import 'zx'` re-exports, so ProcessOutput is
 * one class for roles and tests). Not `zx` itself: its index also loads the vendored globby, fs-extra, yaml and
 * the rest (700 kB of CommonJS, 0.13 s of one core to compile on every run), none of which a remote `$` uses.
 * The runner starts the import with a host's first read and awaits it before that host's first step.
 */
export function loadShell(): Promise<void> {
  return (loading ??= import('zx/core').then((m) => {
    zxModule = m;
  }));
}

function zx(): typeof Zx {
  if (!zxModule) throw new Error('ctx.$ before zx was loaded: the runner loads it (loadShell) before any step runs');
  return zxModule;
}

/** zx's options that mean something for a remote command, plus ours that zx does not know. */
export interface ShellOptions extends Pick<ExecOptions, 'become' | 'becomeUser' | 'timeoutMs' | 'secretOutput' | 'stream'> {
  /** Bytes for stdin (a secret goes here, never into argv): a string, a Buffer, another command's output. */
  input?: ZxOptions['input'];
  /** Resolve with the ProcessOutput on a non-zero exit instead of throwing it (`.nothrow()` does the same). */
  nothrow?: boolean;
  /** Kill the command after this long (zx's form: 500, '30s', '2m'); `timeoutMs` is the same in ms. */
  timeout?: Duration;
  /** Remote directory to run in (`cd <dir> && ...`). */
  cwd?: string;
  /** Build the command but start it only on `.run()` (zx's `halt`). */
  halt?: boolean;
  delimiter?: ZxOptions['delimiter'];
}

export interface RemoteShell {
  (pieces: TemplateStringsArray, ...args: unknown[]): ProcessPromise;
  /** The same `$` with these options added (they stack: `ctx.$({ become: false })({ nothrow: true })`). */
  (opts: ShellOptions): RemoteShell;
}

/**
 * zx's options for a command that zx never runs itself: our POSIX quote (zx's emits bash-only `$'..'` and the
 * remote shell may be dash), no `set -euo pipefail;` prefix (bash-only too), a shell path nothing looks up (our
 * spawn ignores it), and no printing: the run's events already show the command and its output.
 */
const REMOTE: Partial<ZxOptions> = {
  quote: (arg: string) => quote(arg),
  prefix: '',
  postfix: '',
  shell: '/bin/sh',
  verbose: false,
  quiet: true,
  log: (() => undefined) as unknown as ZxOptions['log'],
  timeout: undefined, // ZX_TIMEOUT must not arm zx's local kill timer; timeouts are the transport's
  preferLocal: false,
  spawnSync: (() => {
    throw new Error('ctx.$ runs remote commands asynchronously only (no $.sync)');
  }) as unknown as ZxOptions['spawnSync'],
};

/**
 * `$` for one host: commands run through `run` with `become: true` unless `base` says otherwise (role code
 * needs root nearly everywhere; `$({ become: false })` runs as the login user).
 */
export function bindShell(run: Run, host: string, base: ShellOptions = { become: true }): RemoteShell {
  function $(first: TemplateStringsArray | ShellOptions, ...args: unknown[]): ProcessPromise | RemoteShell {
    if (!isTemplate(first)) return bindShell(run, host, { ...base, ...first });
    const { become, becomeUser, timeoutMs, timeout, secretOutput, stream, cwd, ...zxOpts } = base;
    const exec: ExecOptions = { become, becomeUser, secretOutput, stream, timeoutMs: timeout === undefined ? timeoutMs : durationMs(timeout), nothrow: true };
    // zx runs spawn inside its own option store (AsyncLocalStorage), which every zx `$` reached from there
    // would inherit, our spawn included (the local transport is zx): the command starts outside it.
    const outside: Run = AsyncResource.bind((command: string, opts?: ExecOptions) => run(command, opts));
    const p = zx().$({ ...zxOpts, ...REMOTE, prefix: cwd ? `cd ${quote(cwd)} && ` : '', spawn: remoteSpawn(outside, exec) as unknown as ZxOptions['spawn'] })(first, ...args);
    return settle(p, host, secretOutput);
  }
  return $ as RemoteShell;
}

const isTemplate = (x: unknown): x is TemplateStringsArray => Array.isArray(x) && 'raw' in x;

/** zx's Duration in ms: 500, '500', '500ms', '30s', '2m'. */
export function durationMs(d: Duration): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(d));
  if (!m) throw new Error(`ctx.$: timeout ${JSON.stringify(d)} is not a duration (500, '30s', '2m')`);
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[(m[2] ?? 'ms') as 'ms' | 's' | 'm'];
}

/** What zx's invoke needs of a ChildProcess: stdio streams, kill, 'exit' then 'close'(code, signal), 'error'. */
class RemoteChild extends EventEmitter {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin: Writable;
  /** No local process: zx's `.kill()` refuses without a pid (a remote command stops at its timeout). */
  readonly pid = undefined;
  /** Set when `run` threw (connection lost, interrupted): no exit code exists, and nothrow must not hide it. */
  failure?: unknown;
  private readonly written: Buffer[] = [];

  constructor(readonly command: string) {
    super();
    this.stdin = new Writable({ write: (chunk: Buffer, _enc, done) => (this.written.push(Buffer.from(chunk)), done()) });
  }

  /** Everything zx wrote to stdin, once it ended it (zx pipes a Readable `input` into stdin). */
  input(): Promise<Buffer> {
    return new Promise((resolve) => this.stdin.once('finish', () => resolve(Buffer.concat(this.written))));
  }

  kill(): boolean {
    return false;
  }
}

function remoteSpawn(run: Run, exec: ExecOptions) {
  return (command: string, _args: unknown, opts: { input?: unknown }): RemoteChild => {
    const child = new RemoteChild(command);
    const seen = { stdout: '', stderr: '' };
    const onOutput = (chunk: string, stream: 'stdout' | 'stderr') => {
      seen[stream] += chunk;
      child[stream].write(chunk);
    };
    const input = opts.input;
    const stdin = typeof input === 'string' || Buffer.isBuffer(input) ? Promise.resolve(input) : input instanceof Readable ? child.input() : Promise.resolve(undefined);
    void stdin
      .then((bytes) => run(command, { ...exec, stdin: bytes, onOutput }))
      .then(
        (r) => {
          // Transports that do not stream (or a note added at the end, like a timeout's) still reach zx.
          for (const s of ['stdout', 'stderr'] as const) if (r[s].startsWith(seen[s])) child[s].write(r[s].slice(seen[s].length));
          return r.code;
        },
        (error: unknown) => {
          child.failure = error;
          child.emit('error', error);
          return null;
        },
      )
      .then(async (code) => {
        const ended = Promise.all([child.stdout, child.stderr].map((s) => new Promise((r) => s.once('end', r))));
        child.stdout.end();
        child.stderr.end();
        await ended;
        child.emit('exit', code, null);
        child.emit('close', code, null);
      });
    return child;
  };
}

/**
 * zx settles the promise; this adjusts what it settles with, as `ctx.run` does: a transport failure rejects
 * with its own error even under nothrow (the runner tells an unreachable host by it), and a non-zero exit
 * rejects with a ProcessOutput whose message names the host and the command (stdout and stderr blanked when
 * they hold secrets).
 */
function settle(p: ProcessPromise, host: string, secretOutput?: boolean): ProcessPromise {
  const then = p.then.bind(p);
  const child = () => p.child as unknown as RemoteChild | undefined;
  const explain = (e: unknown): unknown => {
    const c = child();
    if (c?.failure) return c.failure;
    const { ProcessOutput } = zx();
    if (!(e instanceof ProcessOutput) || e.cause || e.exitCode === null) return e;
    const [stdout, stderr] = secretOutput ? ['', ''] : [e.stdout, e.stderr];
    const from = `command on ${host}: ${c?.command ?? p.cmd}`;
    return new ProcessOutput({ code: e.exitCode, signal: e.signal, duration: e.duration, error: null, from, store: { stdout: [stdout], stderr: [stderr], stdall: [stdout + stderr] } });
  };
  Object.assign(p, {
    then: (ok?: (o: ProcessOutput) => unknown, fail?: (e: unknown) => unknown) =>
      then(
        (out) => {
          const failure = child()?.failure;
          if (!failure) return ok ? ok(out) : out;
          if (fail) return fail(failure);
          throw failure;
        },
        (e) => {
          if (fail) return fail(explain(e));
          throw explain(e);
        },
      ),
    // zx's own timer would kill a local pid; the remote command's timeout is fixed when it starts.
    timeout: (d?: Duration) => {
      if (!d) return p; // zx's start hook with no timeout
      throw new Error(`ctx.$ on ${host}: .timeout() comes too late for a remote command; give it up front: ctx.$({ timeout: '30s' })\`...\``);
    },
  });
  // zx's exitCode reads a rejection as an exit too; a lost connection has none.
  Object.defineProperty(p, 'exitCode', {
    get: () =>
      p.then(
        (o) => o.exitCode,
        (e: unknown) => {
          if (e instanceof zx().ProcessOutput) return e.exitCode;
          throw e;
        },
      ),
  });
  return p;
}
