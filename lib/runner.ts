// Runs a playbook as a dependency graph over (play, host) nodes: every node starts as soon as what it
// waits for is done; a failed or unreachable host stops its own later plays and whatever needs it.
// Run-once work goes to the first host still alive (play-shared.ts). Once interrupted, no node or step starts.
// Before any node: every host's first batched read (the facts of all its plays, the run lock taken at its head),
// then the lock on every host that read did not lock; the run starts (run:start) only once all hold it.
import pLimit from 'p-limit';
import { makeContext, type ContextDeps } from './context.ts';
import { errorMessage, UnreachableError } from './errors.ts';
import { noteWarning, type HostCounts, type Listener, type NodeStatus, type RunEvent, type RunSummary } from './events.ts';
import { FactCache } from './facts.ts';
import type { Interrupt } from './interrupt.ts';
import { planRun, type Node, type PlannedPlay, type Selection } from './plan.ts';
import { SharedPlay, WHOLE_PLAY } from './play-shared.ts';
import { Redactor } from './redact.ts';
import { loadShell } from './remote-shell.ts';
import { runStep } from './step.ts';
import type { TransportFactory } from './connections.ts';
import { LockHeldError, type RunLock } from './lock.ts';
import type { Fact, Host, Inventory, Playbook, StepResult } from './types.ts';

/** One object for every role without defaults: a host's merged vars are kept per defaults object (lib/context.ts). */
const NO_DEFAULTS = Object.freeze({});

export interface RunOptions extends Selection {
  check?: boolean;
  diff?: boolean;
  /** Hosts worked on at once (default 10). */
  forks?: number;
  verbose?: boolean;
}

export interface RunDeps {
  inventory: Inventory;
  transports: TransportFactory;
  listeners?: Listener[];
  redactor?: Redactor;
  /** Closes every connection; always called at the end. */
  close?: () => Promise<void>;
  /** Set by the CLI's signal handlers: stop starting work, and what steps hold down (ctx.hold) lives here. */
  interrupt?: Interrupt;
  /**
   * The run lock (none in --check): taken at the head of each host's first read, then wherever that did not take
   * it, before any step starts; held anywhere, runPlaybook throws its LockHeldError and nothing has started.
   * `transports` is then the lock's (a host reached later is locked on first contact).
   */
  lock?: Pick<RunLock, 'head' | 'connect' | 'acquire'>;
}

interface Outcome {
  status: NodeStatus;
  /** The failed node this outcome traces back to; `unreachable` when that host could not be reached. */
  cause?: { play: string; host: string; unreachable?: boolean };
}

export const exitCodeFor = (summary: Pick<RunSummary, 'hosts'>, interrupt?: Interrupt): number => {
  if (interrupt?.exitCode) return interrupt.exitCode;
  const counts = Object.values(summary.hosts);
  if (counts.some((c) => c.failed > 0)) return 2;
  if (counts.some((c) => c.unreachable > 0)) return 3;
  return 0;
};

