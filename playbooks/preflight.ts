// Checks every host against the guide's requirements (all problems at once) and opens the firewall
// ports of each host's roles. `npm run play preflight -- -i inventory/lab.yaml`
import { definePlaybook } from '../lib/types.ts';
import { stackVariables } from '../vars/schema.ts';
import preflight from '../roles/preflight/index.ts';

export default definePlaybook({
  name: 'preflight',
  description: 'host requirements (OS, kernel, CPU, memory, disk, ports, Docker, SELinux) and firewall ports',
  variables: stackVariables,
  plays: [{ name: 'preflight', hosts: 'all', role: preflight }],
});
