// haproxy.cfg: rendered, proven by `haproxy -c` on the host before it replaces the running config,
// then a reload (never a restart) when haproxy is already running.
import { around, applyChange } from '../../lib/change.ts';
import { CommandError, type Change, type StepContext } from '../../lib/types.ts';
import { stackVars } from '../../vars/schema.ts';
import { waitFor } from '../../ops/retry.ts';
import { serverStatsFact } from '../../ops/lb-drain.ts';
import { configLevel, haproxyFact } from '../../facts/haproxy.ts';
import { installCandidate, reloadHaproxy, removeFile, validateConfig } from './commands.ts';
import { lbModel } from './model.ts';
import { renderHaproxyConfig } from './templates.ts';

export const candidateOf = (path: string): string => `${path}.gatewright-candidate`;

/** haproxy.cfg as this LB host should have it, at the level its installed haproxy accepts. */
export async function wantedConfig(ctx: StepContext): Promise<string> {
  const v = stackVars(ctx);
  // CentOS 7 ships 1.5, EL8 1.8; the version fact was refreshed by the install step when it installed.
  const level = configLevel((await ctx.fact(haproxyFact)).version, v.lb_haproxy_level);
  return renderHaproxyConfig(lbModel(v, ctx.inventory, ctx.host.name), level);
}

/**
 * The candidate goes next to the live config, `haproxy -c` judges it, and only then it replaces the live one
 * (mode, owner, atomic rename). Refused: the candidate is removed and haproxy's message names the live path.
 */
export function installConfig(ctx: StepContext, path: string, content: string, summary: string, diff?: string): Change {
  const candidate = candidateOf(path);
  const validate = validateConfig(candidate);
  const change: Change = {
    summary,
    diff,
    writes: [{ path: candidate, content, mode: 0o644, become: true }],
    commands: [validate, installCandidate(candidate, path)],
  };
  return around(change, async (inner) => {
    try {
      await inner();
    } catch (e) {
      if (!(e instanceof CommandError && e.command === validate)) throw e;
      await ctx.run(removeFile(candidate), { become: true });
      const message = `${e.result.stdout}\n${e.result.stderr}`.trim().replaceAll(candidate, path);
      throw new Error(`haproxy refused the new ${path} (the running config is untouched):\n${message}`);
    }
  });
}

/** Writes `content` to `path` through the same validation as the role does (the integration tests use it). */
export const validateOnHost = (ctx: StepContext, path: string, content: string): Promise<void> =>
  applyChange(ctx, installConfig(ctx, path, content, `install ${path}`));

/**
 * `systemctl reload haproxy`, then a wait: a reload only signals the master, and the new worker opens the admin
 * socket (maybe at a new path) a moment later. The steps after this one read that socket; CI failed on the race.
 * The read that ends the wait is memoised: it is the stats the next steps look at.
 */
export function reloadConfig(ctx: StepContext, serviceManager: Parameters<typeof reloadHaproxy>[0]): Change {
  const v = stackVars(ctx);
  return {
    summary: 'reload haproxy (config changed)',
    commands: [reloadHaproxy(serviceManager)],
    apply: () =>
      waitFor(`${ctx.host.name}: haproxy admin socket after the reload`, v.lb_ready_timeout_s, async () => {
        await ctx.fact(serverStatsFact(v.lb_admin_socket), { fresh: true });
        return true;
      }),
  };
}
