// Stand-in for the API7 dashboard's manager API (apisix-dashboard contract, docs/STANDINS.md).
//   node dashboard.cjs [-c /usr/local/apisix-dashboard/conf/conf.yaml]
import { createServer } from 'node:http';
import { createApi } from './dashboard/api.ts';
import { allowListCheck } from './dashboard/allow-list.ts';
import { DEFAULT_DASHBOARD_CONFIG, loadDashboardConfig } from './dashboard/config.ts';
import { EtcdStore } from './dashboard/store.ts';
import { configPathFromArgs } from './shared/args.ts';
import { createEtcdClient, withScheme } from './shared/etcd-client.ts';
import { checkEtcdRead } from './shared/etcd-check.ts';
import { createLogger, describeError } from './shared/log.ts';
import { closeOnSignals } from './shared/shutdown.ts';
import { standinVersion } from './shared/version.ts';

const log = createLogger('manager-api');

async function main(): Promise<void> {
  const config = loadDashboardConfig(configPathFromArgs(process.argv.slice(2), DEFAULT_DASHBOARD_CONFIG));
  const version = standinVersion();
  log.info(`manager-api ${version} (stand-in), etcd ${config.etcd.endpoints.map(withScheme).join(',')} prefix ${config.prefix}`);

  const client = createEtcdClient(config.etcd);
  // Like manager-api, refuse to run without a usable etcd: a console that cannot store is worse than none.
  const check = await checkEtcdRead(client, config.prefix);
  if (!check.ok) {
    const what = check.auth ? `etcd authentication failed for user '${config.etcd.username ?? ''}' (check conf.etcd.username/password)` : 'cannot reach etcd';
    throw new Error(`${what}: ${check.reason}`);
  }

  const api = createApi({ config, store: new EtcdStore(client, config.prefix), allowed: allowListCheck(config.allowList), version, log });
  const server = createServer((req, res) => void api(req, res));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, resolve);
  });
  closeOnSignals([server], log, { cleanup: () => client.close() });
  log.info(`listening on ${config.listen.host}:${config.listen.port}`);
  // manager-api's start-up banner, as the guide shows it in `docker logs`
  process.stdout.write(
    `The manager-api is running successfully!\n\nVersion : ${version}\nGitHash : stand-in\nListen  : ${config.listen.host}:${config.listen.port}\nLoglevel: ${config.logLevel}\n\n`,
  );
}

main().catch((err) => {
  log.error(describeError(err));
  process.exit(1);
});
