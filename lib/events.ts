// What the runner tells the world. The core only emits these; render.ts and report.ts listen.
import type { StepResult } from './types.ts';

export type NodeStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export type RunEvent = (
  | { type: 'run:start'; playbook: string; check: boolean; plays: { name: string; hosts: string[]; steps: string[] }[] }
  | { type: 'node:start'; play: string; host: string }
  | { type: 'step:start'; play: string; host: string; step: string }
  | { type: 'step:end'; result: StepResult }
  | { type: 'node:end'; play: string; host: string; status: NodeStatus; reason?: string; durationMs: number }
  | {
      type: 'command';
      host: string;
      /** The host the command ran on (differs from `host` under ctx.on delegation). */
      target: string;
      play: string;
      step: string;
      command: string;
      code: number;
      stdout: string;
      stderr: string;
      durationMs: number;
    }
  | { type: 'output'; host: string; play: string; step: string; stream: 'stdout' | 'stderr'; line: string }
  | { type: 'log'; host: string; play: string; step: string; line: string }
  | { type: 'warning'; host: string; play: string; step: string; message: string }
  | { type: 'run:end'; summary: RunSummary }
) & {
  /** When it happened (ISO 8601), on an event told later: the first reads' events wait until the run holds its lock. */
  at?: string;
};

export interface HostCounts {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

export interface RunSummary {
  playbook: string;
  check: boolean;
  startedAt: string;
  durationMs: number;
  hosts: Record<string, HostCounts>;
  results: StepResult[];
  nodes: { play: string; host: string; status: NodeStatus; reason?: string; durationMs: number }[];
  /** Every failure and unreachable host, reported together at the end. */
  errors: { play: string; host: string; step?: string; message: string; unreachable: boolean }[];
  /** What steps warned about (ctx.warn), each message once with the first host that said it. */
  warnings?: RunWarning[];
  /** The signal that interrupted the run (exit code 128 + its number), when one did. */
  interrupted?: 'SIGINT' | 'SIGTERM' | 'SIGHUP';
  exitCode: number;
}

export type Listener = (event: RunEvent) => void;

export interface RunWarning {
  play: string;
  host: string;
  message: string;
}

/** Adds a warning unless the same message is already there: the recap says it once, not once per host. */
export function noteWarning(warnings: RunWarning[], w: RunWarning): void {
  if (!warnings.some((x) => x.message === w.message)) warnings.push({ play: w.play, host: w.host, message: w.message });
}
