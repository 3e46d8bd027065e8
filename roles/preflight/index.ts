// preflight: the guide's "prepare the hosts" chapter. Looks at every requirement and reports all of a
// host's problems at once; changes only what it is asked to: the firewall ports and SELinux mode.
// Everything it looks at is read in one batched command per host (the role's facts); each check is a pure
// function of those facts and the preflight_* thresholds (checks.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { defineRole, defineStep, type Change, type StepContext } from '../../lib/types.ts';
import { around } from '../../lib/change.ts';
import { stackVars } from '../../vars/schema.ts';
import { GROUPS } from '../../ops/layout.ts';
import { dockerFact } from '../../facts/docker.ts';
import { haproxyFact } from '../../facts/haproxy.ts';
import { diskFact, machineFact, osFact, timeSyncFact } from '../../facts/os.ts';
import { selinuxFact } from '../../facts/selinux.ts';
import * as check from './checks.ts';
import { checkStep, verdictStep } from './findings.ts';
import { firewallWants, planFirewall, stackSources } from './firewall.ts';
import { containersFact, firewallFact, listenersFact } from './network-facts.ts';
import { claimedPorts, portConflicts, UNKNOWN_HOLDER } from './ports.ts';
import { planSelinux } from './selinux.ts';

export default defineRole({
  name: 'preflight',

  facts: (ctx) => [
    osFact,
    machineFact,
    diskFact(dataDirs(ctx)),
    timeSyncFact,
    dockerFact,
    selinuxFact,
    ...(isLb(ctx) ? [haproxyFact] : []),
    ...(ports(ctx).length ? [listenersFact, containersFact] : []),
    ...(firewallWanted(ctx) === true ? [firewallFact] : []),
  ],
  steps: [
    checkStep('operating system and package manager', async (ctx) => check.checkOs(await ctx.fact(osFact))),
    checkStep('architecture', async (ctx) => check.checkArch(await ctx.fact(machineFact))),
    checkStep('kernel version', async (ctx) => check.checkKernel(await ctx.fact(machineFact))),
    checkStep('CPUs', async (ctx) => check.checkCpus(await ctx.fact(machineFact), stackVars(ctx).preflight_min_cpus)),
    checkStep('memory', async (ctx) => check.checkMemory(await ctx.fact(machineFact), stackVars(ctx).preflight_min_memory_mb)),
    checkStep('free disk under the data directories', async (ctx) =>
      check.checkDisk(await ctx.fact(diskFact(dataDirs(ctx))), stackVars(ctx).preflight_min_disk_mb),
    ),
    checkStep('time synchronisation', async (ctx) => check.checkTimeSync(await ctx.fact(timeSyncFact))),
    checkStep('ports of the host roles are free', portsFree, hasPorts),
    checkStep(
      'Docker version (when installed)',
      async (ctx) => check.checkDockerVersion((await ctx.fact(dockerFact)).version!),
      async (ctx) => ((await ctx.fact(dockerFact)).version ? true : 'Docker is not installed yet'),
    ),
    checkStep(
      'haproxy version (LB hosts, when installed)',
      async (ctx) => check.checkHaproxyVersion((await ctx.fact(haproxyFact)).version!),
      async (ctx) => (!isLb(ctx) ? 'not an LB host' : (await ctx.fact(haproxyFact)).version ? true : 'haproxy is not installed yet (the lb role installs it)'),
    ),
    checkStep('SELinux mode', async (ctx) => check.checkSelinux(await ctx.fact(selinuxFact), stackVars(ctx).preflight_selinux)),
    verdictStep,

    defineStep({
      name: 'SELinux permissive (preflight_selinux: permissive)',
      when: (ctx) => stackVars(ctx).preflight_selinux === 'permissive' || 'preflight_selinux is not permissive',
      async plan(ctx) {
        const commands = planSelinux(await ctx.fact(selinuxFact), 'permissive');
        if (!commands.length) return [];
        return [
          checkedAfter({ summary: 'set SELinux permissive (now and at boot)', commands }, async () => {
            if (planSelinux(await ctx.fact(selinuxFact, { fresh: true }), 'permissive').length) {
              throw new Error('SELinux is still enforcing after setenforce 0 / /etc/selinux/config');
            }
          }),
        ];
      },
    }),

    defineStep({
      name: 'firewall opens the ports of the host roles',
      when: firewallWanted,
      async plan(ctx) {
        const fw = await ctx.fact(firewallFact);
        const wants = openPorts(ctx);
        const plan = planFirewall(fw, wants);
        plan.notes.forEach((note) => ctx.log(note));
        if (!plan.commands.length) return [];
        const where = fw.kind === 'firewalld' ? `firewalld zone ${fw.zone}` : fw.kind === 'ufw' ? 'ufw' : 'iptables INPUT';
        const summary = `open TCP ${plan.ports.join(', ')} in ${where}${wants.some((w) => w.sources) ? ` (${STACK_ONLY_NOTE})` : ''}`;
        return [
          checkedAfter({ summary, commands: plan.commands }, async () => {
            const left = planFirewall(await ctx.fact(firewallFact, { fresh: true }), openPorts(ctx));
            if (left.commands.length) throw new Error(`firewall still not as wanted after the change, for TCP ${left.ports.join(', ')}`);
          }),
        ];
      },
    }),
  ],
});

