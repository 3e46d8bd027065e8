// Pure logic of the gateway: route parsing, matching precedence and weighted round-robin.
import { describe, expect, test } from 'vitest';
import { WeightedRoundRobin } from '../../lab/standins/gateway/balancer.ts';
import { hostOnly, RouteTable } from '../../lab/standins/gateway/route-table.ts';
import { parseStoredRoute } from '../../lab/standins/shared/route.ts';

const stored = (id: string, doc: object) => parseStoredRoute(id, JSON.stringify({ upstream: { nodes: { '10.0.0.1:80': 1 } }, ...doc }));

describe('stored routes', () => {
  test('both node forms give the same nodes; bare hosts default to port 80', () => {
    expect(stored('a', { uri: '/x', upstream: { nodes: { '10.0.0.1:8080': 2, 'up.test': 1 } } }).nodes).toEqual([
      { host: '10.0.0.1', port: 8080, weight: 2 },
      { host: 'up.test', port: 80, weight: 1 },
    ]);
    expect(stored('b', { uri: '/x', upstream: { nodes: [{ host: '10.0.0.1', port: 8080, weight: 2 }] } }).nodes).toEqual([{ host: '10.0.0.1', port: 8080, weight: 2 }]);
  });

  test('host and hosts merge, lower-cased; a route without uri is refused', () => {
    expect(stored('c', { uri: '/x', host: 'A.test', hosts: ['b.test'] }).hosts).toEqual(['a.test', 'b.test']);
    expect(() => stored('d', { host: 'a.test' })).toThrow(/uri or uris is required/);
    expect(() => parseStoredRoute('e', '{"uri":"/x"}')).toThrow(/upstream/);
  });
});

describe('matching', () => {
  const table = new RouteTable();
  table.replaceAll([
    stored('any-host-prefix', { uri: '/api/*' }),
    stored('host-prefix', { uri: '/api/*', host: 'test.com' }),
    stored('host-exact', { uri: '/api/v1', host: 'test.com' }),
    stored('wildcard', { uri: '/w', host: '*.example.com' }),
    stored('post-only', { uri: '/p', methods: ['POST'] }),
    stored('disabled', { uri: '/off', status: 0 }),
    stored('priority', { uri: '/api/*', host: 'test.com', priority: 10, methods: ['DELETE'] }),
  ]);
  const id = (method: string, host: string | undefined, path: string) => table.match(method, host, path)?.route.id;

  test.each([
    ['GET', 'test.com', '/api/v1', 'host-exact'],
    ['GET', 'TEST.com:8080', '/api/v2', 'host-prefix'],
    ['GET', 'other.com', '/api/v1', 'any-host-prefix'],
    ['DELETE', 'test.com', '/api/v1', 'priority'],
    ['GET', 'a.example.com', '/w', 'wildcard'],
    ['GET', 'example.com', '/w', undefined],
    ['GET', undefined, '/p', undefined],
    ['POST', undefined, '/p', 'post-only'],
    ['GET', undefined, '/off', undefined],
    ['GET', undefined, '/ap', undefined],
  ])('%s %s %s → %s', (method, host, path, expected) => {
    expect(id(method, host, path)).toBe(expected);
  });

  test('hostOnly strips ports, including from IPv6 literals', () => {
    expect(hostOnly('[::1]:9080')).toBe('::1');
    expect(hostOnly('Test.com:80')).toBe('test.com');
  });
});

describe('weighted round-robin', () => {
  const node = (host: string, weight: number) => ({ host, port: 80, weight });

  test('5,1,1 interleaves smoothly (nginx order)', () => {
    const rr = new WeightedRoundRobin([node('a', 5), node('b', 1), node('c', 1)]);
    expect(Array.from({ length: 7 }, () => rr.next()?.host).join('')).toBe('aabacaa');
  });

  test('weight 0 nodes never serve; all zero gives nothing', () => {
    const rr = new WeightedRoundRobin([node('a', 0), node('b', 1)]);
    expect([rr.next()?.host, rr.next()?.host]).toEqual(['b', 'b']);
    expect(new WeightedRoundRobin([node('a', 0)]).next()).toBeUndefined();
  });
});
