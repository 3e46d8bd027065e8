// The loopback bench's playbook: what a converged role does on a host, without Docker. Its facts, the files it
// ensures among them, are read in one batched command when the role starts, as the stack's roles do.
import { dirFact, ensureDir, ensureFile, fileFact } from '../lib/files.ts';
import { definePlaybook, defineFact, defineRole, defineStep, type StepContext } from '../lib/types.ts';

const line = (r: { stdout: string }) => r.stdout.trim();
const login = defineFact({ name: 'login', command: 'id -un', parse: line });
const kernel = defineFact({ name: 'kernel', command: 'uname -sr', parse: line });
const cpus = defineFact({ name: 'cpus', command: 'nproc', parse: line });

const dir = (ctx: StepContext) => `${ctx.vars.target_dir}/${ctx.host.name}`;
const factsFile = (ctx: StepContext) => `${dir(ctx)}/facts.txt`;

const host = defineRole({
  name: 'host',
  facts: (ctx) => [login, kernel, cpus, dirFact(dir(ctx)), fileFact(factsFile(ctx))],
  steps: [
    defineStep({ name: 'host directory', plan: (ctx) => ensureDir(ctx, { path: dir(ctx), mode: 0o750 }) }),
    defineStep({
      name: 'host facts file',
      plan: async (ctx) => ensureFile(ctx, { path: factsFile(ctx), content: `${await ctx.fact(login)} ${await ctx.fact(kernel)} ${await ctx.fact(cpus)}\n`, mode: 0o640 }),
    }),
    defineStep({
      name: 'enough cpus',
      async plan(ctx) {
        if (Number(await ctx.fact(cpus)) < 1) throw new Error(`nproc says ${await ctx.fact(cpus)}`);
        return [];
      },
    }),
  ],
});

const inventory = defineRole({
  name: 'inventory',
  steps: [defineStep({ name: 'hosts file', plan: (ctx) => ensureFile(ctx, { path: `${ctx.vars.target_dir}/hosts.txt`, content: ctx.play.hosts.map((h) => `${h.name}\n`).join('') }) })],
});

export default definePlaybook({
  name: 'loopback',
  description: 'bench: facts in one batch, a directory and files per host, a run-once file',
  plays: [
    { name: 'host', hosts: 'all', role: host },
    { name: 'inventory', hosts: 'all', role: inventory, runOnce: true, needs: [{ play: 'host', scope: 'all' }] },
  ],
});
