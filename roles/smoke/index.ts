// The guide's closing check: a route for Host test.com to the httpbin upstream, created through the
// control plane's console API (GET, compare, PUT only when different), answered through every gateway.
// Run once per play (`runOnce`), on a control host: the console admits its own hosts' addresses.
// The console's API is not the guide's (ops/console.ts): when it fails, a warning; once the route is written,
// a gateway that does not serve it fails the step.
import { defineRole, type StepContext } from '../../lib/types.ts';
import { stackVars } from '../../vars/schema.ts';
import { controlPlane, curlOn, putOrThrow, routeBody, routeDiffers, routePath } from '../../ops/admin-api.ts';
import { consoleStep } from '../../ops/console.ts';
import { GROUPS } from '../../ops/layout.ts';
import { waitFor } from '../../ops/retry.ts';
import { upstreamNodes } from '../../ops/topology.ts';

export const SMOKE_ROUTE_ID = 'gatewright-smoke';

export default defineRole({
  name: 'smoke',
  steps: [
    consoleStep({
      name: 'smoke route through the control plane',
      when(ctx) {
        const v = stackVars(ctx);
        if (!v.smoke_route_enabled) return 'smoke_route_enabled is off';
        return upstreamNodes(ctx).length > 0 || `group ${v.upstream_group} has no hosts`;
      },
      async plan(ctx) {
        const api = await controlPlane(ctx);
        const path = routePath(ctx, SMOKE_ROUTE_ID);
        const body = wanted(ctx);
        if (!(await routeDiffers(api, path, body))) return [];
        // An API call, not a command: it goes to the console that answered the login (maybe another control host),
        // with the token of that login, and its HTTP status decides.
        return [{ summary: `route ${SMOKE_ROUTE_ID}: Host ${body.host} ${body.uri} -> ${upstreamNodes(ctx).join(', ')} via ${api.host}`, apply: () => putOrThrow(api, path, body) }];
      },
      verify: (ctx) => (ctx.check ? Promise.resolve() : throughEveryGateway(ctx)),
    }),
  ],
});

const wanted = (ctx: StepContext) => {
  const v = stackVars(ctx);
  return routeBody(v.smoke_route_host, v.smoke_route_uri, upstreamNodes(ctx));
};

/** curl <gateway>:<port><uri> -H "Host: <host>" from this host: the upstream's JSON must come back. */
async function throughEveryGateway(ctx: StepContext): Promise<void> {
  const v = stackVars(ctx);
  await Promise.all(
    ctx.inventory.group(GROUPS.gateway).map((gw) =>
      waitFor(`smoke route through ${gw.name}`, v.health_timeout, async () => {
        const url = `http://${gw.address}:${stackVars({ vars: gw.vars }).gateway_http_port}${v.smoke_route_uri}`;
        const res = await curlOn(ctx, { url, headers: { Host: v.smoke_route_host }, timeoutSec: 10 });
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
