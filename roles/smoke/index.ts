// The guide's closing check: a route for Host test.com to the httpbin upstream, created through the
// control plane's console API (GET, compare, PUT only when different), answered through every gateway.
// Run once per play (`runOnce`), on a control host: the console admits its own hosts' addresses.
// The console's API is not the guide's (ops/console.ts): when it fails, a warning; once the route is written,
// a gateway that does not serve it fails the step. Converged, it costs no command of its own: the GET is the
// console read the dashboard play took (ops/admin-api.ts), the check rode in the host's batch (a fact).
import { defineFact, defineRole, type Fact, type StepContext } from '../../lib/types.ts';
import { stackVars } from '../../vars/schema.ts';
import { controlPlane, curlOn, putOrThrow, routeBody, routeDiffers, routePath, SMOKE_ROUTE_ID } from '../../ops/admin-api.ts';
import { curlSeqCmd, parseCurlOutputs, type CurlRequest, type CurlResponse } from '../../ops/curl.ts';
import { consoleStep } from '../../ops/console.ts';
import { GROUPS } from '../../ops/layout.ts';
import { waitFor } from '../../ops/retry.ts';
import { isFirstControlHost, upstreamNodes } from '../../ops/topology.ts';

export { SMOKE_ROUTE_ID };

export default defineRole({
  name: 'smoke',
  // The check through every gateway, read with the host's other facts by the control host that leads the play
  // when all are up: a converged run then finds it current and asks nothing more.
  facts: (ctx) => (smokeWanted(ctx) === true && isFirstControlHost(ctx) ? [throughGatewaysFact(ctx)] : []),
  steps: [
    consoleStep({
      name: 'smoke route through the control plane',
      when: smokeWanted,
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

function smokeWanted(ctx: StepContext): true | string {
  const v = stackVars(ctx);
  if (!v.smoke_route_enabled) return 'smoke_route_enabled is off';
  return upstreamNodes(ctx).length > 0 || `group ${v.upstream_group} has no hosts`;
}

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
  const asks = gatewayAsks(ctx, alive);
  // All up: the fact, its batch's answer while nothing changed since; else the check of those alive, now.
  const answers = gone.length
    ? await ctx.run(curlSeqCmd(asks.map((a) => a.req)), { nothrow: true }).then((r) => parseCurlOutputs(r.stdout, r.stderr, asks.length))
    : await ctx.fact(throughGatewaysFact(ctx), { current: true });
  await Promise.all(
    asks.map(({ gateway, req }, i) =>
      served(req.url, answers[i]) === true
        ? undefined
        : waitFor(`smoke route through ${gateway}`, v.health_timeout, async () => served(req.url, await curlOn(ctx, req))),
    ),
  );
}

/** curl <gateway>:<port><uri> -H "Host: <host>" for each gateway: no secret in it, so all go in one command. */
function gatewayAsks(ctx: StepContext, gateways: { name: string; address: string; vars: Record<string, unknown> }[]) {
  const v = stackVars(ctx);
  return gateways.map((gw) => {
    const url = `http://${gw.address}:${stackVars({ vars: gw.vars }).gateway_http_port}${v.smoke_route_uri}`;
    return { gateway: gw.name, req: { url, headers: { Host: v.smoke_route_host }, timeoutSec: 10 } satisfies CurlRequest };
  });
}

/**
 * The smoke route asked of every gateway from this host, in one command: a fact (read in the host's batch). Each
 * ask has 3 s, not 10: on fresh hosts behind a dropping firewall the batch must not wait; a late answer only
 * sends the step to its own retries.
 */
const throughGatewaysFact = (ctx: StepContext): Fact<CurlResponse[]> => {
  const asks = gatewayAsks(ctx, ctx.inventory.group(GROUPS.gateway));
  return defineFact({
    name: 'smoke route through every gateway',
    command: curlSeqCmd(asks.map((a) => ({ ...a.req, timeoutSec: 3 }))),
    // With the root batch: a fact of the user's own would cost a command of its own.
    become: true,
    parse: (r) => parseCurlOutputs(r.stdout, r.stderr, asks.length),
  });
};

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