export async function runPlaybook(playbook: Playbook, opts: RunOptions, deps: RunDeps): Promise<RunSummary> {
  const plan = planRun(playbook, deps.inventory, opts);
  const redactor = deps.redactor ?? new Redactor();
  for (const host of deps.inventory.hosts.values()) redactor.addFromVars(host.vars);
  for (const p of playbook.plays) redactor.addFromVars(p.role.defaults ?? {});
  const listeners = deps.listeners ?? [];
  // The first reads' events wait here, stamped, until the run holds its lock and starts: a run refused by a lock
  // tells nothing but its error.
  let held: RunEvent[] | undefined = [];
  const emit = (event: RunEvent) => {
    if (held) return void held.push({ ...event, at: new Date().toISOString() });
    const clean = redactor.redactDeep(event);
    if (clean.type === 'warning') noteWarning((summary.warnings ??= []), clean);
    for (const l of listeners) {
      try {
        l(clean);
      } catch {
        // A broken sink must not stop the run.
      }
    }
  };

  const started = Date.now();
  const summary: RunSummary = { playbook: playbook.name, check: !!opts.check, startedAt: new Date(started).toISOString(), durationMs: 0, hosts: {}, results: [], nodes: [], errors: [], exitCode: 0 };
  const counts = (host: string): HostCounts => (summary.hosts[host] ??= { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0 });
  for (const n of plan.nodes) counts(n.host.name);

  const interrupt = deps.interrupt;
  const ctxDeps: ContextDeps = { inventory: deps.inventory, facts: new FactCache(), transports: deps.transports, redactor, emit, check: !!opts.check, verbose: !!opts.verbose, interrupt, unreachable: (host) => (summary.hosts[host]?.unreachable ?? 0) > 0 };
  const interrupted = () => `interrupted (${interrupt?.signal})`;
  const forks = pLimit(Math.max(1, opts.forks ?? 10));
  const serial = new Map(plan.plays.map((p) => [p.play.name, pLimit(p.play.serial ?? Number.MAX_SAFE_INTEGER)]));
  const rollingStopped = new Map<string, { play: string; host: string }>();
  const shared = new Map(plan.plays.map((p) => [p.play.name, new SharedPlay(p.hosts, () => (interrupt?.requested ? `${interrupted()}: not taking over run-once work` : undefined))]));
  const outcomes = new Map<Node, Promise<Outcome>>();

  const finish = (node: Node, outcome: Outcome, reason: string | undefined, t0: number): Outcome => {
    const entry = { play: node.play.play.name, host: node.host.name, status: outcome.status, reason, durationMs: Date.now() - t0 };
    const sp = shared.get(entry.play)!;
    if (node.play.play.runOnce) sp.stepEnded(WHOLE_PLAY, entry.host, outcome.status);
    sp.nodeEnded(entry.host);
    summary.nodes.push(redactor.redactDeep(entry));
    if (outcome.status === 'unreachable') counts(node.host.name).unreachable = 1;
    if (outcome.status === 'skipped' && outcome.cause) counts(node.host.name).skipped++;
    emit({ type: 'node:end', ...entry });
    return outcome;
  };

  const execute = async (node: Node): Promise<Outcome> => {
    const results = await Promise.all(node.deps.map(async (dep) => ({ dep, outcome: await outcomes.get(dep)! })));
    const t0 = Date.now();
    const blocked = results.find(({ dep, outcome }) => blocks(node, dep, outcome))?.outcome;
    if (blocked) {
      const cause = blocked.cause!;
      return finish(node, { status: 'skipped', cause }, `dependency failed: ${cause.play} on ${cause.host}`, t0);
    }
    const play = node.play.play;
    return serial.get(play.name)!(() =>
      forks(async () => {
        if (interrupt?.requested) return finish(node, { status: 'skipped' }, `${interrupted()}: not started`, t0);
        const stopped = rollingStopped.get(play.name);
        if (stopped) return finish(node, { status: 'skipped', cause: stopped }, `dependency failed: ${stopped.play} on ${stopped.host} (rolling play stopped)`, t0);
        const outcome = await runNode(node, t0);
        if (play.serial && (outcome.status === 'failed' || outcome.status === 'unreachable')) rollingStopped.set(play.name, outcome.cause!);
        return outcome;
      }),
    );
  };

  const runNode = async (node: Node, t0: number): Promise<Outcome> => {
    const { play, steps } = node.play;
    const self = { play: play.name, host: node.host.name };
    const sp = shared.get(play.name)!;
    sp.nodeStarted(node.host.name);
    emit({ type: 'node:start', ...self });
    if (play.runOnce) {
      const turn = await sp.lead(WHOLE_PLAY, node.host.name);
      if (turn !== true) return finish(node, { status: 'skipped' }, turn, t0);
    }
    try {
      await deps.transports(node.host);
      // zx loads while the batch is on the wire: its import is off the start's path (lib/remote-shell.ts).
      await Promise.all([prefetchFacts(node), loadShell()]);
    } catch (error) {
      const message = errorMessage(error);
      summary.errors.push({ ...self, message: redactor.redact(message), unreachable: error instanceof UnreachableError });
      const status = error instanceof UnreachableError ? 'unreachable' : 'failed';
      if (status === 'failed') counts(node.host.name).failed++;
      return finish(node, { status, cause: { ...self, unreachable: status === 'unreachable' } }, message, t0);
    }
    let changed = false;
    for (const step of steps) {
      if (interrupt?.requested) return finish(node, { status: 'skipped' }, `${interrupted()} before step "${step.name}"`, t0);
      const ctx = contextFor(node.play, node.host, step.name);
      emit({ type: 'step:start', ...self, step: step.name });
      const { result, unreachable } = await runStep(step, ctx, { play: play.name, diff: !!opts.diff, changing: () => ctxDeps.facts.changed() });
      record(result);
      sp.stepEnded(step.name, node.host.name, result.status);
      if (result.status === 'failed') {
        summary.errors.push({ ...self, step: step.name, message: redactor.redact(result.reason ?? 'failed'), unreachable: !!unreachable });
        if (unreachable) {
          counts(node.host.name).failed--; // counted as unreachable instead
          return finish(node, { status: 'unreachable', cause: { ...self, unreachable: true } }, result.reason, t0);
        }
        return finish(node, { status: 'failed', cause: self }, `step "${step.name}" failed`, t0);
      }
      changed ||= result.status === 'changed';
    }
    return finish(node, { status: changed ? 'changed' : 'ok' }, undefined, t0);
  };

  // The roles' facts in one batched read per host before any node (firstReads; in --check too: reads are allowed),
  // those of every play the host is in: while nothing changes anywhere (a converged run) they stay current and no
  // play reads again; after a change each play reads its own again as it starts (FactCache keeps the change
  // count). A lost connection makes the host unreachable, as its first command would; any other failure is only
  // logged, and each step then reads its facts alone (never taken as empty).
  const READ_FACTS = "read the role's facts";
  const factsOf = (planned: PlannedPlay, host: Host): readonly Fact<unknown>[] => {
    const role = planned.play.role;
    if (!role.facts || !planned.steps.length) return [];
    return typeof role.facts === 'function' ? role.facts(contextFor(planned, host, READ_FACTS)) : role.facts;
  };
  /** The facts of the plays after `node`'s that its host is in; a play whose facts cannot be listed reports it as it starts. */
  const laterFacts = (node: Node): Fact<unknown>[] => {
    const later = plan.plays.slice(plan.plays.indexOf(node.play) + 1).filter((p) => p.runHosts.includes(node.host));
    return later.flatMap((p) => {
      try {
        return [...factsOf(p, node.host)];
      } catch {
        return []; // that play reports it when it starts
      }
    });
  };
  /** Hosts whose first read (firstReads) was made, until their first node starts. */
  const firstRead = new Set<string>();
  const prefetchFacts = async (node: Node) => {
    const facts = factsOf(node.play, node.host);
    // The host's first node to start reads nothing when its first read was made: that read is current, or it
    // failed and each step reads what it asks for alone (the same batch is not sent twice).
    const covered = firstRead.delete(node.host.name);
    if (!facts.length || covered) return;
    const ctx = contextFor(node.play, node.host, READ_FACTS);
    await ctxDeps.facts.prefetch(node.host.name, facts, ctx.run).catch((error) => {
      if (error instanceof UnreachableError) throw error;
      ctx.log(`facts read one by one: ${errorMessage(error)}`);
    });
  };

  /**
   * Every host's first read, before any node: the facts of all its plays in one batch, the run lock's take at its
   * head (lib/lock.ts). A read that fails is only logged (each step then reads what it asks for; an unreachable
   * host is reported by its first node); a lock held elsewhere is left to `acquire`, which tells.
   */
  const firstReads = (firstNodes: Iterable<Node>) =>
    Promise.all(
      [...firstNodes].map((node) =>
        forks(async () => {
          const host = node.host;
          let facts: Fact<unknown>[] = [];
          try {
            facts = [...factsOf(node.play, host), ...laterFacts(node)];
          } catch {
            // The node reports it as it starts.
          }
          const head = deps.lock?.head(host);
          if (!facts.length && !head) return;
          const ctx = contextFor(node.play, host, READ_FACTS, head && { ...ctxDeps, transports: deps.lock!.connect });
          try {
            await ctxDeps.facts.prefetch(host.name, facts, ctx.run, head);
          } catch (error) {
            if (error instanceof LockHeldError) return; // read nothing: if acquire then takes the lock, the node reads
            if (!(error instanceof UnreachableError)) ctx.log(`facts read one by one: ${errorMessage(error)}`);
          }
          firstRead.add(host.name);
        }),
      ),
    );

  /** The context of `step` of a play on a host: the steps', and the facts' read as the play starts there. */
  const contextFor = (planned: PlannedPlay, host: Host, step: string, over: ContextDeps = ctxDeps) => {
    const self = { play: planned.play.name, host: host.name };
    const view = shared.get(self.play)!.view(step, host.name);
    return makeContext(host, { ...self, step, origin: host.name, shared: view, defaults: planned.play.role.defaults ?? NO_DEFAULTS, resolveHost: (n) => hostNamed(deps.inventory, n) }, over);
  };

  const record = (result: StepResult) => {
    const clean = redactor.redactDeep(result);
    summary.results.push(clean);
    counts(result.host)[result.status]++;
    emit({ type: 'step:end', result: clean });
  };

  try {
    // Each host's first node in the plan: its play is where the host's first read is told.
    const firstNodes = new Map<Host, Node>();
    for (const node of plan.nodes) if (!firstNodes.has(node.host)) firstNodes.set(node.host, node);
    await firstReads(firstNodes.values());
    await deps.lock?.acquire([...firstNodes.keys()], opts.forks);
    const before = held;
    held = undefined;
    emit({ type: 'run:start', playbook: playbook.name, check: !!opts.check, plays: plan.plays.map(describePlay) });
    for (const event of before) emit(event);
    for (const node of plan.nodes) outcomes.set(node, execute(node));
    await Promise.all(outcomes.values());
  } finally {
    // Steps put back what they took down as they end; anything left (a restore that failed) gets one more try.
    const left = await interrupt?.restoreAll();
    for (const message of left ?? []) summary.errors.push({ play: '-', host: '-', message: redactor.redact(`could not put back: ${message}`), unreachable: false });
    await deps.close?.().catch(() => undefined);
  }
  summary.durationMs = Date.now() - started;
  if (interrupt?.signal) summary.interrupted = interrupt.signal;
  summary.exitCode = exitCodeFor(summary, interrupt);
  emit({ type: 'run:end', summary });
  return redactor.redactDeep(summary);
}

/**
 * Does this finished dependency stop `node`? Any failure does, except under a need of scope 'alive' when the
 * dependency's own host was found unreachable (its absence is not a failure of the play `node` builds on).
 */
function blocks(node: Node, dep: Node, outcome: Outcome): boolean {
  if (outcome.status !== 'failed' && outcome.status !== 'unreachable' && !outcome.cause) return false;
  const hostGone = outcome.cause?.unreachable === true && outcome.cause.host === dep.host.name;
  const alive = node.play.play.needs?.some((n) => n.play === dep.play.play.name && n.scope === 'alive') ?? false;
  return !(hostGone && alive && dep.host.name !== node.host.name);
}

const describePlay = (p: PlannedPlay) => ({ name: p.play.name, hosts: p.steps.length ? p.runHosts.map((h) => h.name) : [], steps: p.steps.map((s) => s.name) });

function hostNamed(inventory: Inventory, name: string): Host {
  const host = inventory.hosts.get(name);
  if (!host) throw new Error(`ctx.on("${name}"): no such host in ${inventory.source}`);
  return host;
}
