// Pure logic of the dashboard's access checks: login tokens and allow_list.
import { describe, expect, test } from 'vitest';
import { allowListCheck } from '../../lab/standins/dashboard/allow-list.ts';
import { issueToken, verifyToken } from '../../lab/standins/dashboard/token.ts';

describe('login token', () => {
  const now = Date.UTC(2025, 0, 1);
  const token = issueToken('admin', 'secret', 60, now);

  test('verifies for its user until it expires', () => {
    expect(verifyToken(token, 'secret', now + 59_000)).toBe('admin');
    expect(verifyToken(`Bearer ${token}`, 'secret', now)).toBe('admin');
    expect(verifyToken(token, 'secret', now + 60_000)).toBeUndefined();
  });

  test('refuses another secret, a changed payload and garbage', () => {
    expect(verifyToken(token, 'other', now)).toBeUndefined();
    const [head, , sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'root', exp: now / 1000 + 60 })).toString('base64url');
    expect(verifyToken(`${head}.${forged}.${sig}`, 'secret', now)).toBeUndefined();
    expect(verifyToken('not-a-token', 'secret', now)).toBeUndefined();
  });
});

describe('allow_list', () => {
  test('admits listed addresses and CIDRs only', () => {
    const allowed = allowListCheck(['127.0.0.1', '10.77.0.0/24', '::1']);
    expect(['127.0.0.1', '10.77.0.200', '::1'].map(allowed)).toEqual([true, true, true]);
    expect(['127.0.0.2', '10.77.1.1', 'garbage'].map(allowed)).toEqual([false, false, false]);
  });

  test('an empty list admits everyone; a bad entry is refused at start', () => {
    expect(allowListCheck([])('192.0.2.1')).toBe(true);
    expect(() => allowListCheck(['example.com'])).toThrow(/allow_list/);
  });
});
