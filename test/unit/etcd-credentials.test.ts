// etcd credentials for the configs: only when auth is on, always registered as a secret, and a password
// etcdctl would cut at its first space (it reads stdin with Scanf("%s")) refused before anything changes.
import { describe, expect, it } from 'vitest';
import { etcdCredentials } from '../../ops/etcd-credentials.ts';
import type { StepContext, Vars } from '../../lib/types.ts';

function ctxWith(vars: Vars) {
  const secrets: string[] = [];
  const ctx = { vars, secret: (v: string) => secrets.push(v) } as unknown as StepContext;
  return { ctx, secrets };
}

describe('etcdCredentials', () => {
  it('is undefined while etcd_auth_enabled is off', () => {
    expect(etcdCredentials(ctxWith({ etcd_root_password: 'x' }).ctx)).toBeUndefined();
  });

  it('gives root (the one user etcd auth needs) and the password, registered as a secret', () => {
    const { ctx, secrets } = ctxWith({ etcd_auth_enabled: 'true', etcd_root_password: 'e2e-Etcd:root/pw#95!' });
    expect(etcdCredentials(ctx)).toEqual({ user: 'root', password: 'e2e-Etcd:root/pw#95!' });
    expect(secrets).toEqual(['e2e-Etcd:root/pw#95!']);
  });

  it('etcd_root_user is removed: setting it is refused (the loader says so at exit 4), never a user of its own', () => {
    expect(() => etcdCredentials(ctxWith({ etcd_auth_enabled: true, etcd_root_password: 'p', etcd_root_user: 'gw' }).ctx)).toThrow(/etcd_root_user: removed/);
  });

  it.each(['two words', 'tab\there', 'trailing\n'])('refuses a password with whitespace (%j), still as a secret', (password) => {
    const { ctx, secrets } = ctxWith({ etcd_auth_enabled: true, etcd_root_password: password });
    expect(() => etcdCredentials(ctx)).toThrow(/etcd_root_password: must not contain whitespace \(etcdctl reads it from stdin as one word\)/);
    expect(secrets).toEqual([password]);
    expect(() => etcdCredentials(ctx)).not.toThrow(password);
  });

  it('needs a password when auth is on', () => {
    expect(() => etcdCredentials(ctxWith({ etcd_auth_enabled: true }).ctx)).toThrow(/etcd_root_password/);
  });
});
