// The gateway's health gate after a restart (the gateway role's rolling change and the docker role's dockerd roll):
// its metrics port answers and its HTTP port serves, through the probe route once this run saw it in place.
import { defineFact, type Fact, type StepContext } from '../lib/types.ts';
import { curlSeqCmd, parseCurlOutputs, type CurlRequest, type CurlResponse } from './curl.ts';
import { upstreamNodes } from './topology.ts';
import { stackVars } from '../vars/schema.ts';

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

/** Whether this run saw the probe route in place (written through the console, which may not have worked). */
const probeRouteIn = new WeakSet<object>();

/** Called by the gateway role once it has seen (or put) the probe route in place. */
export const sawProbeRoute = (inventory: object): void => void probeRouteIn.add(inventory);

/** The two requests of the gate, in one command: metrics first, then the HTTP port (through the probe route or not). */
export function gatewayHealthRequests(vars: { gateway_prometheus_port: number; gateway_http_port: number }, withRoute: boolean): CurlRequest[] {
  return [
    { url: `http://127.0.0.1:${vars.gateway_prometheus_port}${metricsPath}`, timeoutSec: 5 },
    { url: `http://127.0.0.1:${vars.gateway_http_port}${withRoute ? PROBE_URI : '/gatewright-probe'}`, headers: { Host: PROBE_HOST }, timeoutSec: 10 },
  ];
}

/**
 * The gate's read, from the gateway itself, in one command: its metrics port answers, and its HTTP port serves:
 * the probe route routes once this run saw it in place, else any answer of the gateway's own (its 404 JSON) will
 * do. A fact, so a converged run reads it in its one batch; `withRoute` is part of the command, so a read made
 * for the other case is never taken for this one.
 */
export const gatewayHealthFact = (ctx: StepContext, withRoute = probeRouted(ctx)): Fact<true | string> =>
  defineFact({
    name: `gateway health (${withRoute ? 'probe route' : '404 JSON'})`,
    command: curlSeqCmd(gatewayHealthRequests(stackVars(ctx), withRoute)),
    become: true, // rides in the role's root batch
    parse(r) {
      const [metrics, probe] = parseCurlOutputs(r.stdout, r.stderr, 2);
      return healthVerdict(metrics, probe, withRoute);
    },
  });

/** The gate after a restart (the gateway role's rolling change, the docker role's dockerd roll): a new read. */
export const gatewayHealthRead = (ctx: StepContext): Promise<true | string> => ctx.fact(gatewayHealthFact(ctx), { fresh: true });

/** What a converged gateway is expected to answer: through the probe route when there are upstreams to route to. */
export const expectedGatewayHealthFact = (ctx: StepContext): Fact<true | string> => gatewayHealthFact(ctx, upstreamNodes(ctx).length > 0);

const probeRouted = (ctx: StepContext): boolean => upstreamNodes(ctx).length > 0 && probeRouteIn.has(ctx.inventory);

/** Pure: the gate's verdict on the two answers. */
export function healthVerdict(metrics: CurlResponse, probe: CurlResponse, withRoute: boolean): true | string {
  if (metrics.status !== 200) return `metrics port answered ${metrics.status} ${metrics.body.slice(0, 80)}`;
  if (!withRoute && probe.status !== 0 && !(probe.status === 404 && /Route Not Found/i.test(probe.body))) return probeVerdict(probe, true);
  return probeVerdict(probe, withRoute);
}
