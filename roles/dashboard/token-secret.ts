// The console's token (JWT) signing secret. Both dashboards sit behind one LB and must accept each other's
// tokens, so they share one secret; it is random (not derived from the admin password, which anyone who knows
// it could then forge tokens with), generated once and kept root-only 0600 on each control host, outside the
// versioned install dir so an upgrade keeps it. `dashboard_jwt_secret` still overrides it.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { UnreachableError } from '../../lib/errors.ts';
import { ensureFile } from '../../lib/files.ts';
import type { Change, StepContext } from '../../lib/types.ts';
import { readSecretFile } from '../../ops/secret-file.ts';
import { optStr, str } from '../../ops/vars.ts';
import { GROUPS } from '../../ops/layout.ts';

const STATE_KEY = 'console token secret';

export const tokenSecretFile = (ctx: StepContext): string => posix.join(str(ctx.vars, 'api7_install_dir'), 'dashboard_jwt_secret');

/**
 * The secret every control host keeps: the one already on the first control host (inventory order) that has
 * it, else a new random one. A host that cannot be reached has no say (it gets the shared one when it is
 * back); a host that answers but whose file cannot be read fails the step: its secret is unknown.
 */
async function sharedSecret(ctx: StepContext): Promise<string> {
  for (const host of ctx.inventory.group(GROUPS.control)) {
    let content: string | undefined;
    try {
      content = await readSecretFile(ctx.on(host.name), tokenSecretFile(ctx));
    } catch (e) {
      if (e instanceof UnreachableError) continue;
      throw e;
    }
    if (content?.trim()) return content.trim();
  }
  return randomBytes(32).toString('hex');
}

/** Step: every control host holds the shared secret in its 0600 file (a no-op when the variable sets it). */
export async function tokenSecretChanges(ctx: StepContext): Promise<Change[]> {
  const secret = await ctx.play.once(STATE_KEY, () => sharedSecret(ctx));
  ctx.secret(secret);
  ctx.play.state.set(STATE_KEY, secret);
  return ensureFile(ctx, { path: tokenSecretFile(ctx), content: `${secret}\n`, mode: 0o600, owner: 'root:root', become: true, secret: true });
}

/** What conf.yaml signs tokens with: the variable, else the shared secret the step above settled. */
export function tokenSecret(ctx: StepContext): string {
  const secret = optStr(ctx.vars, 'dashboard_jwt_secret') ?? (ctx.play.state.get(STATE_KEY) as string | undefined);
  if (!secret) throw new Error('the console token secret is not known yet: the step "console token secret" must run before conf.yaml');
  return secret;
}
