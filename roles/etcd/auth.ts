// etcd's root user: turned on, turned off, and its password rotated. The rotation reads the password the role
// stored on the hosts (the 0600 etcdctl env file), changes it in etcd with `user passwd` (new password on
// stdin), and only then lets the env files, consoles and gateways be rewritten with the new one. A run that
// dies midway leaves etcd with either the stored or the wanted password, and the rerun tells which.
import { around } from '../../lib/change.ts';
import { sh } from '../../lib/shell.ts';
import type { Change, StepContext } from '../../lib/types.ts';
import { envFile, etcdAuth, etcdctl, observeAuthAgain, ownUrl } from '../../ops/etcd.ts';
import { AUTH_OFF, AUTH_REFUSED, etcdctlCmd } from '../../ops/etcdctl.ts';
import { AUTH_OFF_WARNING } from '../../ops/etcd-auth-off.ts';
import { etcdCredentials } from '../../ops/etcd-credentials.ts';
import { stackVars } from '../../vars/schema.ts';
import { envFileFact } from './facts.ts';
import { lastClusterRead } from './health.ts';

/** The etcdctl arguments of turning auth on and off (root's password always on stdin). */
export const authEnableCmds = {
  roleAdd: ['role', 'add', 'root'],
  userAdd: ['user', 'add', 'root', '--interactive=false'],
  passwd: ['user', 'passwd', 'root', '--interactive=false'],
  grant: ['user', 'grant-role', 'root', 'root'],
  enable: ['auth', 'enable'],
  disable: ['auth', 'disable'],
};

/** The 0600 env file etcdctl reads root's credentials from (`docker exec --env-file`). */
export const credentialsFile = (password: string): string => `ETCDCTL_USER=root:${password}\n`;

/** Needs the root role: a success proves these are root's credentials, not just any user's. */
const PROVE_ROOT = ['user', 'get', 'root'];

/** The password in an env file written by credentialsFile(); undefined when it holds no ETCDCTL_USER line. */
export function parseCredentialsFile(text: string): string | undefined {
  const line = text.split('\n').find((l) => l.startsWith('ETCDCTL_USER='));
  if (!line) return undefined;
  const user = line.slice('ETCDCTL_USER='.length);
  const colon = user.indexOf(':');
  return colon < 0 ? undefined : user.slice(colon + 1);
}

/** The root password stored on this host (from the role's batched read), registered as a secret; undefined when no env file exists yet. */
export async function storedRootPassword(ctx: StepContext): Promise<string | undefined> {
  const file = await ctx.fact(envFileFact(ctx)).catch((e: Error) => {
    throw new Error(`cannot read ${envFile(ctx)} on ${ctx.host.name} (${e.message}): nothing changed`);
  });
  if (file.kind === 'other') throw new Error(`${envFile(ctx)} on ${ctx.host.name} is not a regular file: nothing changed`);
  if (file.kind === 'missing') return undefined;
  if (file.content.trim()) ctx.secret(file.content.trim());
  const password = parseCredentialsFile(file.content);
  if (password) ctx.secret(password);
  return password;
}

export type CredentialsProbe = 'accepted' | 'refused' | 'auth-off';

/** How etcd took a probe made with some credentials; any other failure (etcd down, timeout) is not an answer. */
export function probeOutcome(r: { ok: boolean; code: number; stdout: string; stderr: string }, what: string): CredentialsProbe {
  if (r.ok) return 'accepted';
  const out = `${r.stderr}\n${r.stdout}`;
  if (AUTH_OFF.test(out)) return 'auth-off';
  if (AUTH_REFUSED.test(out)) return 'refused';
  throw new Error(`cannot tell whether etcd accepts ${what} (exit ${r.code}): ${out.trim().slice(-300)}`);
}

export type RotationAction = 'passwd' | 'rewrite';

/**
 * What to do with the wanted password given how etcd took each. The wanted one working already (a run that
 * stopped after `user passwd`) or auth being off needs only the files rewritten; neither working is refused:
 * no config knows the password etcd holds.
 */
export async function rotationAction(wanted: CredentialsProbe, stored: () => Promise<CredentialsProbe>): Promise<RotationAction> {
  if (wanted !== 'refused') return 'rewrite';
  const s = await stored();
  if (s === 'accepted') return 'passwd';
  if (s === 'auth-off') return 'rewrite';
  throw new Error(
    'etcd refuses both the root password stored on the hosts and etcd_root_password: no config knows the password etcd holds. ' +
      'Set etcd_root_password to the password etcd has (or reset it with `etcdctl user passwd root` as root), then rerun.',
  );
}

/** Runs etcdctl against this member with the credentials in `file` (a 0600 env file on the host). */
const withFile = (ctx: StepContext, file: string, args: string[], stdin?: string) =>
  ctx.run(etcdctlCmd({ endpoints: [ownUrl(ctx)], tls: stackVars(ctx).etcd_tls_enabled, envFile: file, stdin: stdin !== undefined }, args), {
    become: true,
    nothrow: true,
    stdin,
  });

