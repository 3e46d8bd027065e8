// Facts: a command plus a parser, memoised per host per run (pyinfra-style). A role's facts are read
// together (prefetch): one batched command per privilege level per host, parsed into the same memo.
// Every read remembers the run's change count when it started: a read taken before a change anywhere is no
// longer current, so a later prefetch reads it again and a gate that asks for a current read gets a new one.
// A converged run changes nothing, so what was read once at the start serves every play.
import { batchScript, FactBatchError, newNonce, parseBatch, parseHead } from './fact-batch.ts';
import type { ExecOptions, ExecResult, Fact } from './types.ts';

type Run = (command: string, opts?: ExecOptions) => Promise<ExecResult>;
type Memo = Map<string, { value: Promise<unknown>; epoch: number }>;

export interface FactOptions {
  /** Read again, whatever the memo holds. */
  fresh?: boolean;
  /** The memo only if nothing changed anywhere in the run since it was read; else read again. */
  current?: boolean;
}

/**
 * The reads of a wait loop: the first takes the run's read while it is current (nothing changed since it was
 * taken: a converged run's batch), every later one reads anew. `read` is given the options for each
 * (`ctx.fact(f, opts)`, or a read that picks its fact or its host first).
 */
export function settlingReads<T>(read: (opts: FactOptions) => Promise<T>): () => Promise<T> {
  let fresh = false;
  return () => {
    const next = read({ current: true, fresh });
    fresh = true;
    return next;
  };
}

/**
 * A command at the head of a host's first batch (the run lock's take, lib/lock.ts): run as root before any fact
 * of the batch, which is read only when it exits 0; alone when no root fact is read.
 */
export interface BatchHead {
  command: string;
  /** Reads the head's answer; throws to fail the whole read (nothing is memoised then). */
  accept(result: ExecResult): void;
}

const keyOf = (fact: Fact<unknown>) => `${fact.become ? 'root' : 'user'}:${fact.name}:${fact.command}`;

export class FactCache {
  private byHost = new Map<string, Memo>();
  /** How many times something started or finished changing, on any host, in this run. */
  private epoch = 0;

  /** Called as a change starts and as it ends: every read taken before (or during) it is no longer current. */
  changed(): void {
    this.epoch++;
  }

  private isCurrent(cache: Memo, key: string): boolean {
    return cache.get(key)?.epoch === this.epoch;
  }

  private memo(host: string): Memo {
    let cache = this.byHost.get(host);
    if (!cache) this.byHost.set(host, (cache = new Map()));
    return cache;
  }

  private remember<T>(cache: Memo, key: string, value: Promise<T>, epoch: number): Promise<T> {
    cache.set(key, { value, epoch });
    // A failed read is not a fact: the next asker tries again.
    value.catch(() => cache.get(key)?.value === value && cache.delete(key));
    return value;
  }

  get<T>(host: string, fact: Fact<T>, run: Run, opts: FactOptions = {}): Promise<T> {
    const cache = this.memo(host);
    const key = keyOf(fact);
    const memo = cache.get(key);
    if (memo && !opts.fresh && (!opts.current || this.isCurrent(cache, key))) return memo.value as Promise<T>;
    const epoch = this.epoch;
    return this.remember(cache, key, run(fact.command, { nothrow: true, become: fact.become, secretOutput: fact.secret, stdin: fact.stdin }).then((r) => fact.parse(r)), epoch);
  }

