// The control plane, as the guide deploys it: upload and unpack the cp bundle into its own folder, load its
// images, edit the named keys of dashboard_conf/conf.yaml, `docker compose up api7-dashboard -d` there (one
// dashboard at a time, drained behind the LB), check /ping; then, through the console's API (not documented by
// the guide, so it never gates the deploy), make sure the data-plane cluster the gateways join exists.
// What each plane step looks at and plans: ops/plane-steps.ts. What the role reads on a host: its facts, one batch.
import { BUNDLE } from '../../ops/layout.ts';
import { defineRole, defineStep, type Change, type StepContext } from '../../lib/types.ts';
import { adminApi, consoleSessionFacts, putOrThrow } from '../../ops/admin-api.ts';
import { consoleStep } from '../../ops/console.ts';
import { firstHostOfPlay } from '../../ops/topology.ts';
import { stackVars } from '../../vars/schema.ts';
import { clusterBody, clusterPath } from './commands.ts';
import { cp } from './plane.ts';
import { secretNotSet, tokenSecretChanges, tokenSecretFacts } from './token-secret.ts';

export default defineRole({
  name: 'dashboard',
  // The console's login and GETs ride in the first control host's batch: a converged run asks nothing more.
  facts: (ctx) => [...tokenSecretFacts(ctx), ...cp.facts(ctx), ...consoleSessionFacts(ctx)],
  steps: [
    defineStep({ name: 'console token secret', when: secretNotSet, plan: tokenSecretChanges }),
    defineStep({ name: 'upload the cp bundle', tags: [BUNDLE], plan: cp.upload }),
    defineStep({ name: 'unpack the cp bundle', tags: [BUNDLE], plan: cp.unpack }),
    defineStep({ name: 'load the cp images', tags: [BUNDLE], when: cp.fromBundle, plan: cp.loadImages }),
    defineStep({ name: 'cp compose images present', tags: [BUNDLE], plan: cp.imagesPresent }),
    defineStep({ name: 'etcd client certificates', when: cp.tlsOn, plan: cp.certificates }),
    defineStep({ name: 'dashboard conf.yaml (named keys)', plan: cp.conf }),
    defineStep({ name: 'cp compose override (certificates, SELinux labels)', plan: cp.override }),
    defineStep({ name: 'dashboard running and healthy', plan: cp.composeUp, verify: cp.healthy }),
    consoleStep({ name: 'data-plane cluster exists (console API)', when: apiHasClusters, plan: planCluster }),
  ],
});

/** api7 keeps gateways in clusters (APISIX has none); done once, by the play's first live host. */
function apiHasClusters(ctx: StepContext): Promise<true | string> | string {
  return stackVars(ctx).api7_edition !== 'api7' ? 'edition apisix has no clusters' : firstHostOfPlay(ctx);
}

/** GET the cluster; PUT it when the console says 404. */
async function planCluster(ctx: StepContext): Promise<Change[]> {
  const id = stackVars(ctx).cluster_id;
  const api = await adminApi(ctx);
  const got = await api.get(clusterPath(id));
  if (got.status === 200) return [];
  if (got.status !== 404) throw new Error(`GET ${clusterPath(id)}: HTTP ${got.status} ${got.body.slice(0, 200)}`);
  return [{ summary: `create data-plane cluster ${id}`, apply: () => putOrThrow(api, clusterPath(id), clusterBody(id)) }];
}
