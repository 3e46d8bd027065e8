// The control plane alone (etcd must be healthy): `npm run play dashboard -- -i inventory/lab.yaml`
import { definePlaybook } from '../lib/types.ts';
import { stackVariables } from '../vars/schema.ts';
import dashboard from '../roles/dashboard/index.ts';

export default definePlaybook({
  name: 'dashboard',
  description: 'dashboards from the cp bundle, answering /ping and a login; the data-plane cluster exists',
  variables: stackVariables,
  plays: [{ name: 'dashboard', hosts: 'control', role: dashboard }],
});
