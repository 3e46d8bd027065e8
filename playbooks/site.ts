// The whole stack of the reference guide, converged: `npm run play site -- -i inventory/lab.yaml`
// (Draft by the stack roles; the lead owns it.) Each play waits only for what it builds on.
import { definePlaybook } from '../lib/types.ts';
import { stackVariables } from '../vars/schema.ts';
import preflight from '../roles/preflight/index.ts';
import docker from '../roles/docker/index.ts';
import etcd from '../roles/etcd/index.ts';
import dashboard from '../roles/dashboard/index.ts';
import gateway from '../roles/gateway/index.ts';
import smoke from '../roles/smoke/index.ts';
import lb from '../roles/lb/index.ts';
import { BUNDLE } from '../ops/layout.ts';

export default definePlaybook({
  name: 'site',
  description: '3 etcd, 2 dashboards, 2 gateways and the load balancers, from offline bundles, each behind a health gate',
  variables: stackVariables,
  plays: [
    { name: 'preflight', hosts: 'all', role: preflight },
    { name: 'docker', hosts: 'etcd:control:gateway', role: docker, needs: [{ play: 'preflight', scope: 'host' }] },
    { name: 'etcd', hosts: 'etcd', role: etcd, needs: [{ play: 'docker', scope: 'host' }] },
    // Each plane's bundle (upload, unpack, docker load) needs only the host's Docker: it is done while etcd and
    // the control plane come up; the service starts once what it builds on is there.
    { name: 'dashboard bundle', hosts: 'control', role: dashboard, steps: { only: [BUNDLE] }, needs: [{ play: 'docker', scope: 'host' }] },
    { name: 'gateway bundle', hosts: 'gateway', role: gateway, steps: { only: [BUNDLE] }, needs: [{ play: 'docker', scope: 'host' }] },
    { name: 'dashboard', hosts: 'control', role: dashboard, steps: { except: [BUNDLE] }, needs: [{ play: 'dashboard bundle', scope: 'host' }, { play: 'etcd', scope: 'alive' }] },
    { name: 'gateway', hosts: 'gateway', role: gateway, steps: { except: [BUNDLE] }, needs: [{ play: 'gateway bundle', scope: 'host' }, { play: 'dashboard', scope: 'alive' }] },
    { name: 'smoke', hosts: 'control', role: smoke, runOnce: true, needs: [{ play: 'gateway', scope: 'alive' }] },
    { name: 'lb', hosts: 'lb', role: lb, needs: [{ play: 'preflight', scope: 'host' }, { play: 'dashboard', scope: 'alive' }, { play: 'gateway', scope: 'alive' }] },
  ],
});
