// The recap's warning while etcd auth is off. Every play that points something at etcd says it (the etcd play,
// and the dashboard and gateway plays whose conf files name etcd without credentials), so `play dashboard` or
// `play gateway` alone warns too; the run keeps one copy of a message, so a `site` run says it once.
import type { StepContext } from '../lib/types.ts';
import { stackVars } from '../vars/schema.ts';

export const AUTH_OFF_WARNING =
  'etcd auth is off (etcd_auth_enabled): any client that reaches etcd can read and change every route; ' +
  'set etcd_auth_enabled: true and etcd_root_password (docs/OPERATIONS.md, etcd auth)';

export function warnIfEtcdAuthOff(ctx: StepContext): void {
  if (!stackVars(ctx).etcd_auth_enabled) ctx.warn(AUTH_OFF_WARNING);
}
