// The control plane as ops/plane-steps.ts deploys it: which bundle, which conf file and how its named keys are
// filled from the inventory, and the health read that gates a restart.
import { defineFact, type Fact, type StepContext } from '../../lib/types.ts';
import { curlSeqCmd, parseCurlOutputs } from '../../ops/curl.ts';
import { GROUPS } from '../../ops/layout.ts';
import { planeSteps, type PlaneService } from '../../ops/plane-steps.ts';
import { tlsEnabled } from '../../ops/tls.ts';
import { etcdCredentials } from '../../ops/etcd-credentials.ts';
import { dashboardPrefix, etcdMembers, groupAddresses } from '../../ops/topology.ts';
import { stackVars } from '../../vars/schema.ts';
import { DASHBOARD_CONF } from './commands.ts';
import { editDashboardConf, uniq } from './templates.ts';
import { tokenSecret } from './token-secret.ts';

/** conf.yaml's named keys, from the inventory: etcd endpoints and auth, token secret, admin password; the allow-list when set. */
export function dashboardEditsFor(ctx: StepContext, shipped: string, certsPath: string, file: string) {
  const v = stackVars(ctx);
  const tls = tlsEnabled(ctx.vars);
  const creds = etcdCredentials(ctx);
  const password = v.dashboard_admin_password;
  if (!password) throw new Error('dashboard_admin_password is not set: conf.yaml needs the console admin password');
  const jwt = tokenSecret(ctx);
  ctx.secret(password);
  ctx.secret(jwt);
  return editDashboardConf(
    shipped,
    {
      // The shipped list stays unless the operator narrows it; then the LB and the control hosts (the console
      // API's callers) must still get in.
      allowList: v.dashboard_allow_list.length
        ? uniq(['127.0.0.1', ...groupAddresses(ctx.inventory, GROUPS.lb), ...groupAddresses(ctx.inventory, GROUPS.control), ...v.dashboard_allow_list])
        : undefined,
      etcdEndpoints: etcdMembers(ctx.inventory, ctx.vars).map((m) => `${tls ? 'https://' : ''}${m.address}:${v.etcd_client_port}`),
      prefix: dashboardPrefix(ctx.vars),
      etcdUser: creds?.user,
      etcdPassword: creds?.password,
      mtls: tls ? { ca: `${certsPath}/ca.pem`, cert: `${certsPath}/cert.pem`, key: `${certsPath}/key.pem` } : undefined,
      jwtSecret: jwt,
      adminUser: v.dashboard_admin_user,
      adminPassword: password,
    },
    file,
  );
}

/**
 * The console answers on its published port: the gate. (Its login is console API: checked, never gating.) A fact,
 * so a converged run reads it in its one batch; no secret in it, so the URL may go in argv.
 */
export const healthFact = (ctx: StepContext): Fact<true | string> =>
  defineFact({
    name: 'dashboard /ping',
    command: curlSeqCmd([{ url: `http://${ctx.host.address}:${stackVars(ctx).dashboard_port}/ping`, timeoutSec: 5 }]),
    become: true, // rides in the role's root batch
    parse(r) {
      const [ping] = parseCurlOutputs(r.stdout, r.stderr, 1);
      return (ping.status === 200 && ping.body.trim() === 'pong') || `GET /ping answered ${ping.status} ${ping.body.slice(0, 80)}`;
    },
  });

export const DASHBOARD: PlaneService = {
  plane: 'cp',
  role: 'dashboard',
  confFile: DASHBOARD_CONF,
  editConf: dashboardEditsFor,
  confSecret: () => true, // the console admin's password
  lbGroup: 'control',
  healthFact,
};

/** The plan of each of the role's plane steps. */
export const cp = planeSteps(DASHBOARD);
