// The registry of what steps hold down, and how an interrupt puts it back.
import { describe, expect, it } from 'vitest';
import { Interrupt, InterruptedError, INTERRUPT_EXIT_CODES, trapSignals } from '../../lib/interrupt.ts';

describe('Interrupt', () => {
  it('keeps what is held until the step restores it, and restores each thing once', async () => {
    const interrupt = new Interrupt();
    const log: string[] = [];
    const held = await interrupt.hold('g1 drained', async () => void log.push('drain'), async () => void log.push('ready'));
    expect(interrupt.holding()).toEqual(['g1 drained']);
    await Promise.all([held.restore(), interrupt.restoreAll(), held.restore()]);
    expect(log).toEqual(['drain', 'ready']);
    expect(interrupt.holding()).toEqual([]);
  });

  it('restoreAll puts back everything still held, newest first, and reports what failed', async () => {
    const interrupt = new Interrupt();
    const log: string[] = [];
    await interrupt.hold('gateway stopped on g1', async () => undefined, async () => void log.push('start g1'));
    await interrupt.hold('g2 drained', async () => undefined, async () => Promise.reject(new Error('socket gone')));
    await interrupt.hold('g3 drained', async () => undefined, async () => void log.push('ready g3'));
    interrupt.request('SIGINT');
    expect(await interrupt.restoreAll()).toEqual(['g2 drained: socket gone']);
    expect(log).toEqual(['ready g3', 'start g1']);
  });

  it('a forced restore waits for the take-down in flight, so "ready" never lands before "drain"', async () => {
    const interrupt = new Interrupt();
    const log: string[] = [];
    let finishDrain!: () => void;
    const holding = interrupt.hold(
      'g1 drained',
      () => new Promise<void>((r) => (finishDrain = () => (log.push('drain'), r()))),
      async () => void log.push('ready'),
    );
    const forced = interrupt.restoreAll();
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual([]);
    finishDrain();
    await Promise.all([forced, holding]);
    expect(log).toEqual(['drain', 'ready']);
  });

  it('a take-down that fails part-way is put back at once, and the error goes on', async () => {
    const interrupt = new Interrupt();
    const log: string[] = [];
    const failing = interrupt.hold('g1 drained', async () => Promise.reject(new Error('lb2 refused')), async () => void log.push('ready'));
    await expect(failing).rejects.toThrow('lb2 refused');
    expect(log).toEqual(['ready']);
    expect(interrupt.holding()).toEqual([]);
  });

  it('refuses to take anything down once interrupted; the exit code is 128 + the signal number', async () => {
    const interrupt = new Interrupt();
    expect(interrupt.exitCode).toBeUndefined();
    interrupt.request('SIGINT');
    interrupt.request('SIGTERM'); // the first signal is the one reported
    let took = false;
    await expect(interrupt.hold('g2 drained', async () => void (took = true), async () => undefined)).rejects.toBeInstanceOf(InterruptedError);
    expect(took).toBe(false);
    expect(interrupt.exitCode).toBe(130);
    expect(INTERRUPT_EXIT_CODES).toEqual({ SIGHUP: 129, SIGINT: 130, SIGTERM: 143 });
  });
});

describe('trapSignals', () => {
  const trapped = () => {
    const interrupt = new Interrupt();
    const calls: string[] = [];
    const untrap = trapSignals(interrupt, {
      graceful: (s) => void calls.push(`graceful ${s}`),
      force: (s) => void calls.push(`force ${s}`),
      exitNow: (code) => void calls.push(`exit ${code}`),
    });
    return { interrupt, calls, untrap };
  };

  it('Ctrl-C: graceful; again: force; a third time: exit at once', () => {
    const { interrupt, calls, untrap } = trapped();
    try {
      process.emit('SIGINT');
      process.emit('SIGINT');
      process.emit('SIGINT');
    } finally {
      untrap();
    }
    expect(calls).toEqual(['graceful SIGINT', 'force SIGINT', 'exit 130']);
    expect(interrupt.signal).toBe('SIGINT');
  });

  it('SIGTERM and SIGHUP force at once', () => {
    for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
      const { interrupt, calls, untrap } = trapped();
      try {
        process.emit(signal);
      } finally {
        untrap();
      }
      expect(calls).toEqual([`force ${signal}`]);
      expect(interrupt.exitCode).toBe(INTERRUPT_EXIT_CODES[signal]);
    }
  });
});
