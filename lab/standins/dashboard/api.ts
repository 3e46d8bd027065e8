// The manager API (apisix-dashboard's shape): /ping, login, routes and clusters, behind the allow list
// and the login token. Replies are `{"code":0,"message":"","data":...}`; errors carry a non-zero code.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeError, type Logger } from '../shared/log.ts';
import { BodyTooLarge, clientAddress, readBody, sendJson } from '../shared/http-json.ts';
import { routeSchema } from '../shared/route.ts';
import { formatIssues } from '../shared/zod-issues.ts';
import type { AddressCheck } from './allow-list.ts';
import type { DashboardConfig } from './config.ts';
import type { EtcdStore, StoredObject } from './store.ts';
import { issueToken, safeEqual, verifyToken } from './token.ts';

/** An error answered as `{code, message}` with an HTTP status. */
class ApiError extends Error {
  constructor(readonly status: number, readonly code: number, message: string) {
    super(message);
  }
}

const ID = /^[A-Za-z0-9_.-]{1,64}$/;

export interface ApiDeps {
  config: DashboardConfig;
  store: EtcdStore;
  allowed: AddressCheck;
  version: string;
  log: Logger;
}

export function createApi({ config, store, allowed, version, log }: ApiDeps) {
  const ok = (res: ServerResponse, data: unknown) => sendJson(res, 200, { code: 0, message: '', data, request_id: randomUUID() });

  async function jsonBody(req: IncomingMessage): Promise<StoredObject> {
    let value: unknown;
    try {
      value = JSON.parse(await readBody(req));
    } catch (err) {
      if (err instanceof BodyTooLarge) throw new ApiError(413, 10000, err.message);
      throw new ApiError(400, 10000, 'request body is not valid JSON');
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ApiError(400, 10000, 'request body must be a JSON object');
    return value as StoredObject;
  }

  function checkId(kind: string, id: string): string {
    if (!ID.test(id)) throw new ApiError(400, 10000, `invalid ${kind} id: ${id}`);
    return id;
  }

  /** The routes directory for `?cluster_id=`; a named cluster must exist. */
  async function routesDir(url: URL): Promise<string> {
    const clusterId = url.searchParams.get('cluster_id') || undefined;
    if (clusterId === undefined) return store.routesDir();
    checkId('cluster', clusterId);
    if (!(await store.get(store.clusterKey(clusterId)))) throw new ApiError(404, 10001, `cluster ${clusterId} not found`);
    return store.routesDir(clusterId);
  }

  async function putRoute(dir: string, id: string, body: StoredObject, res: ServerResponse): Promise<void> {
    if (body.id !== undefined && String(body.id) !== id) throw new ApiError(400, 10000, `body id ${String(body.id)} differs from path id ${id}`);
    const parsed = routeSchema.safeParse(body);
    if (!parsed.success) throw new ApiError(400, 10000, `invalid route: ${formatIssues(parsed.error)}`);
    const existing = await store.get(dir + id);
    const now = Math.floor(Date.now() / 1000);
    const route = { ...body, id, create_time: existing?.create_time ?? now, update_time: now };
    await store.put(dir + id, route);
    ok(res, route);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/ping' && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('pong');
      return;
    }
    if (path === '/apisix/admin/user/login' && method === 'POST') {
      const { username, password } = await jsonBody(req);
      const user = config.auth.users.find((u) => u.username === username);
      if (!user || typeof password !== 'string' || !safeEqual(password, user.password)) {
        throw new ApiError(401, 10001, 'username or password error');
      }
      ok(res, { token: issueToken(user.username, config.auth.secret, config.auth.expireSeconds), user: { username: user.username } });
      return;
    }
    if (!path.startsWith('/apisix/admin/')) throw new ApiError(404, 10001, `not found: ${path}`);
    if (!verifyToken(req.headers.authorization ?? '', config.auth.secret)) throw new ApiError(401, 10013, 'request unauthorized');

    const [, kind, rawId, extra] = path.slice('/apisix/admin/'.length).match(/^([a-z_]+)(?:\/([^/]+))?(\/.*)?$/) ?? [];
    if (extra !== undefined) throw new ApiError(404, 10001, `not found: ${path}`);
    const id = rawId === undefined ? undefined : checkId(kind, decodeURIComponent(rawId));

    if (kind === 'routes') {
      const dir = await routesDir(url);
      if (id === undefined && method === 'GET') {
        const rows = await store.list(dir);
        return ok(res, { rows, total_size: rows.length });
      }
      if (id === undefined && method === 'POST') return putRoute(dir, randomUUID().replace(/-/g, '').slice(0, 18), await jsonBody(req), res);
      if (id !== undefined && method === 'GET') {
        const route = await store.get(dir + id);
        if (!route) throw new ApiError(404, 10001, `route ${id} not found`);
        return ok(res, route);
      }
      if (id !== undefined && method === 'PUT') return putRoute(dir, id, await jsonBody(req), res);
      if (id !== undefined && method === 'DELETE') {
        if (!(await store.delete(dir + id))) throw new ApiError(404, 10001, `route ${id} not found`);
        return ok(res, null);
      }
    }
    if (kind === 'clusters') {
      if (id === undefined && method === 'GET') {
        const rows = await store.list(`${store.clusterKey('')}`);
        return ok(res, { rows, total_size: rows.length });
      }
      if (id !== undefined && method === 'GET') {
        const cluster = await store.get(store.clusterKey(id));
        if (!cluster) throw new ApiError(404, 10001, `cluster ${id} not found`);
        return ok(res, cluster);
      }
      if (id !== undefined && method === 'PUT') {
        const body = await jsonBody(req);
        const cluster = { ...body, id };
        await store.put(store.clusterKey(id), cluster);
        return ok(res, cluster);
      }
    }
    throw new ApiError(404, 10001, `not found: ${method} ${path}`);
  }

  return async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('server', `api7-dashboard/${version}`);
    res.setHeader('x-api7-version', version);
    const address = clientAddress(req);
    if (!allowed(address)) {
      log.warn(`refused ${address}: not in allow_list`);
      req.resume();
      return sendJson(res, 403, { code: 10002, message: `${address} is not in allow_list`, data: null });
    }
    try {
      await handle(req, res, new URL(req.url ?? '/', 'http://dashboard'));
    } catch (err) {
      if (err instanceof ApiError) return sendJson(res, err.status, { code: err.code, message: err.message, data: null });
      // Anything else is etcd failing (no quorum, unreachable, denied): nothing was applied.
      log.error(`${req.method} ${req.url}: ${describeError(err)}`);
      sendJson(res, 503, { code: 10003, message: `etcd: ${describeError(err)}`, data: null });
    }
  };
}
