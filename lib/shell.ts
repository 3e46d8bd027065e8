// POSIX-sh quoting: the one place where values become words of a remote command.
// Remote login shells may be dash, so we never emit bash-only $'..' (which zx's quote does).

/** Quote one value as a single POSIX shell word. */
export function quote(value: string | number | boolean): string {
  const s = String(value);
  if (s === '') return "''";
  // Words made only of these characters mean the same quoted or not; keep them readable.
  // (Quoting cannot stop a leading dash from reading as a flag: callers put `--` before operands.)
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export type Word = string | number | boolean;
export type Interpolated = Word | readonly Word[] | Raw;

/** A fragment already written as shell syntax; passes through `sh` unquoted. */
export class Raw {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Mark trusted shell syntax (operators, redirections) built by our own code, never user values. */
export const raw = (text: string): Raw => new Raw(text);

/**
 * Tagged template for remote commands: every interpolated value is quoted; arrays become several
 * quoted words; `raw(...)` passes through. The literal parts are ours and are taken as written.
 *
 *   sh`docker inspect ${name} >/dev/null 2>&1`
 */
export function sh(strings: TemplateStringsArray, ...values: Interpolated[]): string {
  let out = strings[0];
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1];
  });
  return out;
}

function render(value: Interpolated): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return value.map((v) => quote(v as Word)).join(' ');
  return quote(value as Word);
}

/** Join an argument vector into one command line, each word quoted. */
export const argv = (words: readonly Word[]): string => words.map(quote).join(' ');
