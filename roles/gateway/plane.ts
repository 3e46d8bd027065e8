// The data plane as ops/plane-steps.ts deploys it: which bundle, which conf file and how its named keys are
// filled from the inventory, and the health read that gates a restart (ops/gateway-health.ts).
import type { StepContext } from '../../lib/types.ts';
import { expectedGatewayHealthFact, gatewayHealthFact } from '../../ops/gateway-health.ts';
import { planeSteps, type PlaneService } from '../../ops/plane-steps.ts';
import { tlsEnabled } from '../../ops/tls.ts';
import { etcdCredentials } from '../../ops/etcd-credentials.ts';
import { etcdClientUrls, gatewayPrefix } from '../../ops/topology.ts';
import { stackVars } from '../../vars/schema.ts';
import { GATEWAY_CONF } from './commands.ts';
import { editGatewayConf } from './templates.ts';

/** config.yaml's named keys, from the inventory: etcd.host, etcd.prefix, etcd auth and client TLS. */
export function gatewayEditsFor(ctx: StepContext, shipped: string, certsPath: string, file: string) {
  const creds = etcdCredentials(ctx);
  return editGatewayConf(
    shipped,
    {
      edition: stackVars(ctx).api7_edition,
      etcdHosts: etcdClientUrls(ctx.inventory, ctx.vars),
      prefix: gatewayPrefix(ctx.vars),
      etcdUser: creds?.user,
      etcdPassword: creds?.password,
      tls: tlsEnabled(ctx.vars) ? { ca: `${certsPath}/ca.pem`, cert: `${certsPath}/cert.pem`, key: `${certsPath}/key.pem` } : undefined,
    },
    file,
  );
}

export const GATEWAY: PlaneService = {
  plane: 'dp',
  role: 'gateway',
  confFile: GATEWAY_CONF,
  editConf: gatewayEditsFor,
  confSecret: (ctx) => !!etcdCredentials(ctx), // etcd's root password
  lbGroup: 'gateway',
  healthFact: (ctx) => gatewayHealthFact(ctx),
  expectedHealthFact: expectedGatewayHealthFact,
};

/** The plan of each of the role's plane steps. */
export const dp = planeSteps(GATEWAY);
