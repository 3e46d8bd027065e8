// Which (play, host) nodes a run has and what each waits for: patterns, --limit, --tags, needs.
// Pure: --list-hosts and --list-tasks print it; the runner executes it.
import { InputError } from './errors.ts';
import { globToRegExp } from './glob.ts';
import { resolvePattern } from './patterns.ts';
import type { Host, Inventory, Play, Playbook, Step } from './types.ts';

export interface Selection {
  /** A host pattern (the CLI turns `@file`, a run's `failed` file, into one). */
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  /** --start-at-step: begin at the first step of this name (wildcards allowed); earlier work is not run. */
  startAtStep?: string;
}

export interface PlannedPlay {
  play: Play;
  /** Hosts of the play after --limit (what ctx.play.hosts shows). */
  hosts: Host[];
  /** Hosts that get a node (for runOnce too: the runner lets the first that is still alive do the work). */
  runHosts: Host[];
  steps: Step[];
}

export interface Node {
  id: string;
  play: PlannedPlay;
  host: Host;
  /** Earlier nodes this one waits for: the same host's previous play, and the play's `needs`. */
  deps: Node[];
}

export interface RunPlan {
  plays: PlannedPlay[];
  nodes: Node[];
}

export const nodeId = (play: string, host: string): string => `${play}@${host}`;

const intersects = (a: readonly string[], b: readonly string[]): boolean => a.some((x) => b.includes(x));

export function stepTags(play: Play, step: Step): string[] {
  return [...new Set([play.name, play.role.name, ...(play.tags ?? []), ...(step.tags ?? [])])];
}

/** The role's steps this play runs (Play.steps), before any --tags selection. */
export function playSteps(play: Play): Step[] {
  const { only, except } = play.steps ?? {};
  return play.role.steps.filter((step) => {
    const tags = step.tags ?? [];
    if (only && !intersects(tags, only)) return false;
    return !(except && intersects(tags, except));
  });
}

export function selectSteps(play: Play, sel: Selection): Step[] {
  return playSteps(play).filter((step) => {
    const tags = stepTags(play, step);
    if (sel.tags?.length && !intersects(tags, sel.tags)) return false;
    return !(sel.skipTags?.length && intersects(tags, sel.skipTags));
  });
}

export function planRun(playbook: Playbook, inventory: Inventory, sel: Selection = {}): RunPlan {
  checkPlaybook(playbook);
  const limit = sel.limit === undefined ? undefined : new Set(limitHosts(inventory, sel.limit));
  let plays: PlannedPlay[] = playbook.plays.map((play) => {
    let hosts: Host[];
    try {
      hosts = resolvePattern(inventory, play.hosts);
    } catch (error) {
      throw new InputError(`playbook ${playbook.name}, play ${play.name}: ${(error as Error).message}`);
    }
    if (limit) hosts = hosts.filter((h) => limit.has(h.name));
    return { play, hosts, runHosts: hosts, steps: selectSteps(play, sel) };
  });
  if (limit && !plays.some((p) => p.hosts.length && p.steps.length)) {
    throw new InputError(`--limit ${sel.limit} leaves no host to run on in playbook ${playbook.name}`);
  }
  if (sel.startAtStep !== undefined) plays = startAt(plays, sel.startAtStep, playbook.name);

  const byId = new Map<string, Node>();
  const nodes: Node[] = [];
  const lastOnHost = new Map<string, Node>();
  for (const planned of plays) {
    if (planned.steps.length === 0) continue; // not selected: whoever needs it treats it as done
    for (const host of planned.runHosts) {
      const deps = new Set<Node>();
      const previous = lastOnHost.get(host.name);
      if (previous) deps.add(previous);
      for (const need of planned.play.needs ?? []) {
        if (need.scope === 'host') {
          const dep = byId.get(nodeId(need.play, host.name));
          if (dep) deps.add(dep);
        } else {
          for (const n of nodes) if (n.play.play.name === need.play) deps.add(n);
        }
      }
      const node: Node = { id: nodeId(planned.play.name, host.name), play: planned, host, deps: [...deps] };
      nodes.push(node);
      byId.set(node.id, node);
      lastOnHost.set(host.name, node);
    }
  }
  return { plays, nodes };
}

/** `--limit` hosts; selecting none is bad input, as in Ansible (a run that does nothing is no success). */
export function limitHosts(inventory: Inventory, limit: string): string[] {
  const names = resolvePattern(inventory, limit).map((h) => h.name);
  if (!names.length) throw new InputError(`--limit ${limit} selects no host`);
  return names;
}

/** Plays and steps from the first step named `name` on; everything before it is left out, as not selected. */
function startAt(plays: PlannedPlay[], name: string, playbook: string): PlannedPlay[] {
  const re = globToRegExp(name);
  const first = plays.findIndex((p) => p.runHosts.length && p.steps.some((s) => re.test(s.name)));
  if (first < 0) throw new InputError(`--start-at-step "${name}": no step of that name in playbook ${playbook} (see --list-tasks)`);
  return plays.map((p, i) => {
    if (i < first) return { ...p, steps: [] };
    if (i > first) return p;
    return { ...p, steps: p.steps.slice(p.steps.findIndex((s) => re.test(s.name))) };
  });
}

/** Unique play names; `needs` name earlier plays (so the graph has no cycles and reads top-down). */
function checkPlaybook(playbook: Playbook): void {
  const seen = new Set<string>();
  for (const play of playbook.plays) {
    if (seen.has(play.name)) throw new InputError(`playbook ${playbook.name}: two plays named "${play.name}"`);
    for (const need of play.needs ?? []) {
      if (!seen.has(need.play)) {
        const known = playbook.plays.some((p) => p.name === need.play);
        throw new InputError(
          `playbook ${playbook.name}, play ${play.name}: needs "${need.play}", ${known ? 'which comes later (needs must name an earlier play)' : 'which is not a play of this playbook'}`,
        );
      }
    }
    if (play.serial !== undefined && !(Number.isInteger(play.serial) && play.serial > 0)) {
      throw new InputError(`playbook ${playbook.name}, play ${play.name}: serial must be a positive integer`);
    }
    seen.add(play.name);
  }
}
