// haproxy.cfg: rendered, proven by `haproxy -c` on the host before it replaces the running config,
// then a reload (never a restart) when haproxy is already running.
import { ensureFile } from '../../lib/files.ts';
import type { Change, StepContext } from '../../lib/types.ts';
import { installCandidate, reloadHaproxy, removeFile, validateConfig } from './commands.ts';
import { haproxyFact } from './facts.ts';
import { lbModel } from './model.ts';
import { renderHaproxyConfig } from './templates.ts';

/** Writes `content` next to the live config and asks haproxy whether it would run it; throws its message. */
export async function validateOnHost(ctx: StepContext, path: string, content: string): Promise<void> {
  const candidate = `${path}.gatewright-candidate`;
  await ctx.transport.put(candidate, content, { mode: 0o644, become: true });
  const check = await ctx.run(validateConfig(candidate), { become: true, nothrow: true });
  if (!check.ok) {
    await ctx.run(removeFile(candidate), { become: true });
    const message = `${check.stdout}\n${check.stderr}`.trim().replaceAll(candidate, path);
    throw new Error(`haproxy refused the new ${path} (the running config is untouched):\n${message}`);
  }
  await ctx.run(installCandidate(candidate, path), { become: true });
}

export async function planHaproxyConfig(ctx: StepContext): Promise<Change[]> {
  const path = String(ctx.vars.lb_config_file);
  const content = renderHaproxyConfig(lbModel(ctx.vars, ctx.inventory, ctx.host.name));
  const file = await ensureFile(ctx, { path, content, mode: 0o644, owner: 'root:root', become: true });
  if (file.length === 0) return [];
  const haproxy = await ctx.fact(haproxyFact);
  // Every change of the file goes through validation: the candidate is put in place only when haproxy accepts it.
  const changes: Change[] = [
    {
      summary: file.map((c) => c.summary).join('; ') + ' (validated with haproxy -c first)',
      diff: file.map((c) => c.diff).filter(Boolean).join('\n') || undefined,
      apply: () => validateOnHost(ctx, path, content),
    },
  ];
  if (haproxy.running) {
    changes.push({
      summary: 'reload haproxy (config changed)',
      apply: async () => void (await ctx.run(reloadHaproxy(haproxy.serviceManager), { become: true })),
    });
  }
  return changes;
}
