// The fakes' answer to ops/console-session.ts's script (the console login, then the GETs with its token), made
// the way the script makes it: one `curl -K -` with the login's config (the command's stdin), then, when the
// answer holds a token, one with the GETs' config and that token's header. `curl` answers a `curl -K -` with
// the config as its stdin, as the fake answers a lone one.
import { READS_MARK, TOKEN } from '../../ops/console-session.ts';
import type { ExecOptions, ExecResult } from '../../lib/types.ts';
import { unquote } from './role-fleet.ts';

const CONFIG = new RegExp(String.raw`\nc=((?:'[^']*'|\\.|[^\s'\\])+)\n`);

export function answerSession(
  command: string,
  opts: ExecOptions,
  curl: (opts: ExecOptions) => Partial<ExecResult> | undefined,
): Partial<ExecResult> | undefined {
  if (!command.includes(`printf '%s\\n' ${READS_MARK}`)) return undefined;
  const readsConfig = unquote(CONFIG.exec(command)![1]);
  const full = (r: Partial<ExecResult> | undefined) => ({ code: 0, stdout: '', stderr: '', ...r });
  const login = full(curl(opts));
  const o = login.stdout.replace(/\n+$/, '');
  if (login.code !== 0) return { code: login.code, stdout: `${o}\n`, stderr: login.stderr };
  const token = new RegExp(String.raw`"token"\s*:\s*"(${TOKEN})"`).exec(o)?.[1];
  if (!token) return { stdout: `${o}\n`, stderr: login.stderr };
  const reads = full(curl({ ...opts, stdin: `header = "Authorization: ${token}"\n${readsConfig}\n` }));
  return { code: reads.code, stdout: `${o}\n${READS_MARK}\n${reads.stdout}`, stderr: `${login.stderr}${reads.stderr}` };
}
