// Plain HTTP from the controller to the lab's own addresses (the LB, the gateways): node's http with a
// keep-alive agent, so a steady load looks like a real client and every failure has a named reason.
import http from 'node:http';

export interface HttpRequest {
  host: string;
  port: number;
  path: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  body: string;
}

export function httpRequest(req: HttpRequest, agent?: http.Agent): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: req.host,
        port: req.port,
        path: req.path,
        method: req.method ?? 'GET',
        headers: { ...req.headers, ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        agent,
        timeout: req.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${req.timeoutMs ?? 5000} ms`)));
    r.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code ?? e.message)));
    r.end(req.body);
  });
}

/**
 * A request for the load generator: succeeds on HTTP 200 (and `accept`, when given); a failure throws its
 * reason ("HTTP 502", "ECONNRESET"). One keep-alive agent per probe, like a client holding connections.
 */
export function probe(req: HttpRequest, accept?: (body: string) => boolean): { send(): Promise<boolean>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  return {
    async send() {
      const res = await httpRequest(req, agent);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      if (accept && !accept(res.body)) throw new Error('unexpected body');
      return true;
    },
    close: () => agent.destroy(),
  };
}
