import { describe, expect, it } from 'vitest';
import { probeVerdict } from '../../ops/gateway-health.ts';

describe('gateway probe verdict', () => {
  const notFound = { status: 404, body: '{"error_msg":"404 Route Not Found"}' };
  it('with a probe route: routed answers pass, no route and proxy errors do not', () => {
    expect(probeVerdict({ status: 200, body: '{}' }, true)).toBe(true);
    expect(probeVerdict(notFound, true)).toMatch(/not loaded/);
    expect(probeVerdict({ status: 502, body: '' }, true)).toMatch(/502/);
    expect(probeVerdict({ status: 0, body: 'Connection refused' }, true)).toMatch(/no answer/);
  });
  it('without one: the gateway 404 JSON passes', () => {
    expect(probeVerdict(notFound, false)).toBe(true);
    expect(probeVerdict({ status: 200, body: 'x' }, false)).toMatch(/expected/);
  });
});
