// What the checks ask through the LB from the controller: the data-plane route, the console's /ping,
// and the console's admin API (login, then routes) — and a route read straight from each gateway.
import type { Host, StepContext } from '../../lib/types.ts';
import { coversWanted, responseData, routeBody, routePath } from '../../ops/admin-api.ts';
import { upstreamNodes } from '../../ops/topology.ts';
import { stackVars } from '../../vars/schema.ts';
import { httpRequest } from './http.ts';
import type { Target } from './under-load.ts';

/** The guide's closing check (the smoke route) through the data-plane frontend of this LB host. */
export function dataPlaneTarget(ctx: StepContext): Target {
  const { smoke_route_host: host, smoke_route_uri: path, lb_http_port: port } = stackVars(ctx);
  return { name: `GET ${path} Host ${host} via ${ctx.host.name}:${port}`, request: { host: ctx.host.address, port, path, headers: { host } } };
}

export function consolePingTarget(ctx: StepContext): Target {
  const port = stackVars(ctx).lb_control_port;
  return { name: `GET /ping via ${ctx.host.name}:${port}`, request: { host: ctx.host.address, port, path: '/ping' }, accept: (b) => b.trim() === 'pong' };
}

/** A route only the verify playbook writes, on a Host nobody else sends; removed after each check. */
export const VERIFY_ROUTE_ID = 'gatewright-verify';
export const VERIFY_HOST = 'gatewright-verify.invalid';

export interface Console {
  call(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown>;
}

/** Logs in to the console through the control-plane frontend; password and token are secrets. */
export async function consoleViaLb(ctx: StepContext): Promise<Console> {
  const v = stackVars(ctx);
  const at = { host: ctx.host.address, port: v.lb_control_port };
  const password = v.dashboard_admin_password;
  if (!password) throw new Error('dashboard_admin_password is not set: the console login through the LB needs it');
  ctx.secret(password);
  const login = await httpRequest({
    ...at,
    method: 'POST',
    path: '/apisix/admin/user/login',
    body: JSON.stringify({ username: v.dashboard_admin_user, password }),
  });
  const token = (responseData(login.body) as { token?: string } | undefined)?.token;
  if (login.status !== 200 || !token) throw new Error(`console login through ${ctx.host.name} failed: HTTP ${login.status} ${login.body.slice(0, 200)}`);
  ctx.secret(token);
  return {
    async call(method, path, body) {
      const r = await httpRequest({ ...at, method, path, headers: { authorization: token }, body: body === undefined ? undefined : JSON.stringify(body) });
      if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${path} through ${ctx.host.name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      return responseData(r.body);
    },
  };
}

export function verifyRoute(ctx: StepContext): { path: string; body: Record<string, unknown> } {
  const v = stackVars(ctx);
  const nodes = upstreamNodes(ctx);
  if (nodes.length === 0) throw new Error(`the verify route needs upstream hosts (group ${v.upstream_group})`);
  return { path: routePath(ctx, VERIFY_ROUTE_ID), body: routeBody(VERIFY_HOST, v.smoke_route_uri, nodes) };
}

/** Writes the verify route, reads it back, and returns its remover (a write and a read prove the console). */
export async function writeVerifyRoute(ctx: StepContext, api: Console): Promise<() => Promise<void>> {
  const route = verifyRoute(ctx);
  const remove = async () => void (await api.call('DELETE', route.path));
  await api.call('PUT', route.path, route.body);
  try {
    const back = await api.call('GET', route.path);
    if (!coversWanted(back, route.body)) throw new Error(`the route read back through ${ctx.host.name} differs: ${JSON.stringify(back).slice(0, 200)}`);
  } catch (e) {
    await remove().catch(() => undefined);
    throw e;
  }
  return remove;
}

/**
 * Asked straight at one gateway (not through the LB): it has the route for `routeHost` loaded and reaches
 * its upstream (HTTP 200).
 */
export async function gatewayServes(ctx: StepContext, gw: Host, routeHost: string): Promise<true | string> {
  const port = stackVars({ vars: gw.vars }).gateway_http_port;
  const r = await httpRequest({ host: gw.address, port, path: stackVars(ctx).smoke_route_uri, headers: { host: routeHost } });
  if (r.status === 404 && /Route Not Found/i.test(r.body)) return `${gw.name} has no route for ${routeHost} yet`;
  return r.status === 200 || `${gw.name} answered HTTP ${r.status} ${r.body.slice(0, 120)}`;
}
