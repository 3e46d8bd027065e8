// The data plane: match a request to a route, pick an upstream node, stream the request there and the
// answer back. Hop-by-hop headers stay on their hop; X-Forwarded-* tell the upstream who asked.
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { describeError, type Logger } from '../shared/log.ts';
import { clientAddress, sendJson } from '../shared/http-json.ts';
import type { UpstreamNode } from '../shared/route.ts';
import type { Metrics } from './metrics.ts';
import { hostOnly, type RouteTable } from './route-table.ts';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
const UPSTREAM_TIMEOUT_MS = 30_000;

/** Headers minus hop-by-hop ones, including any the Connection header names. */
export function endToEndHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.includes(name) && !named.includes(name)) out[name] = value;
  }
  return out;
}

const nodeHostHeader = (node: UpstreamNode): string => {
  const host = node.host.includes(':') ? `[${node.host}]` : node.host;
  return node.port === 80 ? host : `${host}:${node.port}`;
};

export interface ProxyDeps {
  table: RouteTable;
  metrics: Metrics;
  log: Logger;
  version: string;
}

export function createProxy({ table, metrics, log, version }: ProxyDeps) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 16 });
  const server = `APISIX/${version}`;

  return function proxy(req: IncomingMessage, res: ServerResponse): void {
    const scheme = 'encrypted' in req.socket ? 'https' : 'http';
    const path = (req.url ?? '/').split('?')[0];
    const match = table.match(req.method ?? 'GET', req.headers.host, path);
    if (!match) {
      req.resume();
      metrics.recordStatus({ code: 404, route: '', matchedUri: '', matchedHost: '', node: '' });
      sendJson(res, 404, { error_msg: '404 Route Not Found' }, { server });
      return;
    }
    const { route } = match;
    const node = match.balancer.next();
    const record = (code: number) =>
      metrics.recordStatus({ code, route: route.id, matchedUri: match.uri, matchedHost: route.hosts.length ? hostOnly(req.headers.host) : '', node: node?.host ?? '' });
    const fail = (code: number, reason: string) => {
      record(code);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const text = `<html><head><title>${code}</title></head><body><center><h1>${code} ${reason}</h1></center></body></html>\n`;
      res.writeHead(code, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(text), server });
      res.end(text);
    };
    if (!node) {
      req.resume();
      return fail(502, 'Bad Gateway');
    }

    const client = clientAddress(req);
    const headers = endToEndHeaders(req.headers);
    const forwardedFor = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = forwardedFor ? `${String(forwardedFor)}, ${client}` : client;
    headers['x-real-ip'] = client;
    headers['x-forwarded-proto'] = scheme;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    if (route.passHost === 'node') headers.host = nodeHostHeader(node);
    else if (route.passHost === 'rewrite' && route.upstreamHost) headers.host = route.upstreamHost;

    const upstream = request({ host: node.host, port: node.port, method: req.method, path: req.url, headers, agent, timeout: UPSTREAM_TIMEOUT_MS });
    upstream.on('response', (answer) => {
      record(answer.statusCode ?? 502);
      res.writeHead(answer.statusCode ?? 502, { ...endToEndHeaders(answer.headers), server });
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('timeout', () => {
      upstream.destroy();
      log.warn(`upstream ${node.host}:${node.port} timed out (route ${route.id})`);
      fail(504, 'Gateway Time-out');
    });
    upstream.on('error', (err) => {
      if (res.writableEnded) return; // already answered (timeout)
      log.warn(`upstream ${node.host}:${node.port} failed (route ${route.id}): ${describeError(err)}`);
      fail(502, 'Bad Gateway');
    });
    // A client that goes away takes its upstream request with it.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };
}
