// The data plane, as the guide deploys it: upload and unpack the dp bundle, load its images, write
// config.yaml, `docker compose up -d` one gateway at a time, and prove each one routes and exports metrics.
import { ensureDir, ensureFile } from '../../lib/files.ts';
import { defineRole, defineStep, type StepContext } from '../../lib/types.ts';
import { controlPlane, curlOn, putOrThrow, routeBody, routeDiffers, routePath } from '../common/admin-api.ts';
import { imageId } from '../common/bundle.ts';
import { planeSteps } from '../common/plane-steps.ts';
import { STACK_DEFAULTS } from '../common/defaults.ts';
import { sha256 } from '../common/fingerprint.ts';
import { composeFileStep, composeUpStep, type ComposeDeploy } from '../common/service.ts';
import { etcdCredentials, tlsEnabled } from '../common/tls.ts';
import { etcdClientUrls, gatewayPrefix, upstreamNodes } from '../common/topology.ts';
import { edition, num, str } from '../common/vars.ts';
import { gatewayCertsDir, gatewayConfFile, gatewayDir, gatewayImage, metricsPath, PROBE_HOST, PROBE_ROUTE_ID, PROBE_URI, probeVerdict } from './commands.ts';
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

async function health(ctx: StepContext): Promise<true | string> {
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

const service: ComposeDeploy = {
  role: 'gateway',
  project: 'api7-gateway',
  dir: (ctx) => gatewayDir(ctx.vars),
  rolling: 'gateway restart',
  async inputs(ctx) {
    const mounts: [string, string][] = [[gatewayConfFile(ctx.vars), GATEWAY_CONF_PATH]];
    if (tlsEnabled(ctx.vars)) mounts.push([gatewayCertsDir(ctx.vars), GATEWAY_CERTS_PATH]);
    const image = gatewayImage(ctx.vars);
    return {
      service: { name: 'api7-gateway', role: 'gateway', image, mounts },
      imageId: await imageId(ctx, image),
      contentShas: [sha256(gatewayConf(ctx))],
    };
  },
  health,
};


export default defineRole({
  name: 'gateway',
  defaults: { ...STACK_DEFAULTS },
  steps: [
    ...planeSteps({ plane: 'dp', role: 'gateway', image: gatewayImage, certsDir: gatewayCertsDir }),
    defineStep({
      name: 'gateway config.yaml',
      async plan(ctx) {
        const secret = !!etcdCredentials(ctx);
        return [
          ...(await ensureDir(ctx, { path: gatewayConfFile(ctx.vars).replace(/\/[^/]+$/, ''), mode: 0o755, become: true })),
          ...(await ensureFile(ctx, { path: gatewayConfFile(ctx.vars), content: gatewayConf(ctx), mode: secret ? 0o600 : 0o644, become: true, secret })),
        ];
      },
    }),
    composeFileStep('gateway compose file', service),
    defineStep({
      name: 'probe route through the control plane',
      when: (ctx) =>
        !upstreamNodes(ctx).length ? 'no upstream group: the probe reads the gateway 404 JSON'
        : ctx.play.hosts[0]?.name === ctx.host.name || `done once, by ${ctx.play.hosts[0]?.name}`,
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
