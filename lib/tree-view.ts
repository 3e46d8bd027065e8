// The listr2 tree on a TTY. It shows a line per play and, under a play, only the hosts that are running or
// went wrong: a finished play collapses to `✔ etcd (3 hosts) 2.1 s, 0 changed`, so a 7-host site fits one
// screen. Redraws are throttled: listr2 redraws the whole tree on every title change, and a per-step tree
// redrawn on every event made a converged run three times slower in a terminal than in a pipe (2 cores,
// the SSH crypto in the same process).
import { DefaultRenderer, Listr, type ListrTask } from 'listr2';
import type { Listener, NodeStatus, RunEvent } from './events.ts';
import { errorLines, recapLines, warningLines } from './report.ts';
import { hostEndLine, RunView } from './run-view.ts';
import type { Renderer } from './render.ts';
import type { StepResult } from './types.ts';

/** At most this many redraws a second (the spinner alone asks for ten). */
const REDRAWS_PER_SECOND = 6;
/** Changed steps listed after the tree; past this, the count and where the full list is. */
const CHANGED_LINES_MAX = 30;

class ThrottledRenderer extends DefaultRenderer {
  private pending?: NodeJS.Timeout;
  override update(): void {
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      super.update();
    }, 1000 / REDRAWS_PER_SECOND);
  }
  override end(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
    super.end();
  }
}

type Titled = { title: string | undefined };
type NodeEnd = { status: NodeStatus; reason?: string };

/** Lines printed after the tree for the steps that changed something (the tree itself hides them). */
export function changedLines(results: StepResult[], max = CHANGED_LINES_MAX): string[] {
  const changed = results.filter((r) => r.status === 'changed');
  if (!changed.length) return [];
  const lines = changed.slice(0, max).map((r) => `  ${r.host} ${r.play} › ${r.step}${r.changes[0] ? `: ${r.changes[0]}` : ''}`);
  if (changed.length > max) lines.push(`  … and ${changed.length - max} more (every change: --json, or the run's logs in .runs/)`);
  return [`CHANGED (${changed.length})`, ...lines];
}

export function treeRenderer(o: { diff: boolean; write(line: string): void }): Renderer {
  const view = new RunView();
  const plays = new Map<string, Titled>();
  const hosts = new Map<string, Titled>();
  const ends = new Map<string, (end: NodeEnd) => void>();
  const ended = new Map<string, NodeEnd>();
  const diffs: string[] = [];
  let running: Promise<unknown> = Promise.resolve();

  const setTitle = (task: Titled | undefined, title: string) => {
    if (task && task.title !== title) task.title = title;
  };
  const refresh = (play: string, host?: string) => {
    if (!view.plays.has(play)) return;
    setTitle(plays.get(play), view.playTitle(play));
    if (host) setTitle(hosts.get(`${play}/${host}`), view.hostTitle(play, host));
  };

  const hostTask = (play: string, host: string): ListrTask => ({
    title: '',
    task: async (_, task) => {
      const key = `${play}/${host}`;
      hosts.set(key, task);
      setTitle(task, view.hostTitle(play, host));
      const end = ended.get(key) ?? (await new Promise<NodeEnd>((resolve) => ends.set(key, resolve)));
      if (end.status === 'ok' || end.status === 'changed') return setTitle(task, '');
      if (end.status === 'skipped') return task.skip(hostEndLine(host, end));
      throw new Error(hostEndLine(host, end));
    },
  });

  const listener: Listener = (e: RunEvent) => {
    view.apply(e);
    switch (e.type) {
      case 'run:start': {
        const tasks: ListrTask[] = e.plays
          .filter((p) => p.hosts.length)
          .map((p) => ({
            title: view.playTitle(p.name),
            task: (_, task) => {
              plays.set(p.name, task);
              setTitle(task, view.playTitle(p.name));
              return task.newListr(p.hosts.map((h) => hostTask(p.name, h)), { concurrent: true, exitOnError: false });
            },
          }));
        const listr = new Listr(tasks, {
          concurrent: true,
          exitOnError: false,
          renderer: ThrottledRenderer as unknown as 'default',
          rendererOptions: { collapseSubtasks: true, collapseSkips: true, collapseErrors: true, formatOutput: 'truncate' },
        });
        running = listr.run().catch(() => undefined);
        return;
      }
      case 'node:start':
      case 'step:start':
        return refresh(e.play, e.host);
      case 'step:end':
        if (o.diff) diffs.push(...e.result.diffs);
        return refresh(e.result.play);
      case 'node:end': {
        const key = `${e.play}/${e.host}`;
        const end = { status: e.status, reason: e.reason };
        ended.set(key, end);
        refresh(e.play);
        ends.get(key)?.(end);
        return;
      }
      case 'run:end':
        running = running.then(() => {
          for (const d of diffs) o.write(d.replace(/\n$/, ''));
          for (const line of [...changedLines(e.summary.results), ...errorLines(e.summary), ...warningLines(e.summary), ...recapLines(e.summary)]) o.write(line);
        });
        return;
      default:
        return;
    }
  };
  return { listener, done: () => running.then(() => undefined) };
}
