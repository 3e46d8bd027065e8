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
