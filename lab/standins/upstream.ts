// httpbin-like upstream for the lab's `upstream1` host: /get, /status/<code>, /delay/<s> (≤ 10 s).
//   node upstream.cjs [--port 80] [--host 0.0.0.0] [--name <name>]
// Every answer carries `X-Upstream-Name` (default: the host name) so tests can see the balancing.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { clientAddress, sendJson } from './shared/http-json.ts';
import { createLogger, describeError } from './shared/log.ts';
import { closeOnSignals } from './shared/shutdown.ts';

const log = createLogger('upstream');
const MAX_DELAY_S = 10;

/** httpbin shows header names in Title-Case. */
const titleCase = (name: string): string => name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

/** httpbin's echo: query args (repeated names become lists), headers, origin and full URL. */
export function echo(req: IncomingMessage): Record<string, unknown> {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  const args: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    args[key] = values.length === 1 ? values[0] : values;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[titleCase(name)] = String(value);
  const forwarded = req.headers['x-forwarded-for'];
  return { args, headers, origin: forwarded ? String(forwarded) : clientAddress(req), url: `http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}` };
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const path = (req.url ?? '/').split('?')[0];
  const status = /^\/status\/(\d{3})$/.exec(path);
  const delay = /^\/delay\/(\d+(?:\.\d+)?)$/.exec(path);
  if (path === '/get' || path === '/anything' || path.startsWith('/anything/')) return sendJson(res, 200, { ...echo(req), method: req.method });
  if (path === '/headers') return sendJson(res, 200, { headers: echo(req).headers });
  if (path === '/ip') return sendJson(res, 200, { origin: echo(req).origin });
  if (status) {
    const code = Number(status[1]);
    if (code < 100 || code > 599) return sendJson(res, 400, { error: `invalid status ${code}` });
    res.writeHead(code, { 'content-length': 0 }).end();
    return;
  }
  if (delay) {
    const seconds = Math.min(Number(delay[1]), MAX_DELAY_S);
    const timer = setTimeout(() => sendJson(res, 200, echo(req)), seconds * 1000);
    res.on('close', () => clearTimeout(timer));
    return;
  }
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream stand-in: /get /status/<code> /delay/<s>\n');
    return;
  }
  sendJson(res, 404, { error: 'not found' });
}

function upstreamArgs(argv: string[]): { port: number; host: string; name: string } {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string', short: 'p' }, host: { type: 'string' }, name: { type: 'string' } } });
  const port = Number(values.port ?? 80);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  return { port, host: values.host ?? '0.0.0.0', name: values.name ?? hostname() };
}

async function main(): Promise<void> {
  const at = upstreamArgs(process.argv.slice(2));
  const server = createServer((req, res) => {
    res.setHeader('x-upstream-name', at.name);
    handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, resolve);
  });
  closeOnSignals([server], log);
  log.info(`listening on ${at.host}:${at.port}`);
}

main().catch((err) => {
  log.error(describeError(err));
  process.exit(1);
});
