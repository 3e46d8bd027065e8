// The data plane's paths, the probe route and how a probe answer is read: pure values.
import { posix } from 'node:path';
import type { Vars } from '../../lib/types.ts';
import { planeDir } from '../common/layout.ts';
import type { CurlResponse } from '../common/curl.ts';

export const gatewayDir = (vars: Vars): string => planeDir(vars, 'dp');
export const GATEWAY_CONF = 'gateway_conf/config.yaml';
export const gatewayConfFile = (vars: Vars): string => posix.join(gatewayDir(vars), GATEWAY_CONF);

/** A route only gatewright's health gate uses: a Host nobody else can send (.invalid). */
export const PROBE_ROUTE_ID = 'gatewright-probe';
export const PROBE_HOST = 'gatewright-probe.invalid';
export const PROBE_URI = '/get';

/**
 * With a probe route, the gateway must have loaded it and reached the upstream: any answer but
 * "no route" and a proxy error (502/503/504) proves it. Without one, its own 404 JSON proves it serves.
 */
export function probeVerdict(res: CurlResponse, withRoute: boolean): true | string {
  if (res.status === 0) return `no answer: ${res.body.slice(0, 120)}`;
  const noRoute = res.status === 404 && /Route Not Found/i.test(res.body);
  if (!withRoute) return noRoute || `expected the gateway's 404 JSON, got ${res.status} ${res.body.slice(0, 120)}`;
  if (noRoute) return 'the probe route is not loaded yet (404 Route Not Found)';
  if ([502, 503, 504].includes(res.status)) return `the probe route's upstream did not answer (HTTP ${res.status})`;
  return true;
}

export const metricsPath = '/apisix/prometheus/metrics';
