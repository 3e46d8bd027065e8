// Rendering lives apart from the runner: a line per event here (not a TTY, or -v); the listr2 tree on a TTY
// in tree-view.ts.
import type { Listener, RunEvent } from './events.ts';
import { errorLines, recapLines, seconds, warningLines } from './report.ts';

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
        if (o.verbose) for (const line of r.planned ?? []) o.write(`    ${line}`);
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
        for (const line of [...errorLines(e.summary), ...warningLines(e.summary), ...recapLines(e.summary)]) o.write(line);
        return;
    }
  };
}
