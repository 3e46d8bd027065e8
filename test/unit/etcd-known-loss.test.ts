import { describe, expect, it } from 'vitest';
import { knownLosses } from '../../ops/etcd.ts';
import { healthyEndpoints } from '../../ops/etcdctl.ts';

const MEMBERS = [
  { host: 'lab1', address: '10.0.0.1' },
  { host: 'lab2', address: '10.0.0.2' },
  { host: 'lab3', address: '10.0.0.3' },
];
const HEALTH = [
  'http://10.0.0.1:2379 is healthy: successfully committed proposal: took = 2.1ms',
  'http://10.0.0.2:2379 is healthy: successfully committed proposal: took = 2.5ms',
  'http://10.0.0.3:2379 is unhealthy: failed to commit proposal: context deadline exceeded',
].join('\n');
const read = (output: string, leaders = 1) => ({ healthyEndpoints: healthyEndpoints(output), healthy: healthyEndpoints(output).length, leaders });
const gone = (...hosts: string[]) => ({ unreachable: (h: string) => hosts.includes(h) });

describe('the etcd gate counts a member out only when its host is known to be gone', () => {
  it('reads the healthy endpoints of `endpoint health`', () => {
    expect(healthyEndpoints(HEALTH)).toEqual(['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
  });

  it('lab3 unreachable in this run, 2/3 healthy with a leader: a known loss', () => {
    expect(knownLosses(gone('lab3'), MEMBERS, read(HEALTH))).toEqual(['lab3']);
  });

  it('lab3 down but its host answered this run: not a known loss (the gate keeps failing)', () => {
    expect(knownLosses(gone(), MEMBERS, read(HEALTH))).toEqual([]);
  });

  it('no leader, or quorum lost, is never passed', () => {
    expect(knownLosses(gone('lab3'), MEMBERS, read(HEALTH, 0))).toEqual([]);
    const oneLeft = HEALTH.replace('10.0.0.2:2379 is healthy', '10.0.0.2:2379 is unhealthy');
    expect(knownLosses(gone('lab2', 'lab3'), MEMBERS, read(oneLeft))).toEqual([]);
  });

  it('a second member down on a reachable host is not excused by the unreachable one', () => {
    const five = [...MEMBERS, { host: 'lab4', address: '10.0.0.4' }, { host: 'lab5', address: '10.0.0.5' }];
    const out = `${HEALTH}\nhttp://10.0.0.4:2379 is healthy: ok\nhttp://10.0.0.5:2379 is unhealthy: connection refused`;
    expect(knownLosses(gone('lab3'), five, read(out))).toEqual([]);
    expect(knownLosses(gone('lab3', 'lab5'), five, read(out))).toEqual(['lab3', 'lab5']);
  });
});
