// State shared by every host of one play during a run: run-once, play-wide locks, a free-form map.
import type { Host, PlayShared } from './types.ts';

export function makePlayShared(hosts: Host[]): PlayShared {
  const onces = new Map<string, Promise<unknown>>();
  const locks = new Map<string, Promise<unknown>>();
  return {
    hosts,
    state: new Map(),
    once<T>(key: string, fn: () => Promise<T>): Promise<T> {
      let p = onces.get(key) as Promise<T> | undefined;
      if (!p) onces.set(key, (p = Promise.resolve().then(fn)));
      return p;
    },
    exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
      // A chain per key: each caller runs after the previous one settles, whatever its outcome.
      const previous = locks.get(key) ?? Promise.resolve();
      const mine = previous.then(fn, fn);
      locks.set(key, mine.catch(() => undefined));
      return mine;
    },
  };
}