// ---------------------------------------------------------------- what the steps read

/** Where the stack keeps data on this host: Docker's data-root, etcd's data on etcd hosts, the install dir. */
function dataDirs(ctx: StepContext): string[] {
  const v = stackVars(ctx);
  if (v.preflight_data_dirs) return v.preflight_data_dirs;
  const dirs = [String(v.docker_daemon_options['data-root'] ?? '/var/lib/docker'), v.api7_install_dir];
  if (ctx.host.groups.includes(GROUPS.etcd)) dirs.push(v.etcd_data_dir);
  return dirs;
}

const isLb = (ctx: StepContext): boolean => ctx.host.groups.includes(GROUPS.lb);

function ports(ctx: StepContext) {
  return claimedPorts(ctx.host.groups, stackVars(ctx));
}
/** Ports other hosts and clients reach (loopback-only binds stay closed); etcd's and Prometheus' for the stack only. */
function openPorts(ctx: StepContext) {
  return firewallWants(ports(ctx).filter((c) => !c.local), () => stackSources(ctx.inventory, ctx.vars));
}
function hasPorts(ctx: StepContext): true | string {
  return ports(ctx).length === 0 ? `no ports to claim (groups: ${ctx.host.groups.join(', ') || 'none'})` : true;
}

function firewallWanted(ctx: StepContext): true | string {
  return stackVars(ctx).preflight_open_firewall ? hasPorts(ctx) : 'preflight_open_firewall is false';
}

const STACK_ONLY_NOTE = "etcd's and Prometheus' ports only to the inventory's hosts";

/** How many times a port held by a process ss cannot name is read again, a second apart, before it counts. */
export const UNNAMED_HOLDER_READS = 3;

/**
 * A listener whose holder ss cannot name is a process starting or exiting (dockerd bringing its containers back
 * on a host just booted): unknown, so the ports are read again before that counts as a conflict.
 */
async function portsFree(ctx: StepContext): Promise<check.Finding[]> {
  const claims = ports(ctx);
  for (let read = 1; ; read++) {
    const fresh = read > 1;
    const { available, listeners } = await ctx.fact(listenersFact, { fresh });
    const conflicts = portConflicts(claims, listeners, await ctx.fact(containersFact, { fresh }), stackVars(ctx).preflight_own_containers);
    const unnamed = conflicts.filter((c) => c.holders.includes(UNKNOWN_HOLDER)).map((c) => c.claim.port);
    if (!unnamed.length || read > UNNAMED_HOLDER_READS) return check.checkPorts(available, conflicts, claims.map((c) => c.port));
    ctx.log(`port ${unnamed.join(', ')}: held by a process ss cannot name yet; reading the ports again in 1 s`);
    await sleep(1000);
  }
}

/** The change, then a fresh read that proves it took (a converged host reads nothing twice). */
function checkedAfter(change: Change, proof: () => Promise<void>): Change {
  return around(change, async (inner) => {
    await inner();
    await proof();
  });
}

export { claimedPorts, OWN_CONTAINER_LABEL } from './ports.ts';
