// The 3-node etcd cluster alone (Docker must already run): `npm run play etcd -- -i inventory/lab.yaml`
import { definePlaybook } from '../lib/types.ts';
import { stackVariables } from '../vars/schema.ts';
import etcd from '../roles/etcd/index.ts';

export default definePlaybook({
  name: 'etcd',
  description: 'etcd cluster from the offline image tarball, healthy with one leader',
  variables: stackVariables,
  plays: [{ name: 'etcd', hosts: 'etcd', role: etcd }],
});
