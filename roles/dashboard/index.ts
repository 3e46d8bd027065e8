// The control plane, as the guide deploys it: upload and unpack the cp bundle, load its images, write
// conf.yaml, `docker compose up -d`, check /ping and a login; then make sure the data-plane cluster
// the gateways join exists.
import { sha256 } from '../common/fingerprint.ts';
import { ensureDir, ensureFile } from '../../lib/files.ts';
import { defineRole, defineStep, type StepContext } from '../../lib/types.ts';
import { adminApi, curlOn, putOrThrow } from '../common/admin-api.ts';
import { imageId } from '../common/bundle.ts';
import { planeSteps } from '../common/plane-steps.ts';
import { STACK_DEFAULTS } from '../common/defaults.ts';
import { composeFileStep, composeUpStep, type ComposeDeploy } from '../common/service.ts';
import { etcdCredentials, tlsEnabled } from '../common/tls.ts';
import { dashboardPrefix, etcdMembers, groupAddresses } from '../common/topology.ts';
import { edition, list, num, str } from '../common/vars.ts';
import { clusterBody, clusterPath, dashboardCertsDir, dashboardConfFile, dashboardDir, dashboardImage, jwtSecret } from './commands.ts';
import { DASHBOARD_CERTS_PATH, DASHBOARD_CONF_PATH, renderDashboardConf, uniq } from './templates.ts';

export function dashboardConf(ctx: StepContext): string {
  const v = ctx.vars;
  const tls = tlsEnabled(v);
  const creds = etcdCredentials(ctx);
  const port = num(v, 'etcd_client_port');
  const password = str(v, 'dashboard_admin_password');
  const jwt = jwtSecret(v);
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

const service: ComposeDeploy = {
  role: 'dashboard',
  project: 'api7-dashboard',
  dir: (ctx) => dashboardDir(ctx.vars),
  async inputs(ctx) {
    const mounts: [string, string][] = [[dashboardConfFile(ctx.vars), DASHBOARD_CONF_PATH]];
    if (tlsEnabled(ctx.vars)) mounts.push([dashboardCertsDir(ctx.vars), DASHBOARD_CERTS_PATH]);
    const image = dashboardImage(ctx.vars);
    return {
      service: { name: 'api7-dashboard', role: 'dashboard', image, mounts },
      imageId: await imageId(ctx, image),
      contentShas: [sha256(dashboardConf(ctx))],
    };
  },
  health,
};


export default defineRole({
  name: 'dashboard',
  defaults: { ...STACK_DEFAULTS },
  steps: [
    ...planeSteps({ plane: 'cp', role: 'dashboard', image: dashboardImage, certsDir: dashboardCertsDir }),
    defineStep({
      name: 'dashboard conf.yaml',
      async plan(ctx) {
        const dir = dashboardConfFile(ctx.vars).replace(/\/[^/]+$/, '');
        return [
          ...(await ensureDir(ctx, { path: dir, mode: 0o755, become: true })),
          ...(await ensureFile(ctx, { path: dashboardConfFile(ctx.vars), content: dashboardConf(ctx), mode: 0o600, become: true, secret: true })),
        ];
      },
    }),
    composeFileStep('dashboard compose file', service),
    composeUpStep('dashboard running and healthy', service),
    defineStep({
      name: 'data-plane cluster exists',
      when: (ctx) =>
        edition(ctx.vars) !== 'api7' ? 'edition apisix has no clusters'
        : ctx.play.hosts[0]?.name === ctx.host.name || `done once, by ${ctx.play.hosts[0]?.name}`,
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
