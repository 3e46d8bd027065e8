// The data plane, as the guide deploys it: upload and unpack the dp bundle into its own folder, load its
// images, edit etcd.host / etcd.prefix of gateway_conf/config.yaml, `docker compose up -d` there one gateway
// at a time, and prove each one from the gateway itself: its metrics port and its HTTP port.
import { defineRole, defineStep, type StepContext } from '../../lib/types.ts';
import { controlPlane, curlOn, putOrThrow, routeBody, routeDiffers, routePath } from '../../ops/admin-api.ts';
import { planeCompose, planeSteps, type PlaneService } from '../../ops/plane-steps.ts';
import { STACK_DEFAULTS } from '../../ops/defaults.ts';
import { composeUpStep } from '../../ops/service.ts';
import { consoleStep } from '../../ops/console.ts';
import { etcdCredentials, tlsEnabled } from '../../ops/tls.ts';
import { etcdClientUrls, firstHostOfPlay, gatewayPrefix, upstreamNodes } from '../../ops/topology.ts';
import { edition, num } from '../../ops/vars.ts';
import { GATEWAY_CONF } from './commands.ts';
import { gatewayHealth, PROBE_HOST, PROBE_ROUTE_ID, PROBE_URI, sawProbeRoute } from '../../ops/gateway-health.ts';
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

const plane: PlaneService = {
  plane: 'dp',
  role: 'gateway',
  confFile: GATEWAY_CONF,
  editConf: gatewayEditsFor,
  confSecret: (ctx) => !!etcdCredentials(ctx),
  lbGroup: 'gateway',
  health: gatewayHealth,
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
          sawProbeRoute(ctx.inventory);
          return [];
        }
        return [{
          summary: `route ${PROBE_ROUTE_ID} (Host ${PROBE_HOST}) via ${api.host}`,
          apply: async () => {
            await putOrThrow(api, path, body);
            sawProbeRoute(ctx.inventory);
          },
        }];
      },
    }),
    composeUpStep('gateway running and routing', planeCompose(plane)),
  ],
});
