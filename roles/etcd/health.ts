// The guide's closing check of the cluster: every endpoint healthy and one leader, read in one command per host
// (ops/etcd.ts readCluster: health, status and the member list). The read that passed is kept for the steps
// after it on the same host (the member list check, the proof that the stored credentials are root's).
import { defineStep, type StepContext } from '../../lib/types.ts';
import type { ClusterRead } from '../../ops/etcdctl.ts';
import { waitClusterHealthy } from '../../ops/etcd.ts';
import { notJoined } from './member.ts';

const key = (ctx: StepContext) => `etcd cluster read ${ctx.host.name}`;

/** The cluster as this host's health gate last read it (undefined in --check, or before the gate). */
export const lastClusterRead = (ctx: StepContext): ClusterRead | undefined => ctx.play.state.get(key(ctx)) as ClusterRead | undefined;

export const healthStep = defineStep({
  name: 'etcd cluster healthy',
  plan: async () => [],
  async verify(ctx) {
    if (!ctx.check) ctx.play.state.set(key(ctx), await waitClusterHealthy(ctx, () => notJoined(ctx)));
  },
});
