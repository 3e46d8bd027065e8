// State shared by every host of one play during a run: run-once work, play-wide locks, a free-form map.
//
// Run-once work goes to the play's leader: the first host, in play order, whose node is still running and has
// not yet passed that step. A later host waits while an earlier one is on its way to the step, then either
// skips ("done once, by lab4") or, when that host failed or became unreachable first, does the work itself.
// Only hosts already running are waited for (never one queued behind --forks or serial), so no host waits for
// a slot it holds itself.
import { UnreachableError } from './errors.ts';
import type { Host, PlayShared, Status } from './types.ts';

/** The key of a whole run-once play (`runOnce: true`), as opposed to one step. */
export const WHOLE_PLAY = '';

export class SharedPlay {
  readonly state = new Map<string, unknown>();
  private readonly onces = new Map<string, { host: string; promise: Promise<unknown> }>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly running = new Set<string>();
  private readonly passed = new Map<string, Set<string>>();
  private readonly leading = new Map<string, string>();
  private readonly done = new Map<string, string>();
  private waiting: (() => void)[] = [];

  constructor(
    readonly hosts: Host[],
    /** Why no run-once work may start any more (the run is interrupted), else undefined. */
    private readonly stopped: () => string | undefined = () => undefined,
  ) {}

  nodeStarted(host: string): void {
    this.running.add(host);
  }

  nodeEnded(host: string): void {
    this.running.delete(host);
    this.wake();
  }

  /** A host is past `step`: done by it (ok/changed while leading), skipped or failed. */
  stepEnded(step: string, host: string, status: Status | 'unreachable'): void {
    this.passedSet(step).add(host);
    if (this.leading.get(step) === host && (status === 'ok' || status === 'changed')) this.done.set(step, host);
    this.wake();
  }

  /** true when `host` is to do `step` now; else who did it. */
  async lead(step: string, host: string): Promise<true | string> {
    const at = this.hosts.findIndex((h) => h.name === host);
    const before = this.hosts.slice(0, at < 0 ? this.hosts.length : at).map((h) => h.name);
    for (;;) {
      const by = this.done.get(step);
      if (by) return `done once, by ${by}`;
      const stopped = this.stopped();
      if (stopped) return stopped;
      const passed = this.passedSet(step);
      const busy = (h: string) => this.running.has(h) && !passed.has(h);
      const leader = this.leading.get(step);
      if (!(leader && leader !== host && busy(leader)) && !before.some(busy)) {
        this.leading.set(step, host);
        return true;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /**
   * `once`: one promise per key for the play. If the host that ran it lost its connection, a host still
   * waiting runs it again on its own connection instead of failing with the dead host's error.
   */
  async once<T>(key: string, host: string, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      const entry = this.onces.get(key);
      if (!entry) {
        const promise = Promise.resolve().then(fn);
        this.onces.set(key, { host, promise });
        return promise;
      }
      try {
        return (await entry.promise) as T;
      } catch (error) {
        const hostGone = error instanceof UnreachableError && error.host === entry.host && entry.host !== host;
        if (!hostGone) throw error;
        if (this.onces.get(key) === entry) this.onces.delete(key);
      }
    }
  }

  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    // A chain per key: each caller runs after the previous one settles, whatever its outcome.
    const previous = this.locks.get(key) ?? Promise.resolve();
    const mine = previous.then(fn, fn);
    this.locks.set(key, mine.catch(() => undefined));
    return mine;
  }

  /** What a step on `host` sees as ctx.play. */
  view(step: string, host: string): PlayShared {
    return {
      hosts: this.hosts,
      state: this.state,
      once: (key, fn) => this.once(key, host, fn),
      exclusive: (key, fn) => this.exclusive(key, fn),
      lead: () => this.lead(step, host),
      running: (h) => this.running.has(h),
    };
  }

  private passedSet(step: string): Set<string> {
    let s = this.passed.get(step);
    if (!s) this.passed.set(step, (s = new Set()));
    return s;
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}

/** A play's shared state outside the runner (tests, fixtures): `host` is the caller. */
export const makePlayShared = (hosts: Host[], host = hosts[0]?.name ?? '', step = ''): PlayShared => new SharedPlay(hosts).view(step, host);