/** Changes root's password in etcd from the stored one to the wanted one, through this host's member. */
async function rotate(ctx: StepContext, wanted: string): Promise<void> {
  const stored = envFile(ctx);
  // The wanted credentials in a sibling 0600 file: docker reads env files, and argv must never hold them.
  const next = `${stored}.next`;
  await ctx.transport.put(next, credentialsFile(wanted), { mode: 0o600, become: true });
  try {
    const tryNext = async () => probeOutcome(await withFile(ctx, next, PROVE_ROOT), 'etcd_root_password');
    const action = await rotationAction(await tryNext(), async () => probeOutcome(await withFile(ctx, stored, PROVE_ROOT), 'the stored root password'));
    ctx.log(action === 'passwd' ? 'etcd accepts the stored root password: changing it' : 'etcd already has the wanted root password (or auth off): only the files change');
    if (action === 'rewrite') return;
    const changed = await withFile(ctx, stored, authEnableCmds.passwd, `${wanted}\n`);
    if (!changed.ok) throw new Error(`etcdctl user passwd root on ${ctx.host.name} failed (exit ${changed.code}): ${(changed.stderr || changed.stdout).trim().slice(-300)}`);
    if ((await tryNext()) !== 'accepted') throw new Error(`etcd does not accept etcd_root_password after user passwd on ${ctx.host.name}: rerun to retry`);
  } finally {
    await ctx.run(sh`rm -f -- ${next}`, { become: true, nothrow: true });
  }
}

/**
 * Step (before the env file is rewritten): when the stored password differs from etcd_root_password, change it
 * in etcd first. Every etcd host with a differing file waits for the same rotation, done once by the first.
 */
export async function rotationChanges(ctx: StepContext): Promise<Change[]> {
  const wanted = etcdCredentials(ctx)!.password;
  const stored = await storedRootPassword(ctx);
  // No file yet: auth is turned on later in this play, with the wanted password.
  if (stored === undefined || stored === wanted) return [];
  return [
    {
      summary: 'rotate the etcd root password (etcd_root_password differs from the one stored on the host)',
      apply: () => ctx.play.once('etcd root password rotation', () => rotate(ctx, wanted)),
    },
  ];
}

/**
 * etcd_auth_enabled was turned off while etcd still has auth on. Disable it with the root credentials the role
 * stored on the host, here in the etcd play: the dashboards and gateways, which wait for this play, are rewritten
 * without credentials only once etcd no longer asks for them. Without usable credentials the play fails and
 * leaves every config as it is.
 */
function authDisableChange(ctx: StepContext): Change[] {
  const disable = etcdctlCmd({ endpoints: [ownUrl(ctx)], tls: stackVars(ctx).etcd_tls_enabled, envFile: envFile(ctx) }, authEnableCmds.disable);
  const change: Change = { summary: 'disable etcd auth (etcd_auth_enabled is off), with the root credentials stored on the host', commands: [{ command: disable, become: true }] };
  return [
    around(change, async (inner) => {
      try {
        await inner();
      } catch (e) {
        throw new Error(
          `etcd has auth on but etcd_auth_enabled is off, and the root credentials in ${envFile(ctx)} could not disable it ` +
            `(${e instanceof Error ? e.message.split('\n').slice(-1)[0] : String(e)}). Set etcd_auth_enabled: true with etcd_root_password, or run \`etcdctl auth disable\` as root.`,
        );
      }
      await observeAuthAgain(ctx);
    }),
  ];
}

/** Said once per run (the auth step runs on one host) while etcd_auth_enabled is off; the planes say it too. */
export { AUTH_OFF_WARNING };

/** Step 'etcd auth (root user)': create root and enable auth, or disable it when the vars turned it off. */
export async function authChanges(ctx: StepContext): Promise<Change[]> {
  const wanted = stackVars(ctx).etcd_auth_enabled;
  if (!wanted) ctx.warn(AUTH_OFF_WARNING);
  const auth = await etcdAuth(ctx).catch((e: Error) => {
    // In --check on hosts not yet converged etcd may not run at all: nothing to plan against yet.
    if (ctx.check) return undefined;
    throw e;
  });
  if (auth === undefined) return [];
  if (!wanted) return auth === 'on' ? authDisableChange(ctx) : [];
  if (auth === 'on') return [];
  const password = etcdCredentials(ctx)!.password;
  return [
    {
      summary: 'create etcd user root (password from stdin) and enable auth',
      async apply() {
        // etcd's auth is off here: etcdctl runs without credentials (the rule in ops/etcdctl.ts).
        await etcdctl(ctx, authEnableCmds.roleAdd, { nothrow: true });
        const added = await etcdctl(ctx, authEnableCmds.userAdd, { stdin: `${password}\n`, nothrow: true });
        if (!added.ok) await etcdctl(ctx, authEnableCmds.passwd, { stdin: `${password}\n` });
        await etcdctl(ctx, authEnableCmds.grant);
        await etcdctl(ctx, authEnableCmds.enable);
        await observeAuthAgain(ctx);
      },
    },
  ];
}

/**
 * After the auth step: with auth wanted, the stored credentials are root's (what every later run relies on).
 * The health gate's read proved it already when it ran with them; otherwise (auth turned on this run) asked here.
 */
export async function verifyStoredCredentials(ctx: StepContext): Promise<void> {
  if (ctx.check || !stackVars(ctx).etcd_auth_enabled) return;
  if (lastClusterRead(ctx)?.rootProven) return;
  const r = await withFile(ctx, envFile(ctx), PROVE_ROOT);
  if (probeOutcome(r, 'the stored root password') === 'refused') {
    throw new Error(`etcd refuses the root credentials in ${envFile(ctx)} on ${ctx.host.name}: is etcd_root_password the password etcd holds?`);
  }
}
