// Several facts read in one remote command: a POSIX sh script that runs each fact's command in its own
// `sh -c` and prints stdout, stderr and exit code per fact in sections, and the parser that splits the
// output back into one ExecResult per fact. Pure: the caller runs the script (FactCache.prefetch).
//
// Output shape (N is a random nonce, new for every batch; no fact can print it, so none can forge a section):
//   N head out         with a head (BatchOptions.head): its stdout, stderr and exit code first, in the same
//   N head err         shape as a fact's; the facts are read only when it exited 0 (else the batch ends here)
//   N head rc <code>
//   N begin
//   N 0 out            then fact 0's stdout, as printed, plus one newline of ours
//   N 0 err            then fact 0's stderr, plus one newline of ours
//   N 0 rc <code>
//   … one such block per fact …
//   N end              only printed once every fact has run: without it the batch did not complete
import { randomBytes } from 'node:crypto';
import { quote } from './shell.ts';
import type { ExecResult } from './types.ts';

/** Thrown for every fact of a batch that did not complete: unknown is never read as empty. */
export class FactBatchError extends Error {
  override name = 'FactBatchError';
}

export const newNonce = (): string => `gwfacts-${randomBytes(16).toString('hex')}`;

export interface BatchOptions {
  /**
   * Facts (by index) run in the foreground at their turn, their output straight to the batch's: a secret's
   * output never touches the host's disk. The others run at once, in the background, into a private temp dir.
   */
  foreground?: ReadonlySet<number>;
  /** The one fact (by index, in `foreground`) whose stdin is the batch's; every other fact reads /dev/null. */
  stdin?: number;
  /**
   * A command run before any fact starts, alone (the run lock's take): the facts are read only when it exits 0.
   * Otherwise the batch prints its section and exits 0 without reading anything (parseHead tells).
   */
  head?: string;
}

/** The line after the head's: the batch ends there unless the head exited 0. */
export const HEAD_CHECK = '[ "${e##* }" = 0 ] || exit 0';

/** The foreground form: stdout straight to the batch's (fd 3), stderr captured, then the section's tail. */
const foregroundLines = (label: string, command: string, stdin: boolean): string =>
  `printf '%s ${label} out\\n' "$n"; ` +
  `{ e=$(sh -c ${quote(command)} ${stdin ? '' : '</dev/null '}2>&1 >&3 3>&-; printf ' %s' "$?"); } 3>&1; ` +
  `printf '\\n%s ${label} err\\n%s\\n%s ${label} rc %s\\n' "$n" "\${e% *}" "$n" "\${e##* }"`;

/**
 * The script for these commands. Each runs as `sh -c <command>` (as a lone fact command does, so a syntax
 * error, an `exit` or a `cd` stays inside it) with stdin from /dev/null. They run side by side (most are
 * Docker CLI calls that wait on dockerd: in a row they add up), each writing its whole section into its own
 * file of a private `mktemp -d` directory that the script removes as it exits: its stdout straight after the
 * section's marker, its stderr (kept apart while it runs, copied only when there is some) and its code from
 * `$?`. One `cat` then prints a run of such sections in order. Process starts are what a batch costs the host
 * beyond its facts (a fork costs about what a small fact does): a section costs one subshell and the `sh`,
 * never a `cat` of its own. A fact in `foreground` runs at its turn instead: its stdout goes straight to the
 * batch's (fd 3), its stderr is captured by the command substitution, followed by ` <code>` so that neither
 * its trailing newlines nor its code are lost. Either way both print exactly as the fact printed them. The
 * batch's own stdin goes to one foreground fact at most (`stdin`: a login's config); all others read /dev/null.
 */
