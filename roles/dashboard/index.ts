// The control plane, as the guide deploys it: upload and unpack the cp bundle into its own folder, load
// its images, edit the named keys of dashboard_conf/conf.yaml, `docker compose up api7-dashboard -d` there,
// check /ping; then, through the console's API (not documented by the guide, so it never gates the deploy),
// make sure the data-plane cluster the gateways join exists.
import { defineRole, defineStep, type StepContext } from '../../lib/types.ts';
import { adminApi, curlOn, putOrThrow } from '../../ops/admin-api.ts';
import { planeCompose, planeSteps, type PlaneService } from '../../ops/plane-steps.ts';
import { STACK_DEFAULTS } from '../../ops/defaults.ts';
import { composeUpStep } from '../../ops/service.ts';
import { etcdCredentials, tlsEnabled } from '../../ops/tls.ts';
import { dashboardPrefix, etcdMembers, firstHostOfPlay, groupAddresses } from '../../ops/topology.ts';
import { edition, list, num, str } from '../../ops/vars.ts';
import { consoleStep } from '../../ops/console.ts';
import { clusterBody, clusterPath, DASHBOARD_CONF } from './commands.ts';
import { editDashboardConf, uniq } from './templates.ts';
import { tokenSecret, tokenSecretChanges } from './token-secret.ts';
import { optStr } from '../../ops/vars.ts';
import { GROUPS } from '../../ops/layout.ts';

export function dashboardEditsFor(ctx: StepContext, shipped: string, certsPath: string, file: string) {
  const v = ctx.vars;
  const tls = tlsEnabled(v);
  const creds = etcdCredentials(ctx);
  const port = num(v, 'etcd_client_port');
  const password = str(v, 'dashboard_admin_password');
  const jwt = tokenSecret(ctx);
  ctx.secret(password);
  ctx.secret(jwt);
  return editDashboardConf(
    shipped,
    {
      allowList: uniq([
        '127.0.0.1',
        ...groupAddresses(ctx.inventory, GROUPS.lb),
        ...groupAddresses(ctx.inventory, GROUPS.control),
        ...list(v, 'dashboard_allow_list'),
      ]),
      etcdEndpoints: etcdMembers(ctx.inventory, v).map((m) => `${tls ? 'https://' : ''}${m.address}:${port}`),
      prefix: dashboardPrefix(v),
      etcdUser: creds?.user,
      etcdPassword: creds?.password,
      mtls: tls ? { ca: `${certsPath}/ca.pem`, cert: `${certsPath}/cert.pem`, key: `${certsPath}/key.pem` } : undefined,
      jwtSecret: jwt,
      adminUser: str(v, 'dashboard_admin_user'),
      adminPassword: password,
    },
    file,
  );
}

/** The console answers on its published port: the gate. (Its login is console API: checked, never gating.) */
export async function health(ctx: StepContext): Promise<true | string> {
  const ping = await curlOn(ctx, { url: `http://${ctx.host.address}:${num(ctx.vars, 'dashboard_port')}/ping`, timeoutSec: 5 });
  return (ping.status === 200 && ping.body.trim() === 'pong') || `GET /ping answered ${ping.status} ${ping.body.slice(0, 80)}`;
}

const plane: PlaneService = {
  plane: 'cp',
  role: 'dashboard',
  confFile: DASHBOARD_CONF,
  editConf: dashboardEditsFor,
  confSecret: () => true, // the console admin's password
  lbGroup: 'control',
  health,
};

export default defineRole({
  name: 'dashboard',
  defaults: { ...STACK_DEFAULTS },
  steps: [
    defineStep({
      name: 'console token secret',
      when: (ctx) => optStr(ctx.vars, 'dashboard_jwt_secret') === undefined || 'dashboard_jwt_secret is set',
      plan: tokenSecretChanges,
    }),
    ...planeSteps(plane),
    composeUpStep('dashboard running and healthy', planeCompose(plane)),
    consoleStep({
      name: 'data-plane cluster exists (console API)',
      when: (ctx) =>
        edition(ctx.vars) !== 'api7' ? 'edition apisix has no clusters'
        : firstHostOfPlay(ctx),
      async plan(ctx) {
        const id = str(ctx.vars, 'cluster_id');
        const api = await adminApi(ctx);
        const got = await api.get(clusterPath(id));
        if (got.status === 200) return [];
        if (got.status !== 404) throw new Error(`GET ${clusterPath(id)}: HTTP ${got.status} ${got.body.slice(0, 200)}`);
        return [{ summary: `create data-plane cluster ${id}`, apply: () => putOrThrow(api, clusterPath(id), clusterBody(id)) }];
      },
    }),
  ],
});
