// Ad-hoc commands, as `ansible <pattern> -a '<command>' [-b]` runs them: one shell command on every selected
// host in parallel, over the same connections, host-key checks, sudo and redaction as a playbook run, each
// host's output printed as it finishes, Ansible's way (`lab1 | CHANGED | rc=0 >>`).
import pLimit from 'p-limit';
import { errorMessage, UnreachableError } from './errors.ts';
import type { Listener } from './events.ts';
import { exitCodeFor } from './runner.ts';
import type { Redactor } from './redact.ts';
import type { TransportFactory } from './connections.ts';
import type { Host } from './types.ts';
import { asBool } from './vars.ts';

export interface AdhocOptions {
  command: string;
  /** -b: through sudo (else the host's ansible_become). */
  become: boolean;
  /** --become-user, else the host's ansible_become_user; root when neither. */
  becomeUser?: string;
  forks: number;
}

export interface AdhocResult {
  host: string;
  status: 'changed' | 'failed' | 'unreachable';
  code?: number;
  stdout: string;
  stderr: string;
}

export interface AdhocDeps {
  transports: TransportFactory;
  redactor: Redactor;
  write(line: string): void;
  /** The per-host log (lib/report.ts runLog): the command and its output go there too. */
  log?: Listener;
}

/** Ansible's ad-hoc line for a host's result, then its output. */
export function adhocLines(r: AdhocResult): string[] {
  const head = r.status === 'unreachable' ? `${r.host} | UNREACHABLE! =>` : `${r.host} | ${r.status.toUpperCase()} | rc=${r.code} >>`;
  const body = [r.stdout, r.stderr].map((t) => t.replace(/\n$/, '')).filter(Boolean);
  return [head, ...body];
}

export async function runAdhoc(hosts: Host[], o: AdhocOptions, deps: AdhocDeps): Promise<{ exitCode: number; results: AdhocResult[] }> {
  const limit = pLimit(Math.max(1, o.forks));
  const results = await Promise.all(
    hosts.map((host) =>
      limit(async (): Promise<AdhocResult> => {
        const become = o.become || asBool(host.vars.ansible_become);
        const becomeUser = o.becomeUser ?? (host.vars.ansible_become_user as string | undefined);
        const started = Date.now();
        const log: Listener = (e) => deps.log?.(deps.redactor.redactDeep(e));
        log({ type: 'node:start', play: 'adhoc', host: host.name });
        let result: AdhocResult;
        try {
          const t = await deps.transports(host);
          const r = await t.exec(o.command, { become, becomeUser: become ? becomeUser : undefined, nothrow: true });
          result = { host: host.name, status: r.ok ? 'changed' : 'failed', code: r.code, stdout: r.stdout, stderr: r.stderr };
          log({ type: 'command', host: host.name, target: host.name, play: 'adhoc', step: 'command', command: o.command, code: r.code, stdout: r.stdout, stderr: r.stderr, durationMs: Date.now() - started });
        } catch (error) {
          const unreachable = error instanceof UnreachableError;
          result = { host: host.name, status: unreachable ? 'unreachable' : 'failed', stdout: '', stderr: errorMessage(error) };
        }
        const clean = deps.redactor.redactDeep(result);
        for (const line of adhocLines(clean)) deps.write(line);
        return clean;
      }),
    ),
  );
  const counts = Object.fromEntries(
    results.map((r) => [r.host, { ok: 0, changed: 0, skipped: 0, failed: r.status === 'failed' ? 1 : 0, unreachable: r.status === 'unreachable' ? 1 : 0 }]),
  );
  return { exitCode: exitCodeFor({ hosts: counts }), results };
}
