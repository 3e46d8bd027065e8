// The load balancers alone (the stack should be up): `npm run play lb -- -i inventory/lab.yaml`
import { definePlaybook } from '../lib/types.ts';
import { stackVariables } from '../vars/schema.ts';
import lb from '../roles/lb/index.ts';

export default definePlaybook({
  name: 'lb',
  description: 'HAProxy in front of the dashboards (9000) and the gateways (80, 443 passed through), reloaded only on change',
  variables: stackVariables,
  plays: [{ name: 'lb', hosts: 'lb', role: lb }],
});
