// What a member must do, from what every member's host shows: pure, so each case is a table test.
// The rules (docs/OPERATIONS.md, "etcd safety"):
//  - a host that could not be read is UNKNOWN, never "empty": no member that needs a change is touched then
//  - bootstrap (state new) only when no member has data, no etcd container runs and no client port answers,
//    and the stack's confs, all read, name no etcd endpoint outside the group
//  - a member whose data sits in another dir than etcd_data_dir is migrated (moved), never started empty
//  - a rejoin (member remove/add, data wiped) only on a positive observation: no data, container not serving
//  - has data, container missing/stopped/stale spec -> recreate, one member at a time
import type { SurveyFacts, SurveyedContainer } from './commands.ts';
import type { StackView } from './stack-confs.ts';

export type MemberSurvey = { host: string } & ({ known: true } & SurveyFacts | { known: false; error: string });
export type KnownSurvey = Extract<MemberSurvey, { known: true }>;

/** What this member should look like: its container's spec label and its data dir. */
export interface Wanted {
  spec: string;
  dataDir: string;
}

export type MemberAction =
  | { kind: 'none' }
  | { kind: 'bootstrap' }
  | { kind: 'recreate'; reason: string }
  | { kind: 'migrate'; from: string }
  | { kind: 'rejoin'; peer: string };

/** The etcd container of a surveyed host (named etcd; the survey also lists other etcd-labelled ones). */
export const etcdContainer = (r: KnownSurvey): SurveyedContainer | undefined => r.containers.find((c) => c.name === 'etcd') ?? r.containers[0];

/** The member is down: it can be started without taking anything down. */
export const isDown = (r: MemberSurvey): boolean => r.known && !etcdContainer(r)?.running;

/** No member data on the host at all (neither in the data dir nor in a container's mount): a joiner, or lost. */
export const isEmpty = (r: MemberSurvey): boolean => r.known && !r.hasData && !r.containers.some((c) => c.mountHasData);

/** Why a cluster already exists (empty when none does): each reason names the host. */
export function clusterEvidence(survey: KnownSurvey[], wantDir: string): string[] {
  return survey.flatMap((r) => [
    ...(r.hasData ? [`${r.host} has member data in ${wantDir}`] : []),
    ...r.containers.filter((c) => c.running).map((c) => `${r.host} runs etcd container ${c.name}${c.dataMount ? ` (data in ${c.dataMount})` : ''}`),
    ...r.containers.filter((c) => !c.running && c.mountHasData && c.dataMount !== wantDir).map((c) => `${r.host} has member data in ${c.dataMount}`),
    ...(r.port === 'open' ? [`something answers on ${r.host}'s etcd client port`] : []),
    ...(r.port === 'unknown' ? [`${r.host}'s etcd client port neither answered nor refused`] : []),
  ]);
}

const unknownText = (rows: MemberSurvey[]): string =>
  rows.map((r) => `${r.host} (${r.known ? 'known' : r.error})`).join(', ');

/** This member's own row; a member that could not be read fails its step with what could not be read. */
export function knownSelf(survey: MemberSurvey[], me: string): KnownSurvey {
  const self = survey.find((r) => r.host === me);
  if (!self) throw new Error(`${me} is not among the surveyed etcd members`);
  if (!self.known) {
    throw new Error(
      `could not read the etcd state of ${me}: ${self.error}. Nothing was changed on any member; ` +
        `make the host answer (is dockerd responding? \`sudo docker ps\` on ${me}) and rerun`,
    );
  }
  return self;
}

/** Nothing to do: the member has data and its container runs with the wanted spec (the other members are not needed). */
export function isConverged(self: KnownSurvey, want: Wanted): boolean {
  const c = etcdContainer(self);
  return self.hasData && !!c?.running && c.spec === want.spec;
}

export function planMember(survey: MemberSurvey[], me: string, want: Wanted): MemberAction {
  const self = knownSelf(survey, me);
  const c = etcdContainer(self);
  if (isConverged(self, want)) return { kind: 'none' };

  const unknown = survey.filter((r) => !r.known);
  if (unknown.length) {
    throw new Error(
      `etcd member ${me} needs a change but the state of ${unknownText(unknown)} could not be read. ` +
        `Nothing was changed on any member: make ${unknown.map((r) => r.host).join(', ')} answer and rerun`,
    );
  }
  const known = survey as KnownSurvey[];

  if (self.hasData) {
    if (c && c.dataMount && c.dataMount !== want.dataDir && c.mountHasData) {
      throw new Error(
        `etcd member ${me} has member data both in ${want.dataDir} and in ${c.dataMount} (its container's data dir): ` +
          `keep the one its container uses (set etcd_data_dir: ${c.dataMount}) or move the other away, then rerun`,
      );
    }
    return { kind: 'recreate', reason: !c ? 'no container' : !c.running ? 'container stopped' : 'spec changed' };
  }
  // Its data lives in the container's old data dir: move it, one member at a time.
  if (c && c.dataMount && c.dataMount !== want.dataDir && c.mountHasData) return { kind: 'migrate', from: c.dataMount };

  const evidence = clusterEvidence(known, want.dataDir);
  if (!evidence.length) return { kind: 'bootstrap' };

  // A cluster exists: this member may be wiped and re-added only when it is positively empty and not serving.
  if (c?.running) {
    throw new Error(
      `etcd member ${me}: its container runs but ${want.dataDir} holds no member data, so what it serves is unknown. ` +
        `Not rejoining it (that would remove the member and wipe its data): check \`docker inspect etcd\` on ${me}; ` +
        `stop the container if its data is truly gone, then rerun`,
    );
  }
  if (self.port !== 'closed') {
    throw new Error(
      `etcd member ${me} has no data in ${want.dataDir}, but its etcd client port ${self.port === 'open' ? 'answers' : 'neither answers nor refuses'}: ` +
        `not rejoining it while something may serve there (a cluster exists: ${evidence.join('; ')})`,
    );
  }
  const peer = known.find((r) => r.host !== me && r.hasData && etcdContainer(r)?.running);
  if (!peer) {
    throw new Error(
      `etcd member ${me} has no data and no other member is running to rejoin through (${evidence.join('; ')}): ` +
        `start a member that has data first (or restore a snapshot). Not bootstrapping a new cluster over the existing one`,
    );
  }
  return { kind: 'rejoin', peer: peer.host };
}

