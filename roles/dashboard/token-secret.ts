// The console's token (JWT) signing secret. Both dashboards sit behind one LB and must accept each other's
// tokens, so they share one secret; it is random (not derived from the admin password, which anyone who knows
// it could then forge tokens with), generated once and kept root-only 0600 on each control host, outside the
// versioned install dir so an upgrade keeps it. `dashboard_jwt_secret` still overrides it.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { UnreachableError } from '../../lib/errors.ts';
import { ensureFile, fileFact } from '../../lib/files.ts';
import type { Change, Fact, StepContext } from '../../lib/types.ts';
import { GROUPS } from '../../ops/layout.ts';
import { stackVars } from '../../vars/schema.ts';

const STATE_KEY = 'console token secret';

export const tokenSecretFile = (ctx: StepContext): string => posix.join(stackVars(ctx).api7_install_dir, 'dashboard_jwt_secret');

/** `when`: the step keeps the file unless the variable sets the secret. */
export const secretNotSet = (ctx: StepContext): true | string => stackVars(ctx).dashboard_jwt_secret === undefined || 'dashboard_jwt_secret is set';

/** The role reads this host's file in its batch (another control host's is read on that host, memoised there). */
export const tokenSecretFacts = (ctx: StepContext): Fact<unknown>[] =>
  secretNotSet(ctx) === true ? [fileFact(tokenSecretFile(ctx), true)] : [];

/** A control host's secret, '' when it has none; a file that is there but cannot be read is an error. */
async function secretOn(ctx: StepContext, path: string): Promise<string> {
  const f = await ctx.fact(fileFact(path, true)).catch((e: unknown) => {
    if (e instanceof UnreachableError) throw e;
    const why = (e instanceof Error ? e.message : String(e)).replace(`cannot read ${path}: `, '');
    throw new Error(`cannot read ${path} on ${ctx.host.name} (${why}): nothing changed`);
  });
  if (f.kind === 'other') throw new Error(`cannot read ${path} on ${ctx.host.name} (not a regular file): nothing changed`);
  const secret = f.kind === 'file' ? f.content.trim() : '';
  if (secret) ctx.secret(secret);
  return secret;
}

/**
 * The secret every control host keeps: the one already on the first control host (inventory order) that has
 * it, else a new random one. A host that cannot be reached has no say (it gets the shared one when it is
 * back); a host that answers but whose file cannot be read fails the step: its secret is unknown.
 */
async function sharedSecret(ctx: StepContext): Promise<string> {
  for (const host of ctx.inventory.group(GROUPS.control)) {
    try {
      const secret = await secretOn(ctx.on(host.name), tokenSecretFile(ctx));
      if (secret) return secret;
    } catch (e) {
      if (e instanceof UnreachableError) continue;
      throw e;
    }
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
  const secret = stackVars(ctx).dashboard_jwt_secret ?? (ctx.play.state.get(STATE_KEY) as string | undefined);
  if (!secret) throw new Error('the console token secret is not known yet: the step "console token secret" must run before conf.yaml');
  return secret;
}
