// A steady, bounded request load and its figures: requests sent, failed, and the longest time without a
// successful response. The clock is injected so the statistics are tested with a fake one.

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface LoadStats {
  sent: number;
  failed: number;
  /** Longest stretch without a successful response: from the start, between successes, until the stop. */
  longestGapMs: number;
  durationMs: number;
  /** Failure reasons and how often each was seen. */
  errors: Record<string, number>;
  /** Set when the load stopped by its own bound (count or time) before it was asked to stop. */
  boundReached?: 'count' | 'time';
}

/** Folds request outcomes into the figures; times are the clock's, at each response. */
export class LoadRecorder {
  private sent = 0;
  private failed = 0;
  private lastSuccess: number;
  private longestGap = 0;
  private errors: Record<string, number> = {};

  constructor(private readonly startedAt: number) {
    this.lastSuccess = startedAt;
  }

  sentOne(): void {
    this.sent++;
  }

  /** Called once per request, when its response (or failure) arrives. */
  record(at: number, ok: boolean, reason = 'failed'): void {
    if (ok) {
      this.longestGap = Math.max(this.longestGap, at - this.lastSuccess);
      this.lastSuccess = Math.max(this.lastSuccess, at);
      return;
    }
    this.failed++;
    this.errors[reason] = (this.errors[reason] ?? 0) + 1;
  }

  stats(stoppedAt: number): LoadStats {
    return {
      sent: this.sent,
      failed: this.failed,
      longestGapMs: Math.round(Math.max(this.longestGap, stoppedAt - this.lastSuccess)),
      durationMs: Math.round(stoppedAt - this.startedAt),
      errors: { ...this.errors },
    };
  }
}

export interface LoadOptions {
  /** One request: resolves true on success; false or a throw (its message is the reason) is a failure. */
  send(): Promise<boolean>;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Pause between one worker's requests. */
  intervalMs?: number;
  /** Bounds: the load stops by itself after this many requests or this long. */
  maxRequests: number;
  maxDurationMs: number;
  clock?: Clock;
}

export interface RunningLoad {
  /** Stops sending, waits for the requests in flight, returns the figures. */
  stop(): Promise<LoadStats>;
}

export function startLoad(opts: LoadOptions): RunningLoad {
  const clock = opts.clock ?? realClock;
  const started = clock.now();
  const recorder = new LoadRecorder(started);
  let stopped = false;
  let sent = 0;
  let bound: LoadStats['boundReached'];

  const worker = async () => {
    for (;;) {
      if (stopped) return;
      if (sent >= opts.maxRequests) return void (bound ??= 'count');
      if (clock.now() - started >= opts.maxDurationMs) return void (bound ??= 'time');
      sent++;
      recorder.sentOne();
      try {
        const ok = await opts.send();
        recorder.record(clock.now(), ok, ok ? undefined : 'unexpected response');
      } catch (e) {
        recorder.record(clock.now(), false, e instanceof Error ? e.message : String(e));
      }
      await clock.sleep(opts.intervalMs ?? 50);
    }
  };
  const workers = Promise.all(Array.from({ length: opts.concurrency ?? 1 }, worker));

  return {
    async stop() {
      stopped = true;
      await workers;
      // A load that ran out early has been silent since: the gap runs to the stop, as it should.
      const stats = recorder.stats(clock.now());
      return bound ? { ...stats, boundReached: bound } : stats;
    },
  };
}

export const formatStats = (s: LoadStats): string =>
  `${s.sent} requests, ${s.failed} failed, longest gap ${(s.longestGapMs / 1000).toFixed(2)} s` +
  (Object.keys(s.errors).length ? ` (${Object.entries(s.errors).map(([k, n]) => `${n}x ${k}`).join(', ')})` : '') +
  (s.boundReached ? ` [load stopped early by its ${s.boundReached} bound]` : '');
