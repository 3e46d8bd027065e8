import { describe, expect, it } from 'vitest';
import { formatStats, LoadRecorder, startLoad, type Clock } from '../../roles/verify/load.ts';

/** Time moves only when the code under test sleeps or a fake request takes its latency. */
class FakeClock implements Clock {
  t = 1000;
  now = () => this.t;
  sleep = async (ms: number) => void (this.t += ms);
}

/** A scripted server: each request takes `latency` ms and succeeds or fails as the script says. */
function scripted(clock: FakeClock, script: (boolean | Error)[], latency = 10) {
  let i = 0;
  return async () => {
    clock.t += latency;
    const outcome = script[i++ % script.length];
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
}

describe('LoadRecorder', () => {
  it('measures the longest gap between successes, from the start and until the stop', () => {
    const r = new LoadRecorder(0);
    for (const [at, ok] of [[100, true], [200, false], [900, true], [1000, true]] as const) {
      r.sentOne();
      r.record(at, ok, 'HTTP 502');
    }
    expect(r.stats(1200)).toEqual({ sent: 4, failed: 1, longestGapMs: 800, durationMs: 1200, errors: { 'HTTP 502': 1 } });
  });

  it('counts the silence before the first success and after the last', () => {
    const first = new LoadRecorder(0);
    first.record(3000, true);
    expect(first.stats(3100).longestGapMs).toBe(3000);
    const last = new LoadRecorder(0);
    last.record(10, true);
    expect(last.stats(5000).longestGapMs).toBe(4990);
  });
});

/** Lets the fake-clock load run until it has nothing left to do (its requests resolve as microtasks). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('startLoad', () => {
  const script = [true, true, false, new Error('ECONNRESET'), true];

  it('stops by its count bound and reports sent, failed (by reason) and the longest gap', async () => {
    const clock = new FakeClock();
    const load = startLoad({ send: scripted(clock, script), intervalMs: 40, maxRequests: 10, maxDurationMs: 60_000, clock });
    await settle();
    // Responses at 1010, 1060, (1110 false), (1160 throw), 1210, 1260, 1310, (1360), (1410), 1460; stop at 1500.
    expect(await load.stop()).toEqual({
      sent: 10,
      failed: 4,
      longestGapMs: 150,
      durationMs: 500,
      errors: { 'unexpected response': 2, ECONNRESET: 2 },
      boundReached: 'count',
    });
  });

  it('stops by its time bound', async () => {
    const clock = new FakeClock();
    const load = startLoad({ send: scripted(clock, script), intervalMs: 40, maxRequests: 1000, maxDurationMs: 120, clock });
    await settle();
    const stats = await load.stop();
    expect([stats.sent, stats.failed, stats.boundReached]).toEqual([3, 1, 'time']);
  });

  it('stops when asked, after the requests in flight', async () => {
    const clock = new FakeClock();
    const load = startLoad({ send: scripted(clock, [true]), concurrency: 2, maxRequests: 1000, maxDurationMs: 60_000, clock });
    const stats = await load.stop();
    expect([stats.sent, stats.failed, stats.boundReached]).toEqual([2, 0, undefined]);
  });

  it('formats the figures for the recap', () => {
    expect(formatStats({ sent: 120, failed: 2, longestGapMs: 1534, durationMs: 9000, errors: { 'HTTP 502': 2 } })).toBe(
      '120 requests, 2 failed, longest gap 1.53 s (2x HTTP 502)',
    );
  });
});
