// Stand-in for the API7 / APISIX gateway (docs/STANDINS.md): routes from etcd, proxied by Host and URI.
//   node gateway.cjs [-c /usr/local/apisix/conf/config.yaml]
//   env GATEWAY_TLS_CERT / GATEWAY_TLS_KEY: the ssl listener's files (default /usr/local/apisix/conf/cert/gateway.{crt,key})
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { hostname } from 'node:os';
import { DEFAULT_GATEWAY_CONFIG, loadGatewayConfig, type Listen } from './gateway/config.ts';
import { assertEtcdMajority, probeEtcdHosts } from './gateway/etcd-probe.ts';
import { Metrics } from './gateway/metrics.ts';
import { createProxy } from './gateway/proxy.ts';
import { RouteSync } from './gateway/route-sync.ts';
import { RouteTable } from './gateway/route-table.ts';
import { configPathFromArgs } from './shared/args.ts';
import { createEtcdClient, withScheme } from './shared/etcd-client.ts';
import { createLogger, describeError } from './shared/log.ts';
import { closeOnSignals } from './shared/shutdown.ts';
import { standinVersion } from './shared/version.ts';

const log = createLogger('apisix');

function readTlsFiles(files: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  try {
    return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  } catch (err) {
    throw new Error(`ssl is enabled but its certificate cannot be read (${describeError(err)}); set GATEWAY_TLS_CERT/GATEWAY_TLS_KEY or disable apisix.ssl`);
  }
}

const listen = (server: Server, at: Listen): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${at.host}:${at.port}: ${describeError(err)}`)));
    server.listen(at.port, at.host, resolve);
  });

async function main(): Promise<void> {
  const config = loadGatewayConfig(configPathFromArgs(process.argv.slice(2), DEFAULT_GATEWAY_CONFIG));
  const version = standinVersion();
  log.info(`APISIX ${version} (stand-in), etcd ${config.etcd.endpoints.map(withScheme).join(',')} prefix ${config.prefix}`);

  assertEtcdMajority(await probeEtcdHosts(config.etcd, config.prefix), config.etcd.username);
  const tls = config.https.length > 0 ? readTlsFiles(config.tls) : undefined;

  const client = createEtcdClient(config.etcd);
  const table = new RouteTable();
  const sync = new RouteSync(client, `${config.prefix}/routes/`, table, log);
  await sync.start();

  const metrics = new Metrics();
  const proxy = createProxy({ table, metrics, log, version });
  const node = hostname();
  const exporter = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === config.metricsPath) {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metrics.render({ etcdReachable: sync.reachable, routesTotal: table.size, hostname: node, version }));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 Not Found\n');
    }
  });

  const servers: [Server, Listen][] = [
    ...config.http.map((at): [Server, Listen] => [createServer(proxy), at]),
    ...config.https.map((at): [Server, Listen] => [createTlsServer({ ...tls }, proxy) as unknown as Server, at]),
    [exporter, config.prometheus],
  ];
  for (const [server, at] of servers) await listen(server, at);
  closeOnSignals(
    servers.map(([server]) => server),
    log,
    { cleanup: () => (sync.stop(), client.close()) },
  );
  log.info(`listening: http ${config.http.map((l) => l.port).join(',')}, https ${config.https.map((l) => l.port).join(',') || '-'}, metrics ${config.prometheus.port}`);
  log.info('gateway is running');
}

main().catch((err) => {
  log.error(describeError(err));
  process.exit(1);
});
