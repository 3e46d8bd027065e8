// A slow read of a file, kept on the host beside it and reused while the file is unchanged: its size, inode,
// mtime and ctime, to the nanosecond. Any write, chmod or replacement moves the ctime, which nobody can set
// back, so a changed file is always read again. For reads too slow to repeat every run: a bundle's sha256
// (hundreds of MB), a Python program's `version`.
import { sh } from './shell.ts';

/**
 * Prints what `command` prints about `file`, from `memo` when the file is the one the memo was made from.
 * `file` is a shell word as is (a quoted path, or "$b"); `command` is a command line. A failed `stat` or
 * `command` fails the whole (unknown is not empty) and keeps nothing; a memo that cannot be written is
 * only a slower next run. Runs in a subshell, so it can sit inside a larger script.
 */
export function statMemoCmd(file: string, memo: string, command: string): string {
  const m = sh`${memo}`;
  return (
    `( k=$(stat -L -c '%s %i %y %z' -- ${file}) || exit 1; ` +
    `if [ "$(head -n 1 ${m} 2>/dev/null)" = "$k" ]; then tail -n +2 ${m}; ` +
    `else o=$(${command}) || exit $?; printf '%s\\n' "$o"; ` +
    `{ mkdir -p -- "$(dirname -- ${m})" && printf '%s\\n%s\\n' "$k" "$o" > ${m}.$$ && mv -f -- ${m}.$$ ${m}; } 2>/dev/null || rm -f -- ${m}.$$; fi )`
  );
}
