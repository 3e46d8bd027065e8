// The control plane's REST API (docs/STANDINS.md), spoken by curl on a control host: login once per run
// (with the converged run's GETs, in one command), then GET/PUT with the token. Password and token go through
// curl's stdin config, never argv.
import { defineFact, type Fact, type Inventory, type StepContext } from '../lib/types.ts';
import { CURL_CMD, curlAnswer, curlConfig, curlGetsConfig, type CurlRequest, type CurlResponse } from './curl.ts';
import { loginThenGetsCmd, parseConsoleSession, tokenIn, type ConsoleSession } from './console-session.ts';
import { PROBE_ROUTE_ID } from './gateway-health.ts';
import { stackVars } from '../vars/schema.ts';
import { GROUPS } from './layout.ts';
import { isFirstControlHost } from './topology.ts';

/** curl on `ctx`'s host; never throws on HTTP errors (the caller reads status). */
export async function curlOn(ctx: StepContext, req: CurlRequest, opts: { secretOutput?: boolean } = {}): Promise<CurlResponse> {
  const r = await ctx.run(CURL_CMD, { stdin: curlConfig(req), nothrow: true, secretOutput: opts.secretOutput });
  return curlAnswer(r.stdout, r.stderr);
}

export interface AdminApi {
  /** Host the calls run on (a control host: the dashboard admits its own address). */
  host: string;
  get(path: string): Promise<CurlResponse>;
  put(path: string, body: unknown): Promise<CurlResponse>;
}

/** Console tokens by control host, for one run (its inventory): a login per host per run, not one per step. */
const tokens = new WeakMap<Inventory, Map<string, Promise<string>>>();

/**
 * A client of the console on `ctx`'s host, logged in as the console admin (token registered as a secret). The
 * token is kept for the run; a call the console answers 401 (token refused) logs in again once.
 */
