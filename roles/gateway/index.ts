// The data plane, as the guide deploys it: upload and unpack the dp bundle, load its images, write
// config.yaml, `docker compose up -d` one gateway at a time, and prove each one routes and exports metrics.
import { defineRole, defineStep, type StepContext } from '../../lib/types.ts';
import { controlPlane, curlOn, putOrThrow, routeBody, routeDiffers, routePath } from '../common/admin-api.ts';
import { planeCompose, planeSteps, type PlaneService } from '../common/plane-steps.ts';
import { STACK_DEFAULTS } from '../common/defaults.ts';
import { composeFileStep, composeUpStep } from '../common/service.ts';
import { etcdCredentials, tlsEnabled } from '../common/tls.ts';
import { etcdClientUrls, firstHostOfPlay, gatewayPrefix, upstreamNodes } from '../common/topology.ts';
import { edition, num, str } from '../common/vars.ts';
import { gatewayCertsDir, gatewayConfFile, gatewayImage, metricsPath, PROBE_HOST, PROBE_ROUTE_ID, PROBE_URI, probeVerdict } from './commands.ts';
import { GATEWAY_CERTS_PATH, GATEWAY_CONF_PATH, renderGatewayConf } from './templates.ts';

export function gatewayConf(ctx: StepContext): string {
  const v = ctx.vars;
  const creds = etcdCredentials(ctx);
  return renderGatewayConf({
    edition: edition(v),
    httpPort: num(v, 'gateway_http_port'),
    httpsPort: num(v, 'gateway_https_port'),
    prometheusPort: num(v, 'gateway_prometheus_port'),
    etcdHosts: etcdClientUrls(ctx.inventory, v),
    prefix: gatewayPrefix(v),
    etcdUser: creds?.user,
    etcdPassword: creds?.password,
    tls: tlsEnabled(v) ? { ca: `${GATEWAY_CERTS_PATH}/ca.pem`, cert: `${GATEWAY_CERTS_PATH}/cert.pem`, key: `${GATEWAY_CERTS_PATH}/key.pem` } : undefined,
  });
}

/** Metrics answer and the probe route routes: the gate after a restart (here and in the docker role's roll). */
export async function health(ctx: StepContext): Promise<true | string> {
  const metrics = await curlOn(ctx, { url: `http://127.0.0.1:${num(ctx.vars, 'gateway_prometheus_port')}${metricsPath}`, timeoutSec: 5 });
  if (metrics.status !== 200) return `metrics port answered ${metrics.status} ${metrics.body.slice(0, 80)}`;
  const withRoute = upstreamNodes(ctx).length > 0;
  const probe = await curlOn(ctx, {
    url: `http://127.0.0.1:${num(ctx.vars, 'gateway_http_port')}${withRoute ? PROBE_URI : '/gatewright-probe'}`,
    headers: { Host: PROBE_HOST },
    timeoutSec: 10,
  });
  return probeVerdict(probe, withRoute);
}

const plane: PlaneService = {
  plane: 'dp',
  role: 'gateway',
  container: 'api7-gateway',
  image: gatewayImage,
  confFile: gatewayConfFile,
  confPath: GATEWAY_CONF_PATH,
  certsDir: gatewayCertsDir,
  certsPath: GATEWAY_CERTS_PATH,
  conf: gatewayConf,
  confSecret: (ctx) => !!etcdCredentials(ctx),
  lbGroup: 'gateway',
  health,
};
const service = planeCompose(plane);

export default defineRole({
  name: 'gateway',
  defaults: { ...STACK_DEFAULTS },
  steps: [
    ...planeSteps(plane),
    composeFileStep('gateway compose file', service),
    defineStep({
      name: 'probe route through the control plane',
      when: (ctx) =>
        !upstreamNodes(ctx).length ? 'no upstream group: the probe reads the gateway 404 JSON'
        : firstHostOfPlay(ctx),
      async plan(ctx) {
        const api = await controlPlane(ctx);
        const path = routePath(ctx, PROBE_ROUTE_ID);
        const body = routeBody(PROBE_HOST, PROBE_URI, upstreamNodes(ctx));
        if (!(await routeDiffers(api, path, body))) return [];
        return [{ summary: `route ${PROBE_ROUTE_ID} (Host ${PROBE_HOST}) via ${api.host}`, apply: () => putOrThrow(api, path, body) }];
      },
    }),
    composeUpStep('gateway running and routing', service),
  ],
});
