// An install plan as changes: offline artifacts into root's private folder, each checked against the
// controller's file (sha256) before anything installs it; then the unit file and the install commands, as data.
import type { Change, StepContext } from '../../lib/types.ts';
import { remoteSha256 } from '../../ops/bundle.ts';
import { localSha256 } from '../../ops/local-checksum.ts';
import { checksumRefusal, OFFLINE_DIR_CMD, type InstallPlan, type Upload } from './install.ts';

/** Package installs unpack for minutes on a loaded host. */
export const INSTALL_TIMEOUT_MS = 900_000;

/** The uploads (when any) first, then the plan's files and commands; a refused upload stops before the install. */
export function installChanges(ctx: StepContext, plan: InstallPlan, summary = plan.summary): Change[] {
  const install: Change = {
    summary,
    writes: plan.files.map((f) => ({ path: f.path, content: f.content, mode: 0o644, become: true })),
    commands: plan.commands.map((command) => ({ command, timeoutMs: INSTALL_TIMEOUT_MS, stream: true })),
  };
  if (!plan.uploads.length) return [install];
  return [
    {
      summary: `copy ${plan.uploads.map((u) => u.local).join(', ')} to ${ctx.host.name} (sha256 checked against the controller's)`,
      commands: [OFFLINE_DIR_CMD],
      apply: () => uploadChecked(ctx, plan.uploads),
    },
    install,
  ];
}

async function uploadChecked(ctx: StepContext, uploads: Upload[]): Promise<void> {
  for (const u of uploads) {
    const want = await localSha256(u.local).catch((e: Error) => {
      throw new Error(`${u.local}: cannot read it on the controller (${e.message})`);
    });
    // A file left by an earlier run that matches needs no second upload.
    if ((await remoteSha256(ctx, u.remote)) !== want) await ctx.transport.putFile(u.local, u.remote, { mode: u.mode, become: true });
    const refusal = checksumRefusal(ctx.host.name, u, want, await remoteSha256(ctx, u.remote));
    if (refusal) {
      await ctx.$({ nothrow: true })`rm -f -- ${u.remote}`;
      throw new Error(refusal);
    }
  }
}