export async function adminApi(ctx: StepContext): Promise<AdminApi> {
  const { base, password } = consoleOf(ctx);
  ctx.secret(password);
  const login = async (): Promise<string> => {
    const r = await curlOn(ctx, loginRequest(ctx), { secretOutput: true });
    const t = tokenIn(r);
    if (!t) throw loginFailed(ctx, r);
    return t;
  };
  let byHost = tokens.get(ctx.inventory);
  if (!byHost) tokens.set(ctx.inventory, (byHost = new Map()));
  const cache = byHost;
  const keep = (token: Promise<string>) => {
    cache.set(ctx.host.name, token);
    token.catch(() => cache.get(ctx.host.name) === token && cache.delete(ctx.host.name));
    return token;
  };
  const token = async (renew = false) => {
    const t = await (renew ? keep(login()) : (cache.get(ctx.host.name) ?? keep(login())));
    ctx.secret(t);
    return t;
  };
  const reads = consoleReads(ctx);
  const session = consoleSessionFact(ctx);
  /** The login and the reads in one command (a fact: a converged run's came with the host's batch). */
  const sessionRead = async (): Promise<ConsoleSession | undefined> => {
    const s = await ctx.fact(session, { current: true }).catch(() => undefined);
    if (s?.token) {
      ctx.secret(s.token);
      keep(Promise.resolve(s.token));
    }
    return s;
  };
  // No token yet for this host in the run: the session's. A console that answered it and refused the login, with
  // nothing changed since (current): that is the error, not a second login. One that did not answer (not up yet
  // when the batch asked): a login of its own, whose failure is the error.
  if (!cache.has(ctx.host.name)) {
    const s = await sessionRead();
    if (s && !s.token && s.login.status !== 0) throw loginFailed(ctx, s.login);
  }
  await token();
  const get = async (path: string) => {
    const at = reads.indexOf(path);
    if (at < 0) return call('GET', path);
    const got = (await sessionRead())?.reads?.[at];
    // Not answered (or the token refused): its own call, which logs in again on a 401.
    return !got || got.status === 0 || got.status === 401 ? call('GET', path) : got;
  };
  const call = async (method: 'GET' | 'PUT', path: string, body?: unknown) => {
    const send = async (t: string) =>
      curlOn(ctx, {
        method,
        url: `${base}${path}`,
        headers: { Authorization: t, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const r = await send(await token());
    return r.status === 401 ? send(await token(true)) : r;
  };
  return { host: ctx.host.name, get, put: (p, b) => call('PUT', p, b) };
}

/** The console of `ctx`'s host at its own address, and the admin password (which its login needs). */
function consoleOf(ctx: StepContext): { base: string; password: string } {
  // The host's own address, not loopback: on the bundle's bridge network a loopback request reaches the console
  // from the bridge's gateway, which its allow_list does not hold; the control hosts' addresses it does.
  const v = stackVars(ctx);
  const password = v.dashboard_admin_password;
  if (!password) throw new Error('dashboard_admin_password is not set: the console login needs it');
  return { base: `http://${ctx.host.address}:${v.dashboard_port}`, password };
}

const loginRequest = (ctx: StepContext): CurlRequest => {
  const { base, password } = consoleOf(ctx);
  return {
    method: 'POST',
    url: `${base}/apisix/admin/user/login`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: stackVars(ctx).dashboard_admin_user, password }),
  };
};

const loginFailed = (ctx: StepContext, login: CurlResponse): Error =>
  new Error(`dashboard login on ${ctx.host.name} failed (HTTP ${login.status}): ${login.body.slice(0, 200)}`);

/** The session fact, for the first control host (the one controlPlane asks first) when the login can be made. */
export const consoleSessionFacts = (ctx: StepContext): Fact<ConsoleSession>[] =>
  isFirstControlHost(ctx) && stackVars(ctx).dashboard_admin_password ? [consoleSessionFact(ctx)] : [];

/**
 * The console login and what a converged run GETs from it (consoleReads), in one command: a fact, secret (its
 * output holds the token; the password is its stdin). The dashboard role reads it with the first control host's
 * batch, so a converged run asks the console nothing more; after any change a GET reads it again.
 */
export function consoleSessionFact(ctx: StepContext): Fact<ConsoleSession> {
  const { base } = consoleOf(ctx);
  const reads = consoleReads(ctx);
  // Short: the batch must not wait on a console that does not answer yet (fresh hosts); a GET then asks again.
  const login = curlConfig({ ...loginRequest(ctx), timeoutSec: 5 });
  return defineFact({
    name: `console login and reads at ${base}`,
    command: loginThenGetsCmd(curlGetsConfig(reads.map((p) => `${base}${p}`), { 'Content-Type': 'application/json' })),
    stdin: login,
    secret: true,
    // With the root batch: a fact of the user's own would cost a command of its own.
    become: true,
    parse: (r) => parseConsoleSession(r, reads.length),
  });
}

export const SMOKE_ROUTE_ID = 'gatewright-smoke';

/** The console's data-plane cluster (api7 keeps gateways in clusters). */
export const clusterPath = (id: string): string => `/apisix/admin/clusters/${encodeURIComponent(id)}`;

/**
 * What a converged `site` GETs from the console, in play order: the data-plane cluster (dashboard), the probe
 * route (gateway), the smoke route (smoke). They come with the login, in one command (consoleSessionFact); a
 * GET takes that answer while nothing changed in the run (current), so a converged run asks once for three, in
 * the first control host's batch. After any change the next GET reads them again.
 */
export function consoleReads(ctx: StepContext): string[] {
  const v = stackVars(ctx);
  return [...(v.api7_edition === 'api7' ? [clusterPath(v.cluster_id)] : []), routePath(ctx, PROBE_ROUTE_ID), routePath(ctx, SMOKE_ROUTE_ID)];
}

/** A client on the first control host whose dashboard answers (delegated from any play). */
export async function controlPlane(ctx: StepContext): Promise<AdminApi> {
  const errors: string[] = [];
  for (const h of ctx.inventory.group(GROUPS.control)) {
    try {
      return await adminApi(ctx.on(h.name));
    } catch (e) {
      errors.push(`${h.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new Error(`no dashboard answered a login:\n${errors.join('\n')}`);
}

/** Admin API path of a route: api7 names the data-plane cluster it belongs to. */
export function routePath(ctx: StepContext, id: string): string {
  const v = stackVars(ctx);
  const path = `/apisix/admin/routes/${encodeURIComponent(id)}`;
  return v.api7_edition === 'api7' ? `${path}?cluster_id=${encodeURIComponent(v.cluster_id)}` : path;
}

/** Reads `{code, data}`; data of a route may be the route itself or wrapped in `value`. */
export function responseData(body: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(body) as { data?: Record<string, unknown> };
    const data = parsed.data;
    if (data && typeof data === 'object' && 'value' in data && typeof data.value === 'object') {
      return data.value as Record<string, unknown>;
    }
    return data ?? undefined;
  } catch {
    return undefined;
  }
}

/** True when every field we set has the value we want (the API adds ids and timestamps of its own). */
export function coversWanted(actual: unknown, wanted: unknown): boolean {
  if (wanted === null || typeof wanted !== 'object') return actual === wanted;
  if (Array.isArray(wanted)) {
    return Array.isArray(actual) && actual.length === wanted.length && wanted.every((w, i) => coversWanted(actual[i], w));
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  return Object.entries(wanted).every(([k, w]) => coversWanted((actual as Record<string, unknown>)[k], w));
}

/** Route create/update through the control plane: GET, compare, PUT only when different. */
export async function routeDiffers(api: AdminApi, path: string, wanted: Record<string, unknown>): Promise<boolean> {
  const got = await api.get(path);
  if (got.status === 404) return true;
  if (got.status !== 200) throw new Error(`GET ${path} on ${api.host}: HTTP ${got.status} ${got.body.slice(0, 200)}`);
  return !coversWanted(responseData(got.body), wanted);
}

export async function putOrThrow(api: AdminApi, path: string, body: unknown): Promise<void> {
  const r = await api.put(path, body);
  if (r.status < 200 || r.status >= 300) throw new Error(`PUT ${path} on ${api.host}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
}

/** The route body of the guide's check: Host + URI to round-robin upstream nodes. */
export function routeBody(host: string, uri: string, nodes: string[]): Record<string, unknown> {
  return {
    uri,
    host,
    upstream: { type: 'roundrobin', nodes: Object.fromEntries(nodes.map((n) => [n, 1])) },
  };
}