export function batchScript(commands: readonly string[], nonce: string, opts: BatchOptions = {}): string {
  if (opts.stdin !== undefined && !opts.foreground?.has(opts.stdin)) throw new Error(`the fact reading the batch's stdin (${opts.stdin}) must run in the foreground`);
  const foreground = (i: number) => opts.foreground?.has(i) ?? false;
  const background = commands.some((_, i) => !foreground(i));
  const lines = [`n=${nonce}`];
  if (opts.head !== undefined) lines.push(foregroundLines('head', opts.head, false), HEAD_CHECK);
  if (background) {
    lines.push(
      `d=$(umask 077 && mktemp -d "\${TMPDIR:-/tmp}/gwfacts.XXXXXX") || exit 1`,
      `trap 'rm -rf "$d"' EXIT; trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM`,
    );
    commands.forEach((command, i) => {
      if (foreground(i)) return;
      // The fact's whole section goes to its own file, in the shape parseBatch reads: stdout straight after its
      // marker, stderr (kept apart while it runs) only when there is some, the code from $? (no cat, no file).
      lines.push(
        `( printf '%s ${i} out\\n' "$n"; sh -c ${quote(command)} </dev/null 2>"$d/${i}.err"; r=$?; printf '\\n%s ${i} err\\n' "$n"; ` +
          `if [ -s "$d/${i}.err" ]; then cat "$d/${i}.err"; fi; printf '\\n%s ${i} rc %s\\n' "$n" "$r" ) >"$d/${i}" & p${i}=$!`,
      );
    });
  }
  lines.push(`printf '%s begin\\n' "$n"`);
  // The sections in order: each run of background facts printed by one cat once they are done; a foreground
  // fact at its turn.
  let run: number[] = [];
  const flush = () => {
    if (!run.length) return;
    lines.push(`wait ${run.map((i) => `"$p${i}"`).join(' ')}; cat ${run.map((i) => `"$d/${i}"`).join(' ')}`);
    run = [];
  };
  commands.forEach((command, i) => {
    if (!foreground(i)) return void run.push(i);
    flush();
    lines.push(foregroundLines(String(i), command, i === opts.stdin));
  });
  flush();
  lines.push(`printf '%s end\\n' "$n"`);
  return lines.join('\n');
}

/** Reads sections from `pos` on; `fail` throws. */
function sections(out: string, nonce: string, pos: number, fail: (why: string) => never) {
  const expect = (marker: string) => {
    if (!out.startsWith(marker, pos)) fail(`output cut before "${marker.trim().replace(nonce, '<nonce>')}"`);
    pos += marker.length;
  };
  // Content runs up to the next marker; the nonce never occurs in a fact's output, so the first one is ours.
  const until = (marker: string): string => {
    const at = out.indexOf(marker, pos);
    if (at < 0) fail(`output cut before "${marker.trim().replace(nonce, '<nonce>')}"`);
    const content = out.slice(pos, at);
    pos = at + marker.length;
    return content;
  };
  const section = (label: string): ExecResult => {
    expect(`${nonce} ${label} out\n`);
    const stdout = until(`\n${nonce} ${label} err\n`);
    const stderr = until(`\n${nonce} ${label} rc `);
    const code = /^(\d+)\n/.exec(out.slice(pos, pos + 12));
    if (!code) fail(`no exit code for ${label === 'head' ? 'the head' : `fact ${label}`}`);
    pos += code![0].length;
    const n = Number(code![1]);
    return { code: n, stdout, stderr, ok: n === 0 };
  };
  return { expect, section, at: () => pos };
}

const failWith = (result: ExecResult, what: string) => (why: string): never => {
  const tail = result.stderr.trim().split('\n').slice(-3).join('\n');
  throw new FactBatchError(`${what} did not complete (exit ${result.code}): ${why}${tail ? `\n${tail}` : ''}`);
};

/**
 * A batch with a head: the head's own result, and the rest of the batch's output (parseBatch reads the facts
 * from it) when the head exited 0; without its section (a cut read, a refused sudo) this throws FactBatchError:
 * whether the head ran is not known.
 */
export function parseHead(result: ExecResult, nonce: string): { head: ExecResult; rest?: ExecResult } {
  const fail = failWith(result, 'the head of a batched read');
  if (result.code !== 0) fail('the batch itself failed');
  const read = sections(result.stdout, nonce, 0, fail);
  const head = read.section('head');
  return { head, rest: head.ok ? { ...result, stdout: result.stdout.slice(read.at()) } : undefined };
}

/**
 * One ExecResult per command, in order. Throws FactBatchError unless the batch ran to its end marker and
 * exited 0: a timeout, a refused sudo or a cut output makes every fact of the batch a failed read.
 */
export function parseBatch(result: ExecResult, count: number, nonce: string): ExecResult[] {
  const fail = failWith(result, `batched read of ${count} facts`);
  if (result.code !== 0) fail('the batch itself failed');
  const begin = result.stdout.indexOf(`${nonce} begin\n`);
  if (begin < 0) fail('no start marker');
  const read = sections(result.stdout, nonce, begin + `${nonce} begin\n`.length, fail);
  const results: ExecResult[] = [];
  for (let i = 0; i < count; i++) results.push(read.section(String(i)));
  read.expect(`${nonce} end\n`);
  return results;
}
