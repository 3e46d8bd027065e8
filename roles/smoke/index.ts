// The guide's closing check: a route for Host test.com to the httpbin upstream, created through the
// control plane's console API (GET, compare, PUT only when different), answered through every gateway.
// Run once per play (`runOnce`), on a control host: the console admits its own hosts' addresses.
// The console's API is not the guide's (ops/console.ts): when it fails, a warning; once the route is written,
// a gateway that does not serve it fails the step. Converged, it costs two commands: the GET and the check.
import { defineRole, type StepContext } from '../../lib/types.ts';
import { stackVars } from '../../vars/schema.ts';
import { controlPlane, curlOn, putOrThrow, routeBody, routeDiffers, routePath, SMOKE_ROUTE_ID } from '../../ops/admin-api.ts';
import { curlSeqCmd, parseCurlOutputs, type CurlRequest, type CurlResponse } from '../../ops/curl.ts';
import { consoleStep } from '../../ops/console.ts';
import { GROUPS } from '../../ops/layout.ts';
import { waitFor } from '../../ops/retry.ts';
import { upstreamNodes } from '../../ops/topology.ts';

export { SMOKE_ROUTE_ID };

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

/**
 * curl <gateway>:<port><uri> -H "Host: <host>" from this host: the upstream's JSON must come back. Every gateway
 * is asked in one command first (no secret in it); only one that does not serve it yet is asked again, alone.
 */
async function throughEveryGateway(ctx: StepContext): Promise<void> {
  const v = stackVars(ctx);
  // A gateway host found unreachable in this run is a known loss (the LB took it out): named, not waited for.
  const [gone, alive] = partition(ctx.inventory.group(GROUPS.gateway), (gw) => ctx.unreachable(gw.name));
  if (!alive.length) throw new Error(`no gateway to check the smoke route through: ${gone.map((g) => g.name).join(', ')} unreachable in this run`);
  if (gone.length) ctx.warn(`smoke route not checked through ${gone.map((g) => g.name).join(', ')}: unreachable in this run`);
  const asks = alive.map((gw) => {
    const url = `http://${gw.address}:${stackVars({ vars: gw.vars }).gateway_http_port}${v.smoke_route_uri}`;
    return { gateway: gw.name, req: { url, headers: { Host: v.smoke_route_host }, timeoutSec: 10 } satisfies CurlRequest };
  });
  const first = await ctx.run(curlSeqCmd(asks.map((a) => a.req)), { nothrow: true });
  const answers = parseCurlOutputs(first.stdout, first.stderr, asks.length);
  await Promise.all(
    asks.map(({ gateway, req }, i) =>
      served(req.url, answers[i]) === true
        ? undefined
        : waitFor(`smoke route through ${gateway}`, v.health_timeout, async () => served(req.url, await curlOn(ctx, req))),
    ),
  );
}

function served(url: string, res: CurlResponse): true | string {
  if (res.status !== 200) return `GET ${url} answered ${res.status} ${res.body.slice(0, 120)}`;
  try {
    JSON.parse(res.body);
    return true;
  } catch {
    return `GET ${url} answered 200 but not JSON: ${res.body.slice(0, 120)}`;
  }
}

const partition = <T>(items: T[], test: (item: T) => boolean): [T[], T[]] => [items.filter(test), items.filter((x) => !test(x))];
