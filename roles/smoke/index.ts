// The guide's closing check: a route for Host test.com to the httpbin upstream, created through the
// control plane (GET, compare, PUT only when different), answered through every gateway.
import { defineRole, defineStep, type StepContext } from '../../lib/types.ts';
import { controlPlane, curlOn, putOrThrow, routeBody, routeDiffers, routePath } from '../../ops/admin-api.ts';
import { STACK_DEFAULTS } from '../../ops/defaults.ts';
import { waitFor } from '../../ops/retry.ts';
import { upstreamNodes } from '../../ops/topology.ts';
import { bool, num, str } from '../../ops/vars.ts';
import { GROUPS } from '../../ops/layout.ts';

export const SMOKE_ROUTE_ID = 'gatewright-smoke';

const wanted = (ctx: StepContext) => routeBody(str(ctx.vars, 'smoke_route_host'), str(ctx.vars, 'smoke_route_uri'), upstreamNodes(ctx));

/** curl <gateway>:<port><uri> -H "Host: <host>" from this host: the upstream's JSON must come back. */
async function throughEveryGateway(ctx: StepContext): Promise<void> {
  const gateways = ctx.inventory.group(GROUPS.gateway);
  await Promise.all(
    gateways.map((gw) =>
      waitFor(`smoke route through ${gw.name}`, num(ctx.vars, 'health_timeout'), async () => {
        const port = num({ ...ctx.vars, ...gw.vars }, 'gateway_http_port');
        const url = `http://${gw.address}:${port}${str(ctx.vars, 'smoke_route_uri')}`;
        const res = await curlOn(ctx, { url, headers: { Host: str(ctx.vars, 'smoke_route_host') }, timeoutSec: 10 });
        if (res.status !== 200) return `GET ${url} answered ${res.status} ${res.body.slice(0, 120)}`;
        try {
          JSON.parse(res.body);
          return true;
        } catch {
          return `GET ${url} answered 200 but not JSON: ${res.body.slice(0, 120)}`;
        }
      }),
    ),
  );
}

export default defineRole({
  name: 'smoke',
  defaults: { ...STACK_DEFAULTS },
  steps: [
    defineStep({
      name: 'smoke route through the control plane',
      when: (ctx) =>
        !bool(ctx.vars, 'smoke_route_enabled') ? 'smoke_route_enabled is off'
        : upstreamNodes(ctx).length > 0 || `group ${str(ctx.vars, 'upstream_group')} has no hosts`,
      async plan(ctx) {
        const api = await controlPlane(ctx);
        const path = routePath(ctx, SMOKE_ROUTE_ID);
        const body = wanted(ctx);
        if (!(await routeDiffers(api, path, body))) return [];
        return [{ summary: `route ${SMOKE_ROUTE_ID}: Host ${body.host} ${body.uri} -> ${upstreamNodes(ctx).join(', ')} via ${api.host}`, apply: () => putOrThrow(api, path, body) }];
      },
      verify: (ctx) => (ctx.check ? Promise.resolve() : throughEveryGateway(ctx)),
    }),
  ],
});
