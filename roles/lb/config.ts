// haproxy.cfg: rendered, proven by `haproxy -c` on the host before it replaces the running config,
// then a reload (never a restart) when haproxy is already running.
import { ensureFile } from '../../lib/files.ts';
import type { Change, StepContext } from '../../lib/types.ts';
import { waitFor } from '../../ops/retry.ts';
import { installCandidate, reloadHaproxy, removeFile, validateConfig } from './commands.ts';
import { serverStats } from '../../ops/lb-drain.ts';
import { haproxyFact } from '../../facts/haproxy.ts';
import { lbModel } from './model.ts';
import { haproxyLevel, renderHaproxyConfig, type HaproxyLevel } from './templates.ts';

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
  // The config level the installed haproxy accepts (CentOS 7: 1.5, EL8: 1.8), read fresh after the install step.
  const haproxy = await ctx.fact(haproxyFact, { fresh: true });
  const forced = ctx.vars.lb_haproxy_level as HaproxyLevel | undefined;
  if (forced !== undefined && !['modern', '1.8', '1.5'].includes(forced)) throw new Error(`lb_haproxy_level must be modern, 1.8 or 1.5, got ${JSON.stringify(forced)}`);
  const level = forced ?? haproxyLevel(haproxy.version);
  const content = renderHaproxyConfig(lbModel(ctx.vars, ctx.inventory, ctx.host.name), level);
  const file = await ensureFile(ctx, { path, content, mode: 0o644, owner: 'root:root', become: true });
  if (file.length === 0) return [];
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
      async apply() {
        await ctx.run(reloadHaproxy(haproxy.serviceManager), { become: true });
        // A reload only signals the master: the new worker opens the admin socket (maybe at a new path) a moment
        // later. The steps after this one read that socket, so wait until it answers.
        await waitFor(`${ctx.host.name}: haproxy admin socket after the reload`, Number(ctx.vars.lb_ready_timeout_s), async () => {
          await serverStats(ctx);
          return true;
        });
      },
    });
  }
  return changes;
}