  /**
   * Reads the facts not memoised for `host` as current reads in one command per `become` value (a root batch
   * and a user batch at most: a user's fact is never read as root, where it could answer differently) and
   * memoises each, so the steps' `get`s run nothing. A parse error stays with its fact (its step sees it); a
   * batch that did not complete throws (FactBatchError, or the transport's UnreachableError) and memoises none.
   * A `head` goes first in the root batch, and the user batch starts only once the head is accepted.
   */
  async prefetch(host: string, facts: readonly Fact<unknown>[], run: Run, head?: BatchHead): Promise<void> {
    const cache = this.memo(host);
    const epoch = this.epoch;
    const groups = new Map<boolean | undefined, Map<string, Fact<unknown>>>();
    for (const fact of facts) {
      const key = keyOf(fact);
      if (this.isCurrent(cache, key)) continue;
      // The batch's stdin is one fact's: a second fact with stdin is read alone, when a step asks for it.
      if (fact.stdin !== undefined && [...(groups.get(fact.become)?.values() ?? [])].some((f) => f.stdin !== undefined)) continue;
      let group = groups.get(fact.become);
      if (!group) groups.set(fact.become, (group = new Map()));
      group.set(key, fact);
    }
    if (head && !groups.has(true)) groups.set(true, new Map());
    const seeded = new Map<string, Promise<unknown>>();
    let headed: Promise<unknown> = Promise.resolve();
    // The root batch first: it carries the head, which every other batch waits for.
    const ordered = head ? [...groups].sort(([a], [b]) => Number(b === true) - Number(a === true)) : [...groups];
    const reads = ordered.map(([become, group]) => {
      const members = [...group];
      const withHead = head && become === true ? head : undefined;
      // One secret fact (a file that may hold a password) hides the whole batch's output from logs and reports.
      const read = withHead ? readAll(members.map(([, f]) => f), become, run, withHead) : headed.then(() => readAll(members.map(([, f]) => f), become, run));
      if (withHead) headed = read;
      members.forEach(([key, fact], i) => seeded.set(key, this.remember(cache, key, read.then((rs) => fact.parse(rs[i])), epoch)));
      return read;
    });
    try {
      await Promise.all(reads);
    } catch (error) {
      // Forget them now, before a step asks: a step then reads each fact alone.
      for (const [key, value] of seeded) if (cache.get(key)?.value === value) cache.delete(key);
      throw error;
    }
  }
}

/**
 * One fact alone runs as itself (nothing to gain from a script) unless a head rides with it; several run as one
 * batch script (the head, when given, first), a secret one
 * in the foreground (its output never goes to a file on the host) and hiding the batch's output from logs; the
 * one with stdin (prefetch lets one in) in the foreground too, the batch's stdin its own.
 */
function readAll(facts: readonly Fact<unknown>[], become: boolean | undefined, run: Run, head?: BatchHead): Promise<ExecResult[]> {
  const stdinAt = facts.findIndex((f) => f.stdin !== undefined);
  const stdin = stdinAt < 0 ? undefined : facts[stdinAt].stdin;
  const opts = { nothrow: true, become, secretOutput: facts.some((f) => f.secret || f.stdin !== undefined), stdin };
  if (facts.length === 1 && !head) return run(facts[0].command, opts).then((r) => [r]);
  const nonce = newNonce();
  // The fact with stdin runs in the foreground (only the foreground has the batch's stdin), and first: it then
  // runs beside the background facts, which all start before it, instead of after those listed before it.
  const order = stdinAt < 0 ? [...facts.keys()] : [stdinAt, ...[...facts.keys()].filter((i) => i !== stdinAt)];
  const foreground = new Set(order.flatMap((i, at) => (facts[i].secret || i === stdinAt ? [at] : [])));
  const script = batchScript(order.map((i) => facts[i].command), nonce, { foreground, stdin: stdinAt < 0 ? undefined : 0, head: head?.command });
  return run(script, opts).then((r) => {
    let rest = r;
    if (head) {
      const answer = parseHead(r, nonce);
      head.accept(answer.head);
      if (!answer.rest) throw new FactBatchError(`the head of the batch exited ${answer.head.code}: no fact was read`);
      rest = answer.rest;
    }
    const parsed = parseBatch(rest, facts.length, nonce);
    const results: ExecResult[] = [];
    order.forEach((i, at) => (results[i] = parsed[at]));
    return results;
  });
}
