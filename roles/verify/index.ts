// The HA proof: the guide's three checks, each under a steady load through the LB, each restoring what it
// stopped. Read-only for the stack's configuration; it does stop and start services, so never in --check.
import { defineRole, defineStep, type Step, type StepContext } from '../../lib/types.ts';
import { LB_DEFAULTS, STACK_DEFAULTS } from '../../ops/defaults.ts';
import { dashboardDown, etcdMemberDown, gatewayDown } from './checks.ts';

function check(name: string, tag: string, run: (ctx: StepContext) => Promise<void>): Step {
  return defineStep({
    name,
    tags: [tag],
    when: (ctx) => !ctx.check || 'check mode: the verify playbook stops and starts services',
    plan: async () => [],
    verify: run,
  });
}

export default defineRole({
  name: 'verify',
  defaults: { ...STACK_DEFAULTS, ...LB_DEFAULTS },
  steps: [
    check('a gateway stopped: the data plane keeps answering through the LB', 'data-plane', gatewayDown),
    check('a dashboard stopped: the console answers, a route written reaches every gateway', 'control-plane', dashboardDown),
    check('an etcd member stopped: reads and writes succeed, a restarted gateway serves', 'etcd', etcdMemberDown),
  ],
});
