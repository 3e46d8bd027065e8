// The HA proof: the guide's three checks, each under a steady load through the LB, each restoring what it
// stopped. Read-only for the stack's configuration; it does stop and start services, so never in --check.
// Orchestration by nature: each check is a step's `verify` (roles/verify/checks.ts), nothing is planned.
import { defineRole, defineStep, type Step, type StepContext } from '../../lib/types.ts';
import { dashboardDown, etcdMemberDown, gatewayDown } from './checks.ts';

export default defineRole({
  name: 'verify',
  steps: [
    // 1. `docker compose down` on one gateway: requests through the data-plane LB keep succeeding.
    check('a gateway stopped: the data plane keeps answering through the LB', 'data-plane', gatewayDown),
    // 2. `docker compose down` on one dashboard: the console answers, a route written through it reaches every gateway.
    check('a dashboard stopped: the console answers, a route written reaches every gateway', 'control-plane', dashboardDown),
    // 3. `docker stop` of one etcd member: reads and writes succeed, a gateway restarted meanwhile serves.
    check('an etcd member stopped: reads and writes succeed, a restarted gateway serves', 'etcd', etcdMemberDown),
  ],
});

/** A check: nothing to plan, the proof is its verify; skipped in --check (it stops services). */
function check(name: string, tag: string, run: (ctx: StepContext) => Promise<void>): Step {
  return defineStep({
    name,
    tags: [tag],
    when: (ctx) => !ctx.check || 'check mode: the verify playbook stops and starts services',
    plan: async () => [],
    verify: run,
  });
}
