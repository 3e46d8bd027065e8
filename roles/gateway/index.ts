// The data plane, as the guide deploys it: upload and unpack the dp bundle into its own folder, load its
// images, edit etcd.host / etcd.prefix of gateway_conf/config.yaml, `docker compose up -d` there one gateway
// at a time, and prove each one from the gateway itself: its metrics port and its HTTP port.
import { defineRole, defineStep, type StepContext } from '../../lib/types.ts';
import { controlPlane, curlOn, putOrThrow, routeBody, routeDiffers, routePath } from '../common/admin-api.ts';
import { planeCompose, planeSteps, type PlaneService } from '../common/plane-steps.ts';
import { STACK_DEFAULTS } from '../common/defaults.ts';
import { composeUpStep } from '../common/service.ts';
import { consoleStep } from '../common/console.ts';
import { etcdCredentials, tlsEnabled } from '../common/tls.ts';
import { etcdClientUrls, firstHostOfPlay, gatewayPrefix, upstreamNodes } from '../common/topology.ts';
import { edition, num } from '../common/vars.ts';
import { GATEWAY_CONF, metricsPath, PROBE_HOST, PROBE_ROUTE_ID, PROBE_URI, probeVerdict } from './commands.ts';
import { editGatewayConf } from './templates.ts';

export function gatewayEditsFor(ctx: StepContext, shipped: string, certsPath: string, file: string) {
  const v = ctx.vars;
  const creds = etcdCredentials(ctx);
  return editGatewayConf(
    shipped,
    {
      edition: edition(v),
      etcdHosts: etcdClientUrls(ctx.inventory, v),
      prefix: gatewayPrefix(v),
      etcdUser: creds?.user,
      etcdPassword: creds?.password,
      tls: tlsEnabled(v) ? { ca: `${certsPath}/ca.pem`, cert: `${certsPath}/cert.pem`, key: `${certsPath}/key.pem` } : undefined,
    },
    file,
  );
}

/** Whether this run saw the probe route in place (written through the console, which may not have worked). */
const probeRouteIn = new WeakSet<object>();

/**
 * The gate after a restart (here and in the docker role's roll), from the gateway itself: its metrics port
 * answers, and its HTTP port serves: the probe route routes once this run saw it in place, else any answer of
 * the gateway's own (its 404 JSON) will do.
 */
export async function health(ctx: StepContext): Promise<true | string> {
  const metrics = await curlOn(ctx, { url: `http://127.0.0.1:${num(ctx.vars, 'gateway_prometheus_port')}${metricsPath}`, timeoutSec: 5 });
  if (metrics.status !== 200) return `metrics port answered ${metrics.status} ${metrics.body.slice(0, 80)}`;
  const withRoute = upstreamNodes(ctx).length > 0 && probeRouteIn.has(ctx.inventory);
  const probe = await curlOn(ctx, {
    url: `http://127.0.0.1:${num(ctx.vars, 'gateway_http_port')}${withRoute ? PROBE_URI : '/gatewright-probe'}`,
    headers: { Host: PROBE_HOST },
    timeoutSec: 10,
  });
  if (!withRoute && probe.status !== 0 && !(probe.status === 404 && /Route Not Found/i.test(probe.body))) return probeVerdict(probe, true);
  return probeVerdict(probe, withRoute);
}

const plane: PlaneService = {
  plane: 'dp',
  role: 'gateway',
  confFile: GATEWAY_CONF,
  editConf: gatewayEditsFor,
  confSecret: (ctx) => !!etcdCredentials(ctx),
  lbGroup: 'gateway',
  health,
};

export default defineRole({
  name: 'gateway',
  defaults: { ...STACK_DEFAULTS },
  steps: [
    ...planeSteps(plane),
    consoleStep({
      name: 'probe route through the control plane (console API)',
      when: (ctx) =>
        !upstreamNodes(ctx).length ? 'no upstream group: the probe reads the gateway 404 JSON'
        : firstHostOfPlay(ctx),
      async plan(ctx) {
        const api = await controlPlane(ctx);
        const path = routePath(ctx, PROBE_ROUTE_ID);
        const body = routeBody(PROBE_HOST, PROBE_URI, upstreamNodes(ctx));
        if (!(await routeDiffers(api, path, body))) {
          probeRouteIn.add(ctx.inventory);
          return [];
        }
        return [{
          summary: `route ${PROBE_ROUTE_ID} (Host ${PROBE_HOST}) via ${api.host}`,
          apply: async () => {
            await putOrThrow(api, path, body);
            probeRouteIn.add(ctx.inventory);
          },
        }];
      },
    }),
    composeUpStep('gateway running and routing', planeCompose(plane)),
  ],
});
