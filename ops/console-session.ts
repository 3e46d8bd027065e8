// The console login and the converged run's GETs in one remote command: curl logs in with the config on
// stdin (the password never in argv), the token goes from its answer straight into the GETs' config on the
// host (through printf, a builtin: never in argv either), and both answers come back. Pure: the script and the
// parser of its output, tested under dash with a stub curl; ops/admin-api.ts reads it as a fact.
import { quote } from '../lib/shell.ts';
import type { ExecResult } from '../lib/types.ts';
import { curlAnswer, parseCurlOutputs, type CurlResponse } from './curl.ts';

/** The line between the login's answer and the GETs' answers. */
export const READS_MARK = '__gatewright_console_reads__';

/**
 * The token as it may go into a curl config line unquoted by anything: JWT and opaque tokens are made of
 * these. Any other token (or none) skips the GETs: the controller then reads them with the token it parsed.
 */
export const TOKEN = String.raw`[A-Za-z0-9._~+/=-]*`;

/**
 * Logs in (curl -K -, the login config on stdin), prints the answer; when it holds a token, prints READS_MARK
 * and the answers of `readsConfig` (curlGetsConfig without the Authorization header) asked with that token.
 */
export function loginThenGetsCmd(readsConfig: string): string {
  return [
    'o=$(curl -K -); r=$?',
    `printf '%s\\n' "$o"`,
    '[ "$r" = 0 ] || exit "$r"',
    // | as sed's delimiter: the token's characters hold a /.
    `t=$(printf '%s\\n' "$o" | sed -n 's|.*"token"[[:space:]]*:[[:space:]]*"\\(${TOKEN}\\)".*|\\1|p' | head -n 1)`,
    '[ -n "$t" ] || exit 0',
    `c=${quote(`\n${readsConfig}`)}`,
    `printf '%s\\n' ${READS_MARK}`,
    `{ printf 'header = "Authorization: %s"\\n' "$t"; printf '%s\\n' "$c"; } | curl -K -`,
  ].join('\n');
}

export interface ConsoleSession {
  /** The login's answer (status 0: no HTTP answer, the body then curl's error). */
  login: CurlResponse;
  /** From a 200 login's JSON (`data.token`), as the controller reads it. */
  token?: string;
  /** The GETs' answers in order; undefined when they were not asked (no token, or one the script would not pass). */
  reads?: CurlResponse[];
}

/** The token of a login's answer: `data.token` of a 200's JSON, else none. */
export function tokenIn(login: CurlResponse): string | undefined {
  if (login.status !== 200) return undefined;
  try {
    const token = (JSON.parse(login.body) as { data?: { token?: unknown } }).data?.token;
    return typeof token === 'string' && token ? token : undefined;
  } catch {
    return undefined;
  }
}

export function parseConsoleSession(r: ExecResult, readCount: number): ConsoleSession {
  const at = r.stdout.indexOf(`\n${READS_MARK}\n`);
  const login = curlAnswer(at < 0 ? r.stdout.replace(/\n$/, '') : r.stdout.slice(0, at), r.stderr);
  const token = tokenIn(login);
  const reads = at < 0 ? undefined : parseCurlOutputs(r.stdout.slice(at + READS_MARK.length + 2), r.stderr, readCount);
  return { login, token, reads };
}
