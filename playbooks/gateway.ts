// The data plane alone (etcd and a dashboard must run): `npm run play gateway -- -i inventory/lab.yaml`
// Then the guide's closing check through every gateway, when smoke_route_enabled.
import { definePlaybook } from '../lib/types.ts';
import { stackVariables } from '../vars/schema.ts';
import gateway from '../roles/gateway/index.ts';
import smoke from '../roles/smoke/index.ts';

export default definePlaybook({
  name: 'gateway',
  description: 'gateways from the dp bundle, restarted one at a time, each routing a probe; then the smoke route',
  variables: stackVariables,
  plays: [
    { name: 'gateway', hosts: 'gateway', role: gateway },
    { name: 'smoke', hosts: 'control', role: smoke, runOnce: true, needs: [{ play: 'gateway', scope: 'alive' }] },
  ],
});
