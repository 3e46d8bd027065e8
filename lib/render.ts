// Rendering lives here, apart from the runner: a line per event (not a TTY, or -v), a listr2 tree on a TTY.
import { Listr, type ListrTask } from 'listr2';
import type { Listener, NodeStatus, RunEvent } from './events.ts';
import type { StepResult } from './types.ts';
import { errorLines, recapLines, seconds } from './report.ts';

export interface RenderOptions {
  verbose: boolean;
  diff: boolean;
  write(line: string): void;
}

export interface Renderer {
  listener: Listener;
  /** Resolves when everything is on screen (the tree has finished drawing). */
  done(): Promise<void>;
}

export function plainRenderer(o: RenderOptions): Listener {
  return (e: RunEvent) => {
    switch (e.type) {
      case 'run:start':
        o.write(`PLAYBOOK ${e.playbook}${e.check ? ' (check mode)' : ''}`);
        for (const p of e.plays) if (p.hosts.length) o.write(`  play ${p.name}: ${p.hosts.join(', ')}`);
        return;
      case 'node:start':
        if (o.verbose) o.write(`[${e.host}] ${e.play}: start`);
        return;
      case 'step:end': {
        const r = e.result;
        o.write(`[${r.host}] ${r.play} › ${r.step}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
        for (const [key, value] of Object.entries(r.data ?? {})) o.write(`    ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
        if (o.diff) for (const d of r.diffs) o.write(d.replace(/\n$/, ''));
        return;
      }
      case 'node:end':
        if (e.status === 'skipped' || e.status === 'unreachable' || e.status === 'failed' || o.verbose) {
          o.write(`[${e.host}] ${e.play}: ${e.status.toUpperCase()}${e.reason ? ` (${e.reason})` : ''} ${seconds(e.durationMs)}`);
        }
        return;
      case 'command':
        if (o.verbose) o.write(`[${e.host}] $ ${e.command}${e.target !== e.host ? ` (on ${e.target})` : ''} -> exit ${e.code} ${seconds(e.durationMs)}`);
        return;
      case 'output':
        if (o.verbose) o.write(`[${e.host}]   ${e.stream === 'stderr' ? '!' : '|'} ${e.line}`);
        return;
      case 'log':
        if (o.verbose) o.write(`[${e.host}] # ${e.line}`);
        return;
      case 'run:end':
        for (const line of [...errorLines(e.summary), ...recapLines(e.summary)]) o.write(line);
        return;
    }
  };
}


type Deferred<T> = { promise: Promise<T>; resolve(v: T): void };
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  return { promise: new Promise<T>((r) => (resolve = r)), resolve };
}

type NodeEnd = { status: NodeStatus; reason?: string };

/** The listr2 tree on a TTY: play -> host -> step; titles say ok / changed / skipped. */
export function listrRenderer(o: { diff: boolean; write(line: string): void }): Renderer {
  const steps = new Map<string, Deferred<StepResult | undefined>>();
  const starts = new Map<string, Deferred<void>>();
  const ends = new Map<string, Deferred<NodeEnd>>();
  const get = <T>(m: Map<string, Deferred<T>>, key: string) => m.get(key) ?? (m.set(key, deferred<T>()), m.get(key)!);
  let running: Promise<unknown> = Promise.resolve();
  const diffs: string[] = [];

  const stepTask = (play: string, host: string, step: string): ListrTask => ({
    title: step,
    task: async (_, task) => {
      // A step that never ran (after a failure) ends with its node.
      const r = await Promise.race([get(steps, `${play}/${host}/${step}`).promise, get(ends, `${play}/${host}`).promise.then(() => undefined)]);
      if (!r) return task.skip(`${step}: not run`);
      const title = `${step}: ${r.status}${r.reason ? ` (${r.reason.split('\n')[0]})` : ''}`;
      if (r.status === 'failed') throw new Error(title);
      if (r.status === 'changed') task.title = title;
      else task.skip(title);
    },
  });

  const hostTask = (play: string, host: string, stepNames: string[]): ListrTask => ({
    title: host,
    task: async (_, task) => {
      const key = `${play}/${host}`;
      const first = await Promise.race([get(starts, key).promise.then(() => undefined), get(ends, key).promise]);
      if (first && first.status !== 'ok' && first.status !== 'changed') {
        if (first.status === 'skipped') return task.skip(`${host}: skipped (${first.reason})`);
        throw new Error(`${host}: ${first.status}${first.reason ? ` (${first.reason})` : ''}`);
      }
      return task.newListr(stepNames.map((s) => stepTask(play, host, s)), { concurrent: false, exitOnError: true });
    },
  });

  const listener: Listener = (e: RunEvent) => {
    switch (e.type) {
      case 'run:start': {
        const tasks: ListrTask[] = e.plays
          .filter((p) => p.hosts.length)
          .map((p) => ({
            title: `${p.name} (${p.hosts.length} host${p.hosts.length > 1 ? 's' : ''})`,
            task: (_, task) => task.newListr(p.hosts.map((h) => hostTask(p.name, h, p.steps)), { concurrent: true, exitOnError: false }),
          }));
        const listr = new Listr(tasks, { concurrent: true, exitOnError: false, rendererOptions: { collapseSubtasks: false, collapseSkips: true } });
        running = listr.run().catch(() => undefined);
        return;
      }
      case 'node:start':
        return get(starts, `${e.play}/${e.host}`).resolve();
      case 'step:end':
        if (o.diff) diffs.push(...e.result.diffs);
        return get(steps, `${e.result.play}/${e.result.host}/${e.result.step}`).resolve(e.result);
      case 'node:end': {
        get(ends, `${e.play}/${e.host}`).resolve({ status: e.status, reason: e.reason });
        return;
      }
      case 'run:end':
        running = running.then(() => {
          for (const d of diffs) o.write(d.replace(/\n$/, ''));
          for (const line of [...errorLines(e.summary), ...recapLines(e.summary)]) o.write(line);
        });
        return;
      default:
        return;
    }
  };
  return { listener, done: () => running.then(() => undefined) };
}
