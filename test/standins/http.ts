// A small HTTP(S) client for tests: any Host header, a chosen source address, no connection reuse.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json<T = any>(): T;
}

export interface Ask {
  port: number;
  path?: string;
  method?: string;
  host?: string;
  headers?: Record<string, string>;
  body?: unknown;
  tls?: boolean;
  /** Source address, e.g. 127.0.0.2, to test allow lists. */
  localAddress?: string;
  timeoutMs?: number;
}

export function ask(a: Ask): Promise<Answer> {
  const body = a.body === undefined ? undefined : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
  const request = a.tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: a.port,
        path: a.path ?? '/',
        method: a.method ?? 'GET',
        localAddress: a.localAddress,
        agent: false,
        rejectUnauthorized: false,
        headers: { ...(a.host ? { host: a.host } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...a.headers },
        timeout: a.timeoutMs ?? 15_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to :${a.port}${a.path ?? '/'} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Retries `probe` until `accept` holds or time runs out (bounded polling, not a timing assertion). */
export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | Error | undefined;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch (err) {
      last = err as Error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}
