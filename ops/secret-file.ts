// A secret kept in a root-owned 0600 file on a host (etcdctl's credentials, the console token secret): read
// without the content ever reaching a log, and a failed read is an error, never "no file".
import { readFileCommand } from '../lib/files.ts';
import type { StepContext } from '../lib/types.ts';

/** The file's content, registered as a secret; undefined when the file does not exist. */
export async function readSecretFile(ctx: StepContext, path: string): Promise<string | undefined> {
  const r = await ctx.run(readFileCommand(path), { become: true, nothrow: true, secretOutput: true });
  const nl = r.stdout.indexOf('\n');
  const head = (nl < 0 ? r.stdout : r.stdout.slice(0, nl)).trim();
  if (r.ok && head === 'missing') return undefined;
  if (!r.ok || !/^[0-7]+ \S+ \S+$/.test(head)) {
    throw new Error(`cannot read ${path} on ${ctx.host.name} (exit ${r.code}${head === 'other' ? ', not a regular file' : ''}): nothing changed`);
  }
  const content = r.stdout.slice(nl + 1);
  if (content.trim()) ctx.secret(content.trim());
  return content;
}
