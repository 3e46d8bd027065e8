// Facts: a command plus a parser, memoised per host per run (pyinfra-style). A role's facts are read
// together (prefetch): one batched command per privilege level per host, parsed into the same memo.
import { batchScript, newNonce, parseBatch } from './fact-batch.ts';
import type { ExecOptions, ExecResult, Fact } from './types.ts';

type Run = (command: string, opts?: ExecOptions) => Promise<ExecResult>;
type Memo = Map<string, Promise<unknown>>;

const keyOf = (fact: Fact<unknown>) => `${fact.become ? 'root' : 'user'}:${fact.name}:${fact.command}`;

export class FactCache {
  private byHost = new Map<string, Memo>();

  private memo(host: string): Memo {
    let cache = this.byHost.get(host);
    if (!cache) this.byHost.set(host, (cache = new Map()));
    return cache;
  }

  private remember<T>(cache: Memo, key: string, value: Promise<T>): Promise<T> {
    cache.set(key, value);
    // A failed read is not a fact: the next asker tries again.
    value.catch(() => cache.get(key) === value && cache.delete(key));
    return value;
  }

  get<T>(host: string, fact: Fact<T>, run: Run, fresh = false): Promise<T> {
    const cache = this.memo(host);
    const key = keyOf(fact);
    const value = cache.get(key) as Promise<T> | undefined;
    if (value && !fresh) return value;
    return this.remember(cache, key, run(fact.command, { nothrow: true, become: fact.become, secretOutput: fact.secret }).then((r) => fact.parse(r)));
  }

  /**
   * Reads the facts not yet memoised for `host` in one command per `become` value (a root batch and a user
   * batch at most: a user's fact is never read as root, where it could answer differently) and memoises each,
   * so the steps' `get`s run nothing. A parse error stays with its fact (its step sees it); a batch that did
   * not complete throws (FactBatchError, or the transport's UnreachableError) and memoises none of its facts.
   */
  async prefetch(host: string, facts: readonly Fact<unknown>[], run: Run): Promise<void> {
    const cache = this.memo(host);
    const groups = new Map<boolean | undefined, Map<string, Fact<unknown>>>();
    for (const fact of facts) {
      const key = keyOf(fact);
      if (cache.has(key)) continue;
      let group = groups.get(fact.become);
      if (!group) groups.set(fact.become, (group = new Map()));
      group.set(key, fact);
    }
    const seeded = new Map<string, Promise<unknown>>();
    const reads = [...groups].map(([become, group]) => {
      const members = [...group];
      // One secret fact (a file that may hold a password) hides the whole batch's output from logs and reports.
      const read = readAll(members.map(([, f]) => f.command), { become, secretOutput: members.some(([, f]) => f.secret) }, run);
      members.forEach(([key, fact], i) => seeded.set(key, this.remember(cache, key, read.then((rs) => fact.parse(rs[i])))));
      return read;
    });
    try {
      await Promise.all(reads);
    } catch (error) {
      // Forget them now, before a step asks: a step then reads each fact alone.
      for (const [key, value] of seeded) if (cache.get(key) === value) cache.delete(key);
      throw error;
    }
  }
}

/** One fact alone runs as itself (nothing to gain from a script); several run as one batch script. */
function readAll(commands: string[], opts: { become?: boolean; secretOutput?: boolean }, run: Run): Promise<ExecResult[]> {
  if (commands.length === 1) return run(commands[0], { nothrow: true, ...opts }).then((r) => [r]);
  const nonce = newNonce();
  return run(batchScript(commands, nonce), { nothrow: true, ...opts }).then((r) => parseBatch(r, commands.length, nonce));
}
