// The control plane, as the guide deploys it: upload and unpack the cp bundle, load its images, write
// conf.yaml, `docker compose up -d`, check /ping and a login; then make sure the data-plane cluster
// the gateways join exists.
import { defineRole, defineStep, type StepContext } from '../../lib/types.ts';
import { adminApi, curlOn, putOrThrow } from '../common/admin-api.ts';
import { planeCompose, planeSteps, type PlaneService } from '../common/plane-steps.ts';
import { STACK_DEFAULTS } from '../common/defaults.ts';
import { composeFileStep, composeUpStep } from '../common/service.ts';
import { etcdCredentials, tlsEnabled } from '../common/tls.ts';
import { dashboardPrefix, etcdMembers, firstHostOfPlay, groupAddresses } from '../common/topology.ts';
import { edition, list, num, optStr, str } from '../common/vars.ts';
import { clusterBody, clusterPath, dashboardCertsDir, dashboardConfFile, dashboardImage } from './commands.ts';
import { DASHBOARD_CERTS_PATH, DASHBOARD_CONF_PATH, renderDashboardConf, uniq } from './templates.ts';
import { tokenSecret, tokenSecretChanges } from './token-secret.ts';

export function dashboardConf(ctx: StepContext): string {
  const v = ctx.vars;
  const tls = tlsEnabled(v);
  const creds = etcdCredentials(ctx);
  const port = num(v, 'etcd_client_port');
  const password = str(v, 'dashboard_admin_password');
  const jwt = tokenSecret(ctx);
  ctx.secret(password);
  ctx.secret(jwt);
  return renderDashboardConf({
    edition: edition(v),
    port: num(v, 'dashboard_port'),
    allowList: uniq([
      '127.0.0.1',
      ...groupAddresses(ctx.inventory, str(v, 'lb_group')),
      ...groupAddresses(ctx.inventory, str(v, 'control_group')),
      ...list(v, 'dashboard_allow_list'),
    ]),
    etcdEndpoints: etcdMembers(ctx.inventory, v).map((m) => `${tls ? 'https://' : ''}${m.address}:${port}`),
    prefix: dashboardPrefix(v),
    etcdUser: creds?.user,
    etcdPassword: creds?.password,
    mtls: tls ? { ca: `${DASHBOARD_CERTS_PATH}/ca.pem`, cert: `${DASHBOARD_CERTS_PATH}/cert.pem`, key: `${DASHBOARD_CERTS_PATH}/key.pem` } : undefined,
    jwtSecret: jwt,
    adminUser: str(v, 'dashboard_admin_user'),
    adminPassword: password,
  });
}

async function health(ctx: StepContext): Promise<true | string> {
  const ping = await curlOn(ctx, { url: `http://127.0.0.1:${num(ctx.vars, 'dashboard_port')}/ping`, timeoutSec: 5 });
  if (ping.status !== 200 || ping.body.trim() !== 'pong') return `GET /ping answered ${ping.status} ${ping.body.slice(0, 80)}`;
  await adminApi(ctx); // throws with the reason when the login fails
  return true;
}

const plane: PlaneService = {
  plane: 'cp',
  role: 'dashboard',
  container: 'api7-dashboard',
  image: dashboardImage,
  confFile: dashboardConfFile,
  confPath: DASHBOARD_CONF_PATH,
  certsDir: dashboardCertsDir,
  certsPath: DASHBOARD_CERTS_PATH,
  conf: dashboardConf,
  confSecret: () => true, // the console admin's password
  lbGroup: 'control',
  health,
};
const service = planeCompose(plane);

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
    composeFileStep('dashboard compose file', service),
    composeUpStep('dashboard running and healthy', service),
    defineStep({
      name: 'data-plane cluster exists',
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
