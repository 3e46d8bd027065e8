// A transport that records commands and answers from a script: runner and step tests without a network.
import { UnreachableError } from '../../lib/errors.ts';
import { makeHost, makeInventory } from '../../lib/inventory.ts';
import { CommandError, type ExecOptions, type ExecResult, type Host, type Inventory, type PutOptions, type Transport, type Vars } from '../../lib/types.ts';
import { answerSession } from './console-session.ts';

/** `opts` lets a script tell apart commands that differ only by stdin (HAProxy's socket, curl -K -). */
export type Responder = (command: string, host: string, opts: ExecOptions) => Partial<ExecResult> | undefined;

export class FakeTransport implements Transport {
  readonly kind = 'ssh' as const;
  readonly commands: string[] = [];
  readonly puts: { path: string; content: string; opts: PutOptions }[] = [];
  closed = false;
  dead = false;

  constructor(readonly host: string, private respond: Responder = () => undefined) {}

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.dead) throw new UnreachableError(this.host, `connection to ${this.host} lost`);
    this.commands.push(command);
    const r = { code: 0, stdout: '', stderr: '', ...answerEachUrl(this.respond, command, this.host, opts) };
    const result = { ...r, ok: r.code === 0 };
    if (!result.ok && !opts.nothrow) throw new CommandError(this.host, command, result);
    return result;
  }

  async put(path: string, content: string | Buffer, opts: PutOptions = {}): Promise<void> {
    this.puts.push({ path, content: String(content), opts });
  }

  async putFile(localPath: string, path: string, opts: PutOptions = {}): Promise<void> {
    this.puts.push({ path, content: `<file ${localPath}>`, opts });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * `curl -K -` with several `url = ` lines fetches each in turn with the config's other options, its output the
 * answers one after the other (ops/curl.ts curlGetsConfig): the responder is asked once per URL, with a config
 * that holds only that URL, as if each came alone.
 */
export function answerEachUrl(respond: Responder, command: string, host: string, opts: ExecOptions): Partial<ExecResult> | undefined {
  const session = answerSession(command, opts, (o) => answerEachUrl(respond, 'curl -K -', host, o));
  if (session) return session;
  const config = typeof opts.stdin === 'string' ? opts.stdin : undefined;
  const urls = command === 'curl -K -' && config ? config.split('\n').filter((l) => l.startsWith('url = ')) : [];
  if (urls.length < 2) return respond(command, host, opts);
  const rest = config!.split('\n').filter((l) => !l.startsWith('url = ')).join('\n');
  const answers = urls.map((url) => ({ code: 0, stdout: '', stderr: '', ...respond(command, host, { ...opts, stdin: `${url}\n${rest}` }) }));
  return { code: answers.at(-1)!.code, stdout: answers.map((a) => a.stdout).join(''), stderr: answers.map((a) => a.stderr).join('') };
}

/** Transports for every host, created on first use; `unreachable` hosts fail to connect. */
export function fakeFleet(respond?: Responder, unreachable: string[] = []) {
  const transports = new Map<string, FakeTransport>();
  const connects: string[] = [];
  return {
    transports,
    connects,
    factory: async (host: Host): Promise<Transport> => {
      connects.push(host.name);
      if (unreachable.includes(host.name)) throw new UnreachableError(host.name, `${host.name}: cannot connect: ECONNREFUSED`, true);
      let t = transports.get(host.name);
      if (!t) transports.set(host.name, (t = new FakeTransport(host.name, respond)));
      return t;
    },
    close: async () => {
      for (const t of transports.values()) await t.close();
    },
  };
}

/** A small inventory: group name -> host names (hosts listed in first-seen order). */
export function fakeInventory(groups: Record<string, string[]>, hostVars: Record<string, Vars> = {}): Inventory {
  const order = [...new Set(Object.values(groups).flat())];
  const hosts = new Map(order.map((n) => [n, makeHost(n, Object.keys(groups).filter((g) => groups[g].includes(n)), { ansible_user: 'ops', ...hostVars[n] })]));
  const map = new Map<string, string[]>([['all', order], ...Object.entries(groups)]);
  return makeInventory('fake.yaml', hosts, map);
}