/** What `endpoint status` of the stack's endpoints outside the group found, asked from an etcd host. */
export interface OutsideAnswer {
  from: string;
  answered: string[];
  /** etcdctl's last line when none answered. */
  why: string;
}

/**
 * The last word before a bootstrap: the confs of the rest of the stack. Unread is unknown, never "none"; an
 * endpoint outside the group means the stack already has a cluster (answering or not: down is not gone).
 * Returns why not, or undefined.
 */
export function stackRefusal(view: StackView, answer?: OutsideAnswer): string | undefined {
  if (view.unread.length) {
    return (
      `the etcd endpoints the stack is configured with could not be read on ${view.unread.map((u) => `${u.host} (${u.error})`).join(', ')}, ` +
      `and unknown is not "none": make ${view.unread.map((u) => u.host).join(', ')} answer and rerun. Nothing was changed on any member`
    );
  }
  if (!view.outside.length) return undefined;
  const found = view.outside.map((o) => `${o.endpoint} (${o.where.join(', ')})`).join('; ');
  const answered = answer?.answered ?? [];
  const heard = answered.length
    ? `${answered.join(', ')} answer${answered.length > 1 ? '' : 's'} \`endpoint status\` (asked from ${answer!.from}): that cluster serves the stack now`
    : `none answered \`endpoint status\`${answer ? ` from ${answer.from} (${answer.why || 'no answer'})` : ''}: that cluster may be down, which is not gone`;
  return (
    `the stack is configured with etcd endpoints outside the etcd group: ${found}; ${heard}. Put that cluster's hosts back in the ` +
    `etcd group and add the new hosts one per run (each joins the running cluster), then take the old hosts out of the group and ` +
    `remove their members (\`etcdctl member remove\`).${answered.length ? '' : ' Only if that cluster is gone for good and its data is not wanted: point the confs at the etcd group first (the dashboard and gateway playbooks), then rerun.'} ` +
    `Nothing was changed on any member`
  );
}

/**
 * Right before acting, inside the play-wide lock: the member, read again, still shows what the action was
 * planned on. Returns why not, or undefined.
 */
export function stillValid(action: MemberAction, fresh: MemberSurvey, want: Wanted): string | undefined {
  if (!fresh.known) return `could not read ${fresh.host} again before acting: ${fresh.error}`;
  const c = etcdContainer(fresh);
  switch (action.kind) {
    case 'rejoin':
      if (!fresh.dirExists) return `${want.dataDir} does not exist on ${fresh.host}`;
      if (fresh.hasData) return `${want.dataDir} on ${fresh.host} holds member data now`;
      if (c?.running) return `the etcd container on ${fresh.host} runs now`;
      if (fresh.port !== 'closed') return `something ${fresh.port === 'open' ? 'answers' : 'may answer'} on ${fresh.host}'s etcd client port`;
      return undefined;
    case 'migrate':
      if (fresh.hasData) return `${want.dataDir} on ${fresh.host} holds member data now`;
      if (!c || c.dataMount !== action.from || !c.mountHasData) return `${action.from} on ${fresh.host} is no longer the container's data dir with data`;
      return undefined;
    case 'recreate':
      return fresh.hasData ? undefined : `${want.dataDir} on ${fresh.host} holds no member data now`;
    default:
      return undefined;
  }
}

/** Taking a member down (or re-adding one) needs every other member healthy right now; else why not. */
export function othersUnhealthy(me: string, health: { host: string; healthy: boolean; why: string }[]): string | undefined {
  const bad = health.filter((h) => h.host !== me && !h.healthy);
  if (!bad.length) return undefined;
  return (
    `not taking etcd member ${me} down: ${bad.map((h) => `${h.host} is not healthy (${h.why})`).join('; ')}. ` +
    `Bring ${bad.length > 1 ? 'them' : 'it'} back first (the next run starts a stopped member before it touches healthy ones)`
  );
}

/** Before changing a running cluster, a snapshot from a member that is up: this one first, then the others. */
export function snapshotSources(survey: MemberSurvey[], me: string): string[] {
  const up = survey.filter((r): r is KnownSurvey => r.known && (r.hasData || !!etcdContainer(r)?.mountHasData) && !!etcdContainer(r)?.running).map((r) => r.host);
  return [...up.filter((h) => h === me), ...up.filter((h) => h !== me)];
}
