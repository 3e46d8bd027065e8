// A member joining the running cluster: a host new to it, or one that lost its data. Pure, table-tested.
// etcd's runtime reconfiguration: `member add` one member at a time (each added member counts for the quorum
// before it has started), then start it with initial-cluster-state existing and an ETCD_INITIAL_CLUSTER that is
// exactly the cluster's membership, which etcd checks: the live member list plus itself, never the whole group.
import type { MemberLine } from '../../ops/etcdctl.ts';

/** The host that joins: its member name (ETCD_NAME) and peer URL. */
export interface Joiner {
  host: string;
  name: string;
  peerUrl: string;
}

/**
 * The member the cluster already has at this peer URL (a member whose data is gone). Never by name: default
 * names follow inventory position, so a new host in a retired host's place has that host's name.
 */
export const memberAt = (members: MemberLine[], peerUrl: string): MemberLine | undefined => members.find((m) => m.peerUrls.includes(peerUrl));

/** The candidates the cluster does not have yet, in the order given (inventory order). */
export const newcomers = (members: MemberLine[], candidates: Joiner[]): Joiner[] => candidates.filter((c) => !memberAt(members, c.peerUrl));

const described = (m: MemberLine): string => `${m.name || '(unnamed)'} (${m.id}, ${m.peerUrls.join(',')})`;

/**
 * Why `me` may not join now; undefined when it may. `first` is the newcomer this run adds (at most one per run:
 * each added member raises the quorum before it runs, so a second one would leave no margin while both start).
 */
export function joinRefusal(members: MemberLine[], me: Joiner, first: string | undefined): string | undefined {
  const mine = memberAt(members, me.peerUrl);
  const unstarted = members.find((m) => m !== mine && m.status !== 'started');
  if (unstarted) {
    return (
      `etcd member ${described(unstarted)} was added to the cluster but never started: not adding ${me.host} while it counts for the ` +
      `quorum without voting. Start it, or remove it on a healthy member (\`etcdctl member remove ${unstarted.id}\`), then rerun`
    );
  }
  // etcd keys ETCD_INITIAL_CLUSTER by name: two members of one name would read as one with two URLs.
  const clash = members.find((m) => m !== mine && m.name === me.name);
  if (clash) {
    return (
      `the etcd member name ${me.name} is taken by member ${described(clash)}, which is not ${me.host}. Not removing it: ` +
      `give ${me.host} another etcd_name, or, once that member's host is retired, remove it on a healthy member ` +
      `(\`etcdctl member remove ${clash.id}\`), then rerun`
    );
  }
  if (!mine && first !== undefined && first !== me.host) {
    return `add one etcd host per run: ${first} joins the cluster in this run, ${me.host} in a later one (each new member counts for the quorum before it has started). Nothing was changed for ${me.host}`;
  }
  return undefined;
}

/** ETCD_INITIAL_CLUSTER for `me` joining: every other member as the cluster lists it, then itself. */
export function joinInitialCluster(members: MemberLine[], me: Joiner): string {
  const others = members.filter((m) => !m.peerUrls.includes(me.peerUrl));
  return [...others.flatMap((m) => m.peerUrls.map((u) => `${m.name}=${u}`)), `${me.name}=${me.peerUrl}`].join(',');
}
