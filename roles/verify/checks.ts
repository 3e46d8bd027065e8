// The guide's three HA checks, each under load through the LB, each restoring what it stopped.
import type { Host, StepContext } from '../../lib/types.ts';
import { waitFor } from '../../ops/retry.ts';
import { stackVars } from '../../vars/schema.ts';
import { clusterState, waitClusterHealthy } from '../../ops/etcd.ts';
import { waitServerStatus, type RollingGroup } from '../../ops/lb-drain.ts';
import { consolePingTarget, consoleViaLb, dataPlaneTarget, gatewayServes, VERIFY_HOST, writeVerifyRoute } from './console.ts';
import { DASHBOARD, ETCD, GATEWAY, withServiceStopped } from './services.ts';
import { sleep, underLoad } from './under-load.ts';
import { GROUPS } from '../../ops/layout.ts';

/** How long a stopped service stays stopped once the LB has noticed, with the load still running. */
const HOLD_MS = 5000;

type Group = keyof typeof GROUPS;
const group = (ctx: StepContext, name: Group): Host[] => ctx.inventory.group(GROUPS[name]);

function pick(ctx: StepContext, name: Group, min: number): Host[] {
  const hosts = group(ctx, name);
  if (hosts.length < min) throw new Error(`this check needs ${min} hosts in group ${GROUPS[name]}, found ${hosts.length}`);
  return hosts;
}

/** Every server of the group in rotation on every LB before one is stopped: else the check proves nothing. */
async function allInRotation(ctx: StepContext, hosts: Host[], lbGroup: RollingGroup) {
  for (const h of hosts) await waitServerStatus(ctx, h.name, lbGroup, 'UP');
}

const within = (ctx: StepContext, what: string, check: () => Promise<true | string>) => waitFor(what, stackVars(ctx).health_timeout, check);

/** 1. A gateway stopped: requests through the data-plane LB keep succeeding. */
export async function gatewayDown(ctx: StepContext): Promise<void> {
  const gateways = pick(ctx, 'gateway', 2);
  const [gw] = gateways;
  await allInRotation(ctx, gateways, 'gateway');
  await underLoad(ctx, dataPlaneTarget(ctx), async () => {
    await withServiceStopped(ctx, gw.name, GATEWAY, async () => {
      await waitServerStatus(ctx, gw.name, 'gateway', 'DOWN');
      await sleep(HOLD_MS);
    });
    await waitServerStatus(ctx, gw.name, 'gateway', 'UP');
  });
}

/** 2. A dashboard stopped: the console answers through the LB and a route written through it reaches every gateway. */
export async function dashboardDown(ctx: StepContext): Promise<void> {
  const dashboards = pick(ctx, 'control', 2);
  const [dash] = dashboards;
  const gateways = group(ctx, 'gateway');
  await allInRotation(ctx, dashboards, 'control');
  await underLoad(ctx, consolePingTarget(ctx), async () => {
    await withServiceStopped(ctx, dash.name, DASHBOARD, async () => {
      await waitServerStatus(ctx, dash.name, 'control', 'DOWN');
      const remove = await writeVerifyRoute(ctx, await consoleViaLb(ctx));
      try {
        for (const gw of gateways) await within(ctx, `the verify route on ${gw.name}`, () => gatewayServes(ctx, gw, VERIFY_HOST));
      } finally {
        await remove();
      }
    });
    await waitServerStatus(ctx, dash.name, 'control', 'UP');
  });
}

/**
 * 3. An etcd member stopped: reads and writes through the dashboard succeed, `endpoint health` shows the
 * others healthy, and a gateway restarted meanwhile starts and serves.
 */
export async function etcdMemberDown(ctx: StepContext): Promise<void> {
  const members = pick(ctx, 'etcd', 3);
  const victim = members[members.length - 1];
  const witness = ctx.on(members[0].name);
  const gateways = pick(ctx, 'gateway', 2);
  const [gw] = gateways;
  await allInRotation(ctx, gateways, 'gateway');
  await waitClusterHealthy(witness);
  await underLoad(ctx, dataPlaneTarget(ctx), async () => {
    await withServiceStopped(ctx, victim.name, ETCD, async () => {
      await within(ctx, `etcd with ${victim.name} stopped`, async () => {
        const { healthy } = await clusterState(witness);
        return healthy === members.length - 1 || `${healthy}/${members.length} endpoints healthy`;
      });
      ctx.report?.('etcd', `endpoint health: ${members.length - 1}/${members.length} healthy with ${victim.name} stopped`);
      const remove = await writeVerifyRoute(ctx, await consoleViaLb(ctx));
      await remove();
      await withServiceStopped(ctx, gw.name, GATEWAY, () => waitServerStatus(ctx, gw.name, 'gateway', 'DOWN'));
      await within(ctx, `${gw.name} serving after its restart`, () => gatewayServes(ctx, gw, stackVars(ctx).smoke_route_host));
      await waitServerStatus(ctx, gw.name, 'gateway', 'UP');
    });
    await waitClusterHealthy(witness);
  });
}
