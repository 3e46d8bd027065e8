// The StepContext a role sees: this host's vars and connection, facts, delegation, secrets, logging.
import type { FactCache } from './facts.ts';
import { Interrupt } from './interrupt.ts';
import { isLocal } from './patterns.ts';
import type { Redactor } from './redact.ts';
import type { RunEvent } from './events.ts';
import { bindShell } from './remote-shell.ts';
import type { TransportFactory } from './connections.ts';
import { CommandError, type ExecOptions, type ExecResult, type Host, type Inventory, type PlayShared, type StepContext, type Transport, type Vars } from './types.ts';

export interface ContextDeps {
  inventory: Inventory;
  facts: FactCache;
  transports: TransportFactory;
  redactor: Redactor;
  emit(event: RunEvent): void;
  check: boolean;
  verbose: boolean;
  /** Where steps record what they hold down; the runner's, so an interrupt can put it back. */
  interrupt?: Interrupt;
  /** Hosts this run found unreachable (none outside a run). */
  unreachable?: (host: string) => boolean;
}

/** Contexts built outside a run (tests, fixtures) hold things down in a registry nobody interrupts. */
const NEVER_INTERRUPTED = new Interrupt();

/**
 * A host's vars over a role's defaults: one object per pair for the run, not one per context, so what is
 * derived from vars and kept by their object (vars/schema.ts stackVars: a parse of every variable) is derived
 * once per host and role instead of once per step. Nobody writes to a context's vars.
 */
const mergedVars = new WeakMap<Host, WeakMap<Vars, Vars>>();
function varsOf(host: Host, defaults: Vars): Vars {
  let byDefaults = mergedVars.get(host);
  if (!byDefaults) mergedVars.set(host, (byDefaults = new WeakMap()));
  let vars = byDefaults.get(defaults);
  if (!vars) byDefaults.set(defaults, (vars = { ...defaults, ...host.vars }));
  return vars;
}

export interface Scope {
  play: string;
  step: string;
  /** The host whose step this is (log lines and events belong to it, even when delegated). */
  origin: string;
  shared: PlayShared;
  defaults: Vars;
  resolveHost(name: string): Host;
}

/** A transport that connects on first use (delegated hosts are only reached if a step asks). */
function lazyTransport(host: Host, factory: TransportFactory): Transport {
  return {
    kind: isLocal(host) ? 'local' : 'ssh',
    exec: async (command, opts) => (await factory(host)).exec(command, opts),
    put: async (path, content, opts) => (await factory(host)).put(path, content, opts),
    putFile: async (local, path, opts) => (await factory(host)).putFile(local, path, opts),
    close: async () => undefined, // the run closes every connection at the end
  };
}

export function makeContext(host: Host, scope: Scope, deps: ContextDeps): StepContext {
  const transport = lazyTransport(host, deps.transports);
  const where = { host: scope.origin, play: scope.play, step: scope.step };
  const prefix = host.name === scope.origin ? '' : `[on ${host.name}] `;

  const run = async (command: string, opts: ExecOptions = {}): Promise<ExecResult> => {
    const started = Date.now();
    const streaming = (opts.stream || deps.verbose) && !opts.secretOutput;
    const buffers = { stdout: '', stderr: '' };
    const onOutput = (chunk: string, stream: 'stdout' | 'stderr') => {
      opts.onOutput?.(chunk, stream);
      if (!streaming) return;
      const lines = (buffers[stream] + chunk).split('\n');
      buffers[stream] = lines.pop() ?? '';
      for (const line of lines) deps.emit({ type: 'output', ...where, stream, line: prefix + line });
    };
    const record = (r: ExecResult) => {
      if (streaming) for (const s of ['stdout', 'stderr'] as const) if (buffers[s]) deps.emit({ type: 'output', ...where, stream: s, line: prefix + buffers[s] });
      const hidden = opts.secretOutput ? '(output hidden: secret)' : undefined;
      deps.emit({ type: 'command', ...where, target: host.name, command, code: r.code, stdout: hidden ?? r.stdout, stderr: hidden && r.stderr ? hidden : r.stderr, durationMs: Date.now() - started });
    };
    let r: ExecResult;
    try {
      r = await transport.exec(command, { ...opts, nothrow: true, onOutput });
    } catch (error) {
      deps.emit({ type: 'command', ...where, target: host.name, command, code: -1, stdout: '', stderr: String(error), durationMs: Date.now() - started });
      throw error;
    }
    record(r);
    if (!r.ok && !opts.nothrow) throw new CommandError(host.name, command, opts.secretOutput ? { ...r, stdout: '', stderr: '' } : r);
    return r;
  };

  const ctx: StepContext = {
    host,
    inventory: deps.inventory,
    vars: varsOf(host, scope.defaults),
    check: deps.check,
    run,
    $: bindShell(run, host.name),
    fact: (fact, opts) => deps.facts.get(host.name, fact, run, opts),
    transport,
    on: (name) => makeContext(scope.resolveHost(name), scope, deps),
    unreachable: (name) => deps.unreachable?.(name) ?? false,
    secret: (value) => deps.redactor.add(value),
    log: (line) => deps.emit({ type: 'log', ...where, line: prefix + line }),
    warn: (message) => deps.emit({ type: 'warning', ...where, message }),
    play: scope.shared,
    hold: (what, takeDown, restore) => (deps.interrupt ?? NEVER_INTERRUPTED).hold(what, takeDown, restore),
  };
  return ctx;
}
