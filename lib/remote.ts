// Pure builders for the command lines every transport sends (tested by exact string).
import { quote, raw, sh } from './shell.ts';

export type SudoMode = 'none' | 'nopasswd' | 'password';

/**
 * `command` under `sh -c`, bounded by coreutils `timeout` (inside sudo, so it can kill root's process),
 * and through sudo when becoming another user (root unless `user` says): `sudo -n` when passwordless, else
 * `sudo -k -S -p ''` reading the password from the first line of stdin (`-k` so a cached credential never
 * leaves that line unread).
 */
export function wrapCommand(command: string, sudo: SudoMode, timeoutMs: number, user?: string): string {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const timed = sh`timeout -k 5 ${seconds} sh -c ${command}`;
  if (sudo === 'none') return timed;
  const flags = sudo === 'password' ? raw(`sudo -k -S -p ''`) : raw('sudo -n');
  const as = user && user !== 'root' ? sh` -u ${user}` : '';
  return sh`${flags}${raw(as)} -- ${raw(timed)}`;
}

/**
 * `command` as `user` through su (`ansible_become_method: su`). su reads its password from a terminal, which a
 * command run over SSH has not: script(1) gives su one, and the password (the first line of stdin, never argv)
 * is typed once su prompts (PAM flushes what was typed before it asks). The command itself keeps clean pipes:
 * its stdin (the rest of ours), stdout, stderr and exit code go through files in a private temp dir, so nothing
 * passes through the terminal (no echo, no CR). Output arrives when the command ends, not streamed.
 * For a user other than root the dir is 0711 with the output files pre-created 0622: the user can write them and
 * not read the others'; stdin is then refused (it would have to be readable by that user).
 */
export function wrapSu(command: string, timeoutMs: number, user = 'root'): string {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const timed = sh`timeout -k 5 ${seconds} sh -c ${command}`;
  // Inside a double-quoted shell string, \ " $ and ` are the characters that still mean something.
  const inDoubleQuotes = timed.replace(/[\\"$`]/g, (c) => `\\${c}`);
  const stdinSetup =
    user === 'root'
      ? 'cat > "$d/in"'
      : `if [ -n "$(head -c 1)" ]; then echo 'su to a user other than root: a command with stdin is refused' >&2; exit 125; fi; ` +
        ': > "$d/in"; chmod 711 "$d"; for f in out err rc; do : > "$d/$f"; chmod 622 "$d/$f"; done; chmod 644 "$d/in"';
  const script = [
    'd=$(mktemp -d) || exit 125',
    `trap 'rm -rf "$d"' EXIT`,
    // su may not ask (already that user) and script(1) may be gone before the password is typed: no SIGPIPE then.
    `trap '' PIPE`,
    'IFS= read -r pw || exit 125',
    stdinSetup,
    // The command for su's shell names the temp dir literally: su runs it in a shell of its own.
    `GW_INNER="cd / && ${inDoubleQuotes} <$d/in >$d/out 2>$d/err; echo \\$? >$d/rc"; export GW_INNER`,
    'mkfifo "$d/tty" || exit 125',
    sh`script -qec ${`su -c "$GW_INNER" ${quote(user)}`} /dev/null < "$d/tty" > "$d/pty" 2>&1 &`,
    'job=$!',
    'exec 3> "$d/tty"',
    // Type the password once su asks (a line ending in ':' or the full-width '：', in any language), or after 10 s;
    // stop waiting as soon as script(1) is gone.
    `i=0; while [ $i -lt 100 ] && kill -0 $job 2>/dev/null && ! grep -q '\\(:\\|：\\)[[:space:]]*$' "$d/pty"; do sleep 0.1; i=$((i + 1)); done`,
    `kill -0 $job 2>/dev/null && printf '%s\\n' "$pw" >&3 2>/dev/null`,
    'wait $job',
    'exec 3>&-',
    `if [ ! -s "$d/rc" ]; then echo "su to $(printf %s ${quote(user)}) failed: $(tr -d '\\r' < "$d/pty" | grep -v '^[[:space:]]*$' | tail -n 2 | tr '\\n' ' ')" >&2; exit 1; fi`,
    'cat "$d/out"; cat "$d/err" >&2; exit "$(cat "$d/rc")"',
  ].join('\n');
  return sh`sh -c ${script}`;
}

/** Does this host let us sudo without a password? (exit 0 = yes) */
export const SUDO_PROBE = 'sudo -k -n true 2>/dev/null';

export interface Finalize {
  /** Where the content was uploaded. */
  stage: string;
  dest: string;
  mode: number;
  owner?: string;
  /** Remove the staged file afterwards (false for a local source file). */
  removeStage: boolean;
}

/** Atomic install of a staged upload: copy into a temp beside `dest` with mode/owner, then rename. */
export function finalizeCommand(f: Finalize, tempName: string): string {
  const slash = f.dest.lastIndexOf('/');
  const dir = slash > 0 ? f.dest.slice(0, slash) : slash === 0 ? '' : '.';
  const temp = `${dir}/.${f.dest.slice(slash + 1)}.${tempName}`;
  const [user, group] = (f.owner ?? '').split(':');
  const owner = [...(user ? ['-o', user] : []), ...(group ? ['-g', group] : [])].map((w) => ` ${quote(w)}`).join('');
  const mode = f.mode.toString(8).padStart(4, '0');
  const cleanup = f.removeStage ? sh`rm -f -- ${f.stage} ${temp}` : sh`rm -f -- ${temp}`;
  return sh`install -m ${mode}${raw(owner)} -- ${f.stage} ${temp} && mv -f -- ${temp} ${f.dest}; rc=$?; ${raw(cleanup)}; exit $rc`;
}
