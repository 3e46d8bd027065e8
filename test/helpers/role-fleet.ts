// Scripted hosts for the role tests: facts answered by command, batched reads answered
// fact by fact (the runner reads a role's facts in one script per host, lib/fact-batch.ts), and every
// command a host was sent recorded, so a test can say "the batch and nothing else".
import { runPlaybook } from '../../lib/runner.ts';
import { definePlaybook, type ExecResult, type Role, type StepResult, type Vars } from '../../lib/types.ts';
import { answerEachUrl, fakeFleet, fakeInventory, type Responder } from './fake-transport.ts';

/** The words of one POSIX-quoted shell word, as lib/shell.ts `quote` writes it. */
export function unquote(word: string): string {
  let out = '';
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      out += word.slice(i + 1, end);
      i = end;
    } else if (c === '\\') out += word[++i];
    else out += c;
  }
  return out;
}

const NONCE = /^n=(gwfacts-[0-9a-f]+)\n/;
const WORD = String.raw`((?:'[^']*'|\\.|[^\s'\\])+)`;
// A background fact is started as `( printf '%s <i> out\n' "$n"; sh -c <cmd> </dev/null 2>"$d/<i>.err"; …`, a
// foreground one runs at its turn as `printf '%s <i> out\n' "$n"; { e=$(sh -c <cmd> </dev/null …` (lib/fact-batch.ts).
// The one foreground fact given the batch's stdin has no </dev/null.
const FACT = new RegExp(String.raw`\( printf '%s (\d+) out\\n' "\$n"; sh -c ${WORD} <\/dev\/null 2>"|printf '%s (\d+) out\\n' "\$n"; \{ e=\$\(sh -c ${WORD} (?:<\/dev\/null )?2>&1`, 'g');

/** The fact commands a batch script runs, in order; undefined for a command that is not a batch. */
export function batchCommands(command: string): string[] | undefined {
  if (!NONCE.test(command)) return undefined;
  const facts = [...command.matchAll(FACT)].map((m) => ({ i: Number(m[1] ?? m[3]), command: unquote(m[2] ?? m[4]) }));
  return facts.sort((a, b) => a.i - b.i).map((f) => f.command);
}

const HEAD = new RegExp(String.raw`^printf '%s head out\\n' "\$n"; \{ e=\$\(sh -c ${WORD} <\/dev\/null 2>&1`, 'm');

/** The command at the head of a batch script (the run lock's take, lib/fact-batch.ts `head`), if it has one. */
export const batchHead = (command: string): string | undefined => {
  const m = NONCE.test(command) ? HEAD.exec(command) : null;
  return m ? unquote(m[1]) : undefined;
};

const IN_CONTAINER = new RegExp(String.raw`^out=\$\(docker exec ((?:--env-file \S+ )?)(\S+) sh -c ${WORD} 2>\/dev\/null\)\n`);

/**
 * ops/etcdctl.ts clusterReadCmd's shape: a batch run by the container's sh in one `docker exec`, and the batch
 * of one exec per call it falls back to. `calls`: the inner commands as the exec of each (`docker exec … etcd
 * etcdctl …`), so a world answers them as it answers a lone exec.
 */
export function inContainerBatch(command: string): { nonce: string; calls: string[]; fallback: string } | undefined {
  const m = IN_CONTAINER.exec(command);
  if (!m) return undefined;
  const inner = unquote(m[3]);
  const exec = `docker exec ${m[1]}${m[2]} `;
  return { nonce: batchNonce(inner)!, calls: batchCommands(inner)!.map((c) => exec + c), fallback: command.slice(command.indexOf('esac\n') + 5) };
}

/** What docker says when it cannot exec into the container at all: the script then takes its fallback. */
export const CANNOT_EXEC = /is not running|No such container/;

/** Answers a batch the way the script would print it, asking `respond` for each fact command in it. */
export function batchAware(respond: Responder): Responder {
  const answer: Responder = (command, host, opts) => {
    const boxed = inContainerBatch(command);
    if (boxed) {
      const answers = boxed.calls.map((c) => respond(c, host, opts) ?? {});
      return answers.some((a) => CANNOT_EXEC.test(a.stderr ?? '')) ? answer(boxed.fallback, host, opts) : batchAnswer(boxed.nonce, answers);
    }
    // A script that answers the batch itself (a refused sudo, a timeout) is taken at its word; the console
    // session's script (ops/console-session.ts) is answered as its two curls would be (answerEachUrl).
    const whole = answerEachUrl(respond, command, host, opts);
    const nonce = NONCE.exec(command)?.[1];
    if (whole || !nonce) return whole;
    // A head runs first; the facts only when it exited 0 (lib/fact-batch.ts).
    const headCommand = batchHead(command);
    const head = headCommand === undefined ? undefined : { code: 0, stdout: '', stderr: '', ...answer(headCommand, host, opts) };
    const headSection = head ? `${nonce} head out\n${head.stdout}\n${nonce} head err\n${head.stderr}\n${nonce} head rc ${head.code}\n` : '';
    if (head && head.code !== 0) return { stdout: headSection };
    return { stdout: headSection + batchAnswer(nonce, batchCommands(command)!.map((c) => answer(c, host, opts) ?? {})).stdout };
  };
  return answer;
}

/** What a batch script prints when its facts answer `results`, in order (the sections lib/fact-batch.ts parses). */
export function batchAnswer(nonce: string, results: Partial<ExecResult>[]): { stdout: string } {
  const blocks = results.map((given, i) => {
    const r: ExecResult = { code: 0, stdout: '', stderr: '', ok: true, ...given };
    return `${nonce} ${i} out\n${r.stdout}\n${nonce} ${i} err\n${r.stderr}\n${nonce} ${i} rc ${r.code}\n`;
  });
  return { stdout: `${nonce} begin\n${blocks.join('')}${nonce} end\n` };
}

/** The batch's nonce, when `command` is a batch script. */
export const batchNonce = (command: string): string | undefined => NONCE.exec(command)?.[1];

/** Runs `role` as a one-play playbook on `groups`; what each host was sent, and the results. */
export async function runRole(
  role: Role,
  groups: Record<string, string[]>,
  respond: Responder,
  opts: { check?: boolean; hostVars?: Record<string, Vars>; hosts?: string } = {},
) {
  const fleet = fakeFleet(batchAware(respond));
  const inventory = fakeInventory(groups, opts.hostVars);
  const playbook = definePlaybook({ name: role.name, description: '', plays: [{ name: role.name, hosts: opts.hosts ?? 'all', role }] });
  const summary = await runPlaybook(playbook, { check: opts.check }, { inventory, transports: fleet.factory, close: fleet.close });
  return {
    summary,
    fleet,
    /** Every command the host was sent, batches as sent. */
    commands: (host: string) => fleet.transports.get(host)?.commands ?? [],
    results: (host: string) => summary.results.filter((r) => r.host === host),
    step: (host: string, name: string): StepResult | undefined => summary.results.find((r) => r.host === host && r.step === name),
  };
}
