// The local transport: controller-side steps (`localhost`, `ansible_connection: local`) run through zx.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaseTransport, tempName, timedResult, type RawRun } from './transport.ts';
import type { ExecResult } from './types.ts';

export class LocalTransport extends BaseTransport {
  readonly kind = 'local' as const;

  protected async runRaw(run: RawRun): Promise<ExecResult> {
    // The line is already POSIX-quoted for sh; zx only passes it as one argument.
    const { $ } = await import('zx/core'); // not 'zx': its vendored extras cost 0.1 s to load (lib/remote-shell.ts)
    const p = $({ input: run.stdin, nothrow: true, quiet: true, timeout: run.timeoutMs + 10_000 })`/bin/sh -c ${run.command}`;
    p.stdout.on('data', (b: Buffer) => run.onOutput?.(b.toString(), 'stdout'));
    p.stderr.on('data', (b: Buffer) => run.onOutput?.(b.toString(), 'stderr'));
    const out = await p;
    return timedResult(out.exitCode, out.stdout, out.stderr, run.timeoutMs, out.signal === 'SIGTERM' && out.exitCode === null);
  }

  protected async stage(source: { content: string | Buffer } | { localPath: string }): Promise<{ path: string; removable: boolean }> {
    if ('localPath' in source) return { path: source.localPath, removable: false };
    const path = join(tmpdir(), `.${tempName()}.stage`);
    writeFileSync(path, source.content, { mode: 0o600 });
    return { path, removable: true };
  }

  async close(): Promise<void> {}
}
