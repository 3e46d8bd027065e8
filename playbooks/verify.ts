// The HA proof, after the stack and the LB are up: `npm run play verify -- -i inventory/lab.yaml`
// (one check: `--tags data-plane|control-plane|etcd`). Exits non-zero when a check fails.
import { definePlaybook } from '../lib/types.ts';
import { stackVariables } from '../vars/schema.ts';
import verify from '../roles/verify/index.ts';

export default definePlaybook({
  name: 'verify',
  description: "the guide's three HA checks under load through the LB: a gateway, a dashboard, an etcd member stopped in turn",
  variables: stackVariables,
  plays: [{ name: 'verify', hosts: 'lb', role: verify, runOnce: true }],
});
