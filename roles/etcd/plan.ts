// What a member must do, from what every member's host shows: pure, so each case is a table test.
//  - no member anywhere has data            -> bootstrap (state new), all at once
//  - this one lost its data, others have it -> rejoin through a running peer (member remove/add)
//  - has data, container missing/stopped/stale spec -> recreate, one member at a time
export interface MemberSurvey {
  host: string;
  /** False when the host could not be asked: it might hold data, so never bootstrap over it. */
  reachable: boolean;
  hasData: boolean;
  container?: { running: boolean; spec: string };
}

export type MemberAction =
  | { kind: 'none' }
  | { kind: 'bootstrap' }
  | { kind: 'recreate'; reason: string }
  | { kind: 'rejoin'; peer: string };

export function planMember(survey: MemberSurvey[], me: string, wantSpec: string): MemberAction {
  const self = survey.find((r) => r.host === me);
  if (!self) throw new Error(`${me} is not among the surveyed etcd members`);
  const others = survey.filter((r) => r.host !== me);
  const c = self.container;
  const upToDate = !!c && c.running && c.spec === wantSpec;

  if (!self.hasData) {
    const clusterIsNew = others.every((r) => r.reachable && !r.hasData);
    if (clusterIsNew) return upToDate ? { kind: 'none' } : { kind: 'bootstrap' };
    const peer = others.find((r) => r.reachable && r.hasData && r.container?.running);
    if (!peer) {
      throw new Error(
        `etcd member ${me} has no data and no other member is running to rejoin through: ` +
          `start a member that has data first (or restore a snapshot)`,
      );
    }
    return { kind: 'rejoin', peer: peer.host };
  }
  if (upToDate) return { kind: 'none' };
  const reason = !c ? 'no container' : !c.running ? 'container stopped' : 'spec changed';
  return { kind: 'recreate', reason };
}

/** Before changing a running cluster, a snapshot from a member that is up: this one first, then the others. */
export function snapshotSources(survey: MemberSurvey[], me: string): string[] {
  const up = survey.filter((r) => r.reachable && r.hasData && r.container?.running).map((r) => r.host);
  return [...up.filter((h) => h === me), ...up.filter((h) => h !== me)];
}
