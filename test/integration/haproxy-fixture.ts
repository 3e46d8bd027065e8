// Real haproxy on loopback for the lb role's integration tests: the role's own renderer and runtime
// helpers, run through the runner's real context on a local transport, against tiny node backends.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeContext } from '../../lib/context.ts';
import { FactCache } from '../../lib/facts.ts';
import { makeHost, makeInventory } from '../../lib/inventory.ts';
import { LocalTransport } from '../../lib/local.ts';
import { makePlayShared } from '../../lib/play-shared.ts';
import { Redactor } from '../../lib/redact.ts';
import type { Host, StepContext, Vars } from '../../lib/types.ts';
import { waitFor } from '../../ops/retry.ts';
import { serverStats } from '../../ops/lb-drain.ts';
import { lbModel, type LbModel } from '../../roles/lb/model.ts';

export const LB_ADDRESS = '127.0.0.30';
export const PORTS = { control: 19000, http: 18080, https: 18443, gateway: 18081, dashboard: 19001 };

/** A stand-in gateway/dashboard: `/get` for Host test.com, `/ping`, else the gateway's 404. Counts hits. */
export class Backend {
  hits = 0;
  private server?: http.Server;
  private sockets = new Set<Socket>();
  constructor(
    readonly address: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      if (req.url === '/ping') return void res.end('pong');
      if (req.url === '/get' && req.headers.host === 'test.com') {
        this.hits++;
        res.setHeader('content-type', 'application/json');
        return void res.end(JSON.stringify({ url: 'http://test.com/get', served_by: this.address }));
      }
      res.statusCode = 404;
      res.end('{"error_msg":"404 Route Not Found"}');
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, this.address, resolve));
    this.server = server;
  }

  /** Like a process killed: the port closes and every open connection is cut. */
  async kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

function inventory(vars: Vars) {
  const local = { ansible_connection: 'local', ...vars };
  const hosts = new Map<string, Host>([
    ['lb1', makeHost('lb1', ['lb'], { ...local, ansible_host: LB_ADDRESS })],
    ['gw1', makeHost('gw1', ['gateway'], { ...local, ansible_host: '127.0.0.31', gateway_http_port: PORTS.gateway, gateway_https_port: PORTS.gateway })],
    ['gw2', makeHost('gw2', ['gateway'], { ...local, ansible_host: '127.0.0.32', gateway_http_port: PORTS.gateway, gateway_https_port: PORTS.gateway })],
    ['dash1', makeHost('dash1', ['control'], { ...local, ansible_host: '127.0.0.33', dashboard_port: PORTS.dashboard })],
  ]);
  const groups = new Map([
    ['all', [...hosts.keys()]],
    ['lb', ['lb1']],
    ['gateway', ['gw1', 'gw2']],
    ['control', ['dash1']],
  ]);
  return makeInventory('haproxy-fixture', hosts, groups);
}

/** The runner's own StepContext for `host`, every host reached through the local transport. */
export function localContexts(dir: string) {
  const inv = inventory({
    lb_bind_address: LB_ADDRESS,
    lb_control_port: PORTS.control,
    lb_http_port: PORTS.http,
    lb_https_port: PORTS.https,
    lb_stats_bind: '',
    lb_admin_socket: join(dir, 'admin.sock'),
    lb_config_file: join(dir, 'haproxy.cfg'),
    lb_drain_timeout_s: 5,
    lb_ready_timeout_s: 20,
  });
  const deps = {
    inventory: inv,
    facts: new FactCache(),
    transports: async (h: Host) => new LocalTransport(h, {}),
    redactor: new Redactor(),
    emit: () => undefined,
    check: false,
    verbose: false,
  };
  const shared = makePlayShared(inv.group('gateway'));
  const context = (name: string): StepContext =>
    makeContext(inv.hosts.get(name)!, { play: 'test', step: 'test', origin: name, shared, defaults: {}, resolveHost: (n) => inv.hosts.get(n)! }, deps);
  return { inventory: inv, context, model: (): LbModel => lbModel(context('lb1').vars, inv) };
}

export const tempDir = (): { dir: string; remove(): void } => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-haproxy-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};

/** haproxy in the foreground on a rendered config; resolves once every server is UP. */
export async function runHaproxy(lb: StepContext, config: string): Promise<{ stop(): Promise<void> }> {
  const path = String(lb.vars.lb_config_file);
  await lb.transport.put(path, config, { mode: 0o644 });
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', path], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitFor('haproxy on loopback', 20, async () => {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${stderr}`);
    const stats = await serverStats(lb);
    return stats.every((s) => s.status === 'UP') || stats.map((s) => `${s.backend}/${s.server} ${s.status}`).join(', ');
  });
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
