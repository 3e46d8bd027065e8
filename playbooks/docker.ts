// Docker >= 20.10.7 installed, enabled and running on every host, with compose (the site playbook runs
// preflight before it). `npm run play docker -- -i inventory/lab.yaml`
import { definePlaybook } from '../lib/types.ts';
import { stackVariables } from '../vars/schema.ts';
import docker from '../roles/docker/index.ts';

export default definePlaybook({
  name: 'docker',
  description: 'Docker (distro, docker-ce or offline) enabled and running, with compose',
  variables: stackVariables,
  plays: [{ name: 'docker', hosts: 'all', role: docker }],
});
