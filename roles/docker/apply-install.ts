// Carrying out an install plan on a host: offline artifacts into root's private folder, each checked
// against the controller's file (sha256) before anything installs it, then the unit file, then the commands.
import type { StepContext } from '../../lib/types.ts';
import { localSha256, remoteSha256 } from '../../ops/bundle.ts';
import { sh } from '../../lib/shell.ts';
import { checksumRefusal, OFFLINE_DIR_CMD, type InstallPlan } from './install.ts';

const LONG = { become: true, timeoutMs: 900_000, stream: true };

export async function applyInstall(ctx: StepContext, plan: InstallPlan): Promise<void> {
  if (plan.uploads.length) await ctx.run(OFFLINE_DIR_CMD, { become: true });
  for (const u of plan.uploads) {
    const want = await localSha256(u.local).catch((e: Error) => {
      throw new Error(`${u.local}: cannot read it on the controller (${e.message})`);
    });
    // A file left by an earlier run that matches needs no second upload.
    if ((await remoteSha256(ctx, u.remote)) !== want) await ctx.transport.putFile(u.local, u.remote, { mode: u.mode, become: true });
    const refusal = checksumRefusal(ctx.host.name, u, want, await remoteSha256(ctx, u.remote));
    if (refusal) {
      await ctx.run(sh`rm -f -- ${u.remote}`, { become: true, nothrow: true });
      throw new Error(refusal);
    }
  }
  for (const f of plan.files) await ctx.transport.put(f.path, f.content, { mode: 0o644, become: true });
  for (const command of plan.commands) await ctx.run(command, LONG);
}
