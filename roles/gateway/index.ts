// The data plane, as the guide deploys it: upload and unpack the dp bundle into its own folder, load its
// images, edit etcd.host / etcd.prefix of gateway_conf/config.yaml, `docker compose up -d` there one gateway
// at a time (drained behind the LB), and prove each one from the gateway itself: its metrics port and its HTTP
// port, through a probe route written once through the console API (never gating: the gateway's own 404 will do).
// What each plane step looks at and plans: ops/plane-steps.ts. What the role reads on a host: its facts, one batch.
import { BUNDLE } from '../../ops/layout.ts';
import { defineRole, defineStep, type Change, type StepContext } from '../../lib/types.ts';
import { controlPlane, putOrThrow, routeBody, routeDiffers, routePath } from '../../ops/admin-api.ts';
import { consoleStep } from '../../ops/console.ts';
import { PROBE_HOST, PROBE_ROUTE_ID, PROBE_URI, sawProbeRoute } from '../../ops/gateway-health.ts';
import { firstHostOfPlay, upstreamNodes } from '../../ops/topology.ts';
import { dp } from './plane.ts';

export default defineRole({
  name: 'gateway',
  facts: dp.facts,
  steps: [
    defineStep({ name: 'upload the dp bundle', tags: [BUNDLE], plan: dp.upload }),
    defineStep({ name: 'unpack the dp bundle', tags: [BUNDLE], plan: dp.unpack }),
    defineStep({ name: 'load the dp images', tags: [BUNDLE], when: dp.fromBundle, plan: dp.loadImages }),
    defineStep({ name: 'dp compose images present', tags: [BUNDLE], plan: dp.imagesPresent }),
    defineStep({ name: 'etcd client certificates', when: dp.tlsOn, plan: dp.certificates }),
    defineStep({ name: 'gateway config.yaml (named keys)', plan: dp.conf }),
    defineStep({ name: 'dp compose override (certificates, SELinux labels)', plan: dp.override }),
    consoleStep({ name: 'probe route through the control plane (console API)', when: probeRouteWanted, plan: planProbeRoute }),
    defineStep({ name: 'gateway running and routing', plan: dp.composeUp, verify: dp.healthy }),
  ],
});

/** With upstream hosts, once per play (the first live gateway host): else the gate reads the gateway's 404 JSON. */
function probeRouteWanted(ctx: StepContext): Promise<true | string> | string {
  return !upstreamNodes(ctx).length ? 'no upstream group: the probe reads the gateway 404 JSON' : firstHostOfPlay(ctx);
}

/** GET the probe route from a control host's console; PUT it when it differs. */
async function planProbeRoute(ctx: StepContext): Promise<Change[]> {
  const api = await controlPlane(ctx);
  const path = routePath(ctx, PROBE_ROUTE_ID);
  const body = routeBody(PROBE_HOST, PROBE_URI, upstreamNodes(ctx));
  if (!(await routeDiffers(api, path, body))) {
    sawProbeRoute(ctx.inventory);
    return [];
  }
  return [{
    summary: `route ${PROBE_ROUTE_ID} (Host ${PROBE_HOST}) via ${api.host}`,
    async apply() {
      await putOrThrow(api, path, body);
      sawProbeRoute(ctx.inventory);
    },
  }];
}
