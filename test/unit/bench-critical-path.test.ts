import { describe, expect, it } from 'vitest';
import { criticalPath } from '../../bench/critical-path.ts';
import type { Node } from '../../lib/plan.ts';

const node = (id: string, deps: Node[] = []): Node => ({ id, deps }) as unknown as Node;

describe('criticalPath', () => {
  it('follows the longest chain of durations, not the longest chain of nodes', () => {
    const docker1 = node('docker@a');
    const docker2 = node('docker@b');
    const etcd = node('etcd@a', [docker1, docker2]);
    const lb = node('lb@c');
    const gateway = node('gateway@b', [docker2, etcd]);
    const ms: Record<string, number> = { 'docker@a': 10, 'docker@b': 30, 'etcd@a': 5, 'lb@c': 40, 'gateway@b': 7 };
    const result = criticalPath([docker1, docker2, etcd, lb, gateway], (n) => ms[n.id]);
    expect(result.totalMs).toBe(42);
    expect(result.path.map((n) => n.id)).toEqual(['docker@b', 'etcd@a', 'gateway@b']);
  });

  it('is zero for an empty graph', () => {
    expect(criticalPath([], () => 1)).toEqual({ totalMs: 0, path: [] });
  });
});
