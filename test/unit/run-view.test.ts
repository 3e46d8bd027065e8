// The terminal tree's content as plain state: a line per play, and under it only running or failed hosts.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../lib/events.ts';
import { RunView } from '../../lib/run-view.ts';
import { changedLines } from '../../lib/tree-view.ts';
import type { StepResult } from '../../lib/types.ts';

const result = (host: string, play: string, step: string, status: StepResult['status'], changes: string[] = []): StepResult => ({
  host,
  play,
  step,
  status,
  changes,
  diffs: [],
  durationMs: 1,
});

/** The clock reads 2.5 s more at each look: the play starts at its first host and ends at its last. */
function viewAfter(events: RunEvent[]): RunView {
  let t = 0;
  const view = new RunView(() => (t += 2500));
  for (const e of events) view.apply(e);
  return view;
}

const start: RunEvent = {
  type: 'run:start',
  playbook: 'site',
  check: false,
  plays: [
    { name: 'etcd', hosts: ['lab1', 'lab2', 'lab3'], steps: ['etcd member'] },
    { name: 'gateway', hosts: ['lab4'], steps: ['gateway up'] },
    { name: 'smoke', hosts: [], steps: [] },
  ],
};

describe('RunView', () => {
  it('a play that has not started waits; plays with no host are not shown', () => {
    const view = viewAfter([start]);
    expect([...view.plays.keys()]).toEqual(['etcd', 'gateway']);
    expect(view.playTitle('etcd')).toBe('etcd (3 hosts) · waiting');
    expect(view.playTitle('gateway')).toBe('gateway (1 host) · waiting');
    expect(view.hostTitle('etcd', 'lab1')).toBe('');
  });

  it('a running host shows the step it is on; a host that finished well disappears', () => {
    const view = viewAfter([
      start,
      { type: 'node:start', play: 'etcd', host: 'lab1' },
      { type: 'node:start', play: 'etcd', host: 'lab2' },
      { type: 'step:start', play: 'etcd', host: 'lab1', step: 'etcd member' },
      { type: 'step:end', result: result('lab2', 'etcd', 'etcd member', 'changed', ['start etcd member']) },
      { type: 'node:end', play: 'etcd', host: 'lab2', status: 'changed', durationMs: 5 },
    ]);
    expect(view.hostTitle('etcd', 'lab1')).toBe('lab1 › etcd member');
    expect(view.hostTitle('etcd', 'lab2')).toBe('');
    expect(view.hostTitle('etcd', 'lab3')).toBe('');
    expect(view.playTitle('etcd')).toBe('etcd (3 hosts) · 1/3 done, 1 changed');
  });

  it('a finished play is one line with its time and tally; a failed host keeps its line with the reason', () => {
    const view = viewAfter([
      start,
      { type: 'node:start', play: 'etcd', host: 'lab1' },
      { type: 'node:start', play: 'etcd', host: 'lab2' },
      { type: 'node:start', play: 'etcd', host: 'lab3' },
      { type: 'node:end', play: 'etcd', host: 'lab1', status: 'ok', durationMs: 5 },
      { type: 'node:end', play: 'etcd', host: 'lab2', status: 'failed', reason: 'step "etcd member" failed\nmore', durationMs: 5 },
      { type: 'node:end', play: 'etcd', host: 'lab3', status: 'unreachable', reason: 'connect ETIMEDOUT', durationMs: 5 },
    ]);
    expect(view.playTitle('etcd')).toBe('etcd (3 hosts) 2.5 s, 0 changed, 1 failed, 1 unreachable');
    expect(view.hostTitle('etcd', 'lab1')).toBe('');
    expect(view.hostTitle('etcd', 'lab2')).toBe('lab2: failed (step "etcd member" failed)');
    expect(view.hostTitle('etcd', 'lab3')).toBe('lab3: unreachable (connect ETIMEDOUT)');
  });
});

describe('changedLines', () => {
  it('lists the changed steps with their first change, nothing when none changed', () => {
    expect(changedLines([result('lab1', 'etcd', 'etcd member', 'ok')])).toEqual([]);
    expect(changedLines([result('lab1', 'etcd', 'etcd member', 'changed', ['start etcd member lab1', 'x']), result('lab2', 'etcd', 'etcd member', 'ok')])).toEqual([
      'CHANGED (1)',
      '  lab1 etcd › etcd member: start etcd member lab1',
    ]);
  });

  it('caps the list and says where the rest is', () => {
    const many = Array.from({ length: 5 }, (_, i) => result(`h${i}`, 'p', 's', 'changed'));
    const lines = changedLines(many, 2);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/and 3 more/);
  });
});
