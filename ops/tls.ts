// Client TLS to etcd: the controller's CA, certificate and key copied to a host folder as
// ca.pem, cert.pem, key.pem (key 0600, never shown in a diff).
import { readFileSync } from 'node:fs';
import { dirFact, ensureDir, ensureFile, fileFact } from '../lib/files.ts';
import type { Change, Fact, StepContext, Vars } from '../lib/types.ts';
import { stackVars, type StackVars } from '../vars/schema.ts';

export const tlsEnabled = (vars: Vars): boolean => stackVars({ vars }).etcd_tls_enabled;

/** The three files in `dir`, by the variable naming their controller copy. */
const TLS_FILES = [
  ['etcd_tls_ca_file', 'ca.pem', 0o644],
  ['etcd_tls_cert_file', 'cert.pem', 0o644],
  ['etcd_tls_key_file', 'key.pem', 0o600],
] as const satisfies readonly [keyof StackVars, string, number][];

/** What ensureTlsFiles reads on the host, for a role's batched facts. */
export const tlsFileFacts = (dir: string): Fact<unknown>[] => [
  dirFact(dir, true),
  ...TLS_FILES.map(([, name]) => fileFact(`${dir}/${name}`, true)),
];

export async function ensureTlsFiles(ctx: StepContext, dir: string, opts: { fresh?: boolean } = {}): Promise<Change[]> {
  const v = stackVars(ctx);
  const read = (name: (typeof TLS_FILES)[number][0]) => {
    const path = v[name];
    if (!path) throw new Error(`${name} is not set (etcd_tls_enabled needs it)`);
    try {
      return readFileSync(path, 'utf8');
    } catch {
      throw new Error(`${name}: cannot read ${path} on the controller`);
    }
  };
  const changes = await ensureDir(ctx, { path: dir, mode: 0o700, become: true, fresh: opts.fresh });
  for (const [name, file, mode] of TLS_FILES) {
    const content = read(name);
    const secret = mode === 0o600;
    if (secret) ctx.secret(content);
    changes.push(...(await ensureFile(ctx, { path: `${dir}/${file}`, content, mode, become: true, secret, fresh: opts.fresh })));
  }
  return changes;
}
