// What the terminal tree shows, as plain state: one line per play, and under a play only its running and
// failed hosts. Kept apart from listr2 so the titles are tested without a terminal.
import type { NodeStatus, RunEvent } from './events.ts';
import { seconds } from './report.ts';

interface HostView {
  step?: string;
  end?: { status: NodeStatus; reason?: string };
}

interface PlayView {
  hosts: Map<string, HostView>;
  startedAt?: number;
  endedAt?: number;
  changedSteps: number;
}

export class RunView {
  readonly plays = new Map<string, PlayView>();

  constructor(private readonly now: () => number = Date.now) {}

  apply(e: RunEvent): void {
    switch (e.type) {
      case 'run:start':
        for (const p of e.plays) {
          if (p.hosts.length) this.plays.set(p.name, { hosts: new Map(p.hosts.map((h) => [h, {}])), changedSteps: 0 });
        }
        return;
      case 'node:start': {
        const play = this.plays.get(e.play);
        if (!play) return;
        play.startedAt ??= this.now();
        play.hosts.get(e.host)!.step = 'connecting';
        return;
      }
      case 'step:start': {
        const host = this.plays.get(e.play)?.hosts.get(e.host);
        if (host) host.step = e.step;
        return;
      }
      case 'step:end': {
        const play = this.plays.get(e.result.play);
        if (play && e.result.status === 'changed') play.changedSteps++;
        return;
      }
      case 'node:end': {
        const play = this.plays.get(e.play);
        const host = play?.hosts.get(e.host);
        if (!play || !host) return;
        host.end = { status: e.status, reason: e.reason };
        host.step = undefined;
        if ([...play.hosts.values()].every((h) => h.end)) play.endedAt = this.now();
        return;
      }
      default:
        return;
    }
  }

  /** `etcd (3 hosts) 2.1 s, 1 changed` once done; `etcd (3 hosts) · 1/3 done` while running; `· waiting` before. */
  playTitle(name: string): string {
    const play = this.plays.get(name)!;
    const n = play.hosts.size;
    const head = `${name} (${n} host${n > 1 ? 's' : ''})`;
    if (play.startedAt === undefined) return `${head} · waiting`;
    const ends = [...play.hosts.values()].filter((h) => h.end).map((h) => h.end!.status);
    const count = (s: NodeStatus) => ends.filter((x) => x === s).length;
    const tally = [
      `${play.changedSteps} changed`,
      ...(['failed', 'unreachable', 'skipped'] as const).filter((s) => count(s)).map((s) => `${count(s)} ${s}`),
    ].join(', ');
    if (play.endedAt !== undefined) return `${head} ${seconds(play.endedAt - play.startedAt)}, ${tally}`;
    return `${head} · ${ends.length}/${n} done, ${tally}`;
  }

  /** A running host's line (`lab1 › etcd member`); '' hides a host that waits or has finished well. */
  hostTitle(play: string, host: string): string {
    const h = this.plays.get(play)?.hosts.get(host);
    if (!h) return '';
    if (h.end) return h.end.status === 'ok' || h.end.status === 'changed' ? '' : hostEndLine(host, h.end);
    return h.step ? `${host} › ${h.step}` : '';
  }

  isDone(play: string, host: string): boolean {
    return !!this.plays.get(play)?.hosts.get(host)?.end;
  }
}

export const hostEndLine = (host: string, end: { status: NodeStatus; reason?: string }): string =>
  `${host}: ${end.status}${end.reason ? ` (${end.reason.split('\n')[0]})` : ''}`;
