// Facts: a command plus a parser, memoised per host per run (pyinfra-style).
import type { ExecOptions, ExecResult, Fact } from './types.ts';

type Run = (command: string, opts?: ExecOptions) => Promise<ExecResult>;

export class FactCache {
  private byHost = new Map<string, Map<string, Promise<unknown>>>();

  get<T>(host: string, fact: Fact<T>, run: Run, fresh = false): Promise<T> {
    let cache = this.byHost.get(host);
    if (!cache) this.byHost.set(host, (cache = new Map()));
    const key = `${fact.become ? 'root' : 'user'}:${fact.name}:${fact.command}`;
    let value = cache.get(key) as Promise<T> | undefined;
    if (!value || fresh) {
      value = run(fact.command, { nothrow: true, become: fact.become }).then((r) => fact.parse(r));
      cache.set(key, value);
      // A failed read is not a fact: the next asker tries again.
      value.catch(() => cache.get(key) === value && cache.delete(key));
    }
    return value;
  }
}
