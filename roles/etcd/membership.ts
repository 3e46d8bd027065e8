// Members in the cluster that the etcd group no longer lists (a host taken out of the inventory). Removing a
// member is destructive and changes the quorum: gatewright never does it by itself; it says which member,
// and how to remove it by hand, once the member's host is retired (docs/OPERATIONS.md).
import { defineStep, type StepContext } from '../../lib/types.ts';
import { etcdctl } from '../../ops/etcd.ts';
import { parseMemberList, type MemberLine } from '../../ops/etcdctl.ts';
import { etcdMembers, etcdPeerUrl, firstHostOfPlay } from '../../ops/topology.ts';
import { lastClusterRead } from './health.ts';

/** The members whose peer URL is none of the group's (name alone can be changed by `etcd_name`). */
export function unlistedMembers(members: MemberLine[], wantedPeerUrls: string[]): MemberLine[] {
  return members.filter((m) => !m.peerUrls.some((u) => wantedPeerUrls.includes(u)));
}

const wantedPeerUrls = (ctx: StepContext): string[] => etcdMembers(ctx.inventory, ctx.vars).map((m) => etcdPeerUrl(m, ctx.vars));

/** The member list: from this host's health read when it has it, else read now. */
async function memberList(ctx: StepContext): Promise<MemberLine[] | string> {
  const read = lastClusterRead(ctx)?.members;
  if (read) return read;
  try {
    const r = await etcdctl(ctx, ['member', 'list'], { nothrow: true });
    return r.ok ? parseMemberList(r.stdout) : `exit ${r.code}`;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export const membershipStep = defineStep({
  name: 'etcd members match the etcd group',
  when: firstHostOfPlay,
  async plan(ctx) {
    if (ctx.check) return [];
    const members = await memberList(ctx);
    if (typeof members === 'string') {
      ctx.warn(`could not read the etcd member list to compare it with the etcd group (${members}): members outside the inventory are not checked this run`);
      return [];
    }
    for (const m of unlistedMembers(members, wantedPeerUrls(ctx))) {
      ctx.warn(
        `etcd member ${m.name || '(unnamed)'} (${m.id}, ${m.peerUrls.join(',')}) is in the cluster but not in the etcd group. ` +
          `gatewright never removes a member by itself: once its host is retired, \`etcdctl member remove ${m.id}\` on a healthy member`,
      );
    }
    return [];
  },
});
