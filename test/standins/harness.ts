// Starts bundled stand-ins with generated configs, on free loopback ports, and talks to them.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildBundles, type Bundles } from './bundles.ts';
import { dashboardConf, gatewayConf, type DashboardConfOptions, type GatewayConfOptions } from './configs.ts';
import { ask, type Answer } from './http.ts';
import { freePort } from './ports.ts';
import { startStandin, stopAllStandins, type StandinProcess } from './standin-process.ts';

export const ADMIN = { username: 'admin', password: 'admin-test-password' };

export interface Dashboard {
  proc: StandinProcess;
  port: number;
  login(): Promise<string>;
  api(method: string, apiPath: string, body?: unknown, options?: { token?: string; localAddress?: string }): Promise<Answer>;
}

export interface Gateway {
  proc: StandinProcess;
  httpPort: number;
  httpsPort?: number;
  metricsPort: number;
  get(requestPath: string, host?: string, tls?: boolean): Promise<Answer>;
  metrics(): Promise<string>;
}

export class Harness {
  private constructor(
    readonly bundles: Bundles,
    private readonly workDir: string,
    readonly tls: { cert: string; key: string },
  ) {}

  static async create(): Promise<Harness> {
    const bundles = await buildBundles();
    const workDir = await mkdtemp(path.join(tmpdir(), 'gatewright-standin-conf-'));
    const cert = path.join(workDir, 'gateway.crt');
    const key = path.join(workDir, 'gateway.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=gateway.test'], { stdio: 'ignore' });
    return new Harness(bundles, workDir, { cert, key });
  }

  private async writeConf(name: string, text: string): Promise<string> {
    const file = path.join(this.workDir, `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, text, { mode: 0o600 });
    return file;
  }

  async upstream(name = 'upstream'): Promise<{ proc: StandinProcess; port: number }> {
    const port = await freePort();
    const proc = startStandin(this.bundles.files.upstream, ['--port', String(port), '--host', '127.0.0.1', '--name', name]);
    await proc.waitFor(/listening on/);
    return { proc, port };
  }

  /** Starts a dashboard; does not wait for it (tests of failures read its exit). */
  async spawnDashboard(o: Omit<DashboardConfOptions, 'port' | 'secret' | 'admin'>): Promise<Dashboard> {
    const port = await freePort();
    const conf = await this.writeConf('conf', dashboardConf({ ...o, port, secret: 'jwt-test-secret', admin: ADMIN }));
    const proc = startStandin(this.bundles.files.dashboard, ['-c', conf], { API7_VERSION: '2.13.2304' });
    const api: Dashboard['api'] = (method, apiPath, body, options = {}) =>
      ask({ port, method, path: apiPath, body, localAddress: options.localAddress, headers: options.token ? { authorization: options.token } : {} });
    return {
      proc,
      port,
      api,
      async login() {
        const answer = await api('POST', '/apisix/admin/user/login', ADMIN);
        if (answer.status !== 200) throw new Error(`login failed: ${answer.status} ${answer.body}`);
        return answer.json().data.token as string;
      },
    };
  }

  async dashboard(o: Omit<DashboardConfOptions, 'port' | 'secret' | 'admin'>): Promise<Dashboard> {
    const dashboard = await this.spawnDashboard(o);
    await dashboard.proc.waitFor(/The manager-api is running successfully!/);
    return dashboard;
  }

  async spawnGateway(o: Omit<GatewayConfOptions, 'httpPort' | 'httpsPort' | 'metricsPort'> & { tls?: boolean }): Promise<Gateway> {
    const httpPort = await freePort();
    const httpsPort = o.tls ? await freePort() : undefined;
    const metricsPort = await freePort();
    const conf = await this.writeConf('config', gatewayConf({ ...o, httpPort, httpsPort, metricsPort }));
    const proc = startStandin(this.bundles.files.gateway, ['-c', conf], { API7_VERSION: '2.13.2304', GATEWAY_TLS_CERT: this.tls.cert, GATEWAY_TLS_KEY: this.tls.key });
    return {
      proc,
      httpPort,
      httpsPort,
      metricsPort,
      get: (requestPath, host, tls) => ask({ port: tls ? (httpsPort as number) : httpPort, path: requestPath, host, tls }),
      metrics: async () => (await ask({ port: metricsPort, path: '/apisix/prometheus/metrics' })).body,
    };
  }

  async gateway(o: Parameters<Harness['spawnGateway']>[0]): Promise<Gateway> {
    const gateway = await this.spawnGateway(o);
    await gateway.proc.waitFor(/gateway is running/);
    return gateway;
  }

  async close(): Promise<void> {
    await stopAllStandins();
    await this.bundles.remove();
    await rm(this.workDir, { recursive: true, force: true });
  }
}
