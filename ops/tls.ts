// Client TLS to etcd: the controller's CA, certificate and key copied to a host folder as
// ca.pem, cert.pem, key.pem (key 0600, never shown in a diff).
import { readFileSync } from 'node:fs';
import { ensureDir, ensureFile } from '../lib/files.ts';
import type { Change, StepContext, Vars } from '../lib/types.ts';
import { bool, optStr, str } from './vars.ts';

export const tlsEnabled = (vars: Vars): boolean => bool(vars, 'etcd_tls_enabled');

export async function ensureTlsFiles(ctx: StepContext, dir: string): Promise<Change[]> {
  const read = (name: string) => {
    const path = str(ctx.vars, name);
    try {
      return readFileSync(path, 'utf8');
    } catch {
      throw new Error(`${name}: cannot read ${path} on the controller`);
    }
  };
  const key = read('etcd_tls_key_file');
  ctx.secret(key);
  return [
    ...(await ensureDir(ctx, { path: dir, mode: 0o700, become: true })),
    ...(await ensureFile(ctx, { path: `${dir}/ca.pem`, content: read('etcd_tls_ca_file'), mode: 0o644, become: true })),
    ...(await ensureFile(ctx, { path: `${dir}/cert.pem`, content: read('etcd_tls_cert_file'), mode: 0o644, become: true })),
    ...(await ensureFile(ctx, { path: `${dir}/key.pem`, content: key, mode: 0o600, become: true, secret: true })),
  ];
}

/** etcd credentials for the dashboard and gateway configs, when etcd auth is on. */
export function etcdCredentials(ctx: StepContext): { user: string; password: string } | undefined {
  if (!bool(ctx.vars, 'etcd_auth_enabled')) return undefined;
  const password = str(ctx.vars, 'etcd_root_password');
  ctx.secret(password);
  // `etcdctl user add --interactive=false` reads stdin with Scanf("%s"): it would keep only the first
  // word, and the configs (holding the whole password) would then be refused once auth is on.
  if (/\s/.test(password)) throw new Error('etcd_root_password must not contain spaces or other whitespace (etcdctl reads it from stdin as a single word)');
  return { user: optStr(ctx.vars, 'etcd_root_user') ?? 'root', password };
}
