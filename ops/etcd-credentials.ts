// The etcd credentials the dashboard and gateway configs carry when etcd auth is on: a secret from the moment
// it is read.
import type { StepContext } from '../lib/types.ts';
import { stackVars } from '../vars/schema.ts';

/** etcd credentials for the dashboard and gateway configs, when etcd auth is on: always etcd's `root` user. */
export function etcdCredentials(ctx: StepContext): { user: 'root'; password: string } | undefined {
  // Registered before it is checked: a refused password must not show in the error that refuses it either.
  const raw = ctx.vars.etcd_root_password;
  if (typeof raw === 'string' && raw) ctx.secret(raw);
  const v = stackVars(ctx);
  if (!v.etcd_auth_enabled) return undefined;
  if (!v.etcd_root_password) throw new Error('etcd_auth_enabled needs etcd_root_password');
  return { user: 'root', password: v.etcd_root_password };
}
