// Ctrl-C, SIGTERM and a dropped terminal (SIGHUP) in the middle of a run. The run stops starting new work,
// and whatever a step holds down (a server drained in HAProxy, a service verify stopped) is put back: by the
// step itself as it finishes, or, when the operator insists or the signal says "now", through the registry of
// restore actions that steps fill while they hold something down.

/** 128 + the signal's number, as shells report a command killed by it. */
export const INTERRUPT_EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
export type InterruptSignal = keyof typeof INTERRUPT_EXIT_CODES;

/** Refuses to take something down once the run is being interrupted. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
}

/** Something a step took down, and the one-shot action that puts it back. */
export interface Held {
  what: string;
  /** Puts it back (once: a second call returns the first call's promise) and forgets it. */
  restore(): Promise<void>;
}

export class Interrupt {
  /** The first signal received; undefined while the run goes on normally. */
  signal?: InterruptSignal;
  private readonly held = new Set<Held>();

  get requested(): boolean {
    return this.signal !== undefined;
  }

  get exitCode(): number | undefined {
    return this.signal && INTERRUPT_EXIT_CODES[this.signal];
  }

  request(signal: InterruptSignal): void {
    this.signal ??= signal;
  }

  /** What is held down right now (for the messages). */
  holding(): string[] {
    return [...this.held].map((h) => h.what);
  }

  /**
   * Runs `takeDown` and records `restore` until the step calls `restore()` itself. If `takeDown` fails
   * part-way (drained on one LB of two), `restore` runs at once and the error goes on. Refused once the run
   * is interrupted: nothing new is taken down after Ctrl-C.
   */
  async hold(what: string, takeDown: () => Promise<unknown>, restore: () => Promise<void>): Promise<Held> {
    if (this.signal) throw new InterruptedError(`interrupted (${this.signal}): not taking down ${what}`);
    let taken: Promise<unknown> = Promise.resolve();
    let restoring: Promise<void> | undefined;
    const entry: Held = {
      what,
      restore: () =>
        (restoring ??= (async () => {
          // A restore forced by a signal waits for the take-down in flight, so "ready" never lands before "drain".
          await taken.catch(() => undefined);
          try {
            await restore();
          } finally {
            this.held.delete(entry);
          }
        })()),
    };
    this.held.add(entry);
    taken = Promise.resolve().then(takeDown);
    try {
      await taken;
    } catch (error) {
      await entry.restore().catch(() => undefined);
      throw error;
    }
    return entry;
  }

  /** Puts back everything still held, newest first; returns what could not be put back, with why. */
  async restoreAll(): Promise<string[]> {
    const failures: string[] = [];
    for (const entry of [...this.held].reverse()) {
      await entry.restore().catch((e: unknown) => failures.push(`${entry.what}: ${e instanceof Error ? e.message : String(e)}`));
    }
    return failures;
  }
}

export interface SignalHooks {
  /** First Ctrl-C: the run finishes its current steps and stops. */
  graceful(signal: InterruptSignal): void;
  /** Second Ctrl-C, SIGTERM or SIGHUP: restore now and exit. */
  force(signal: InterruptSignal): Promise<void> | void;
  /** A signal while `force` runs: exit at once. */
  exitNow(code: number): void;
}

/**
 * SIGINT once: graceful. SIGINT again, SIGTERM (a supervisor stopping us) or SIGHUP (the terminal or the ssh
 * session to the controller is gone): force. Anything after that: exit at once. Returns the uninstaller.
 */
export function trapSignals(interrupt: Interrupt, hooks: SignalHooks): () => void {
  let forcing = false;
  const on = (signal: InterruptSignal) => () => {
    const first = !interrupt.requested;
    interrupt.request(signal);
    if (forcing) return hooks.exitNow(interrupt.exitCode!);
    if (first && signal === 'SIGINT') return hooks.graceful(signal);
    forcing = true;
    void hooks.force(signal);
  };
  // With the terminal gone, a write must not crash the run before it has put things back.
  const quiet = () => undefined;
  process.stdout.on('error', quiet);
  process.stderr.on('error', quiet);
  const handlers = (Object.keys(INTERRUPT_EXIT_CODES) as InterruptSignal[]).map((s) => [s, on(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
    process.stdout.off('error', quiet);
    process.stderr.off('error', quiet);
  };
}
