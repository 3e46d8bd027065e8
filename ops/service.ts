// The bundle's compose project, run as the guide runs it: `docker compose up -d` in the unpacked folder
// (compose names the project, its `<project>_api7` network and the container), never a regenerated compose
// file. Nothing of ours is labelled: the running container is found by compose's own labels (service, working
// dir) and recreated only when it is not this folder's, runs another image ID, or started before its conf
// was last written. A recreate is a rolling change behind the LBs (roles/lb/drain.ts): one host at a time,
// drained first, the previous version's project taken down in the same turn, health-gated inside the lock.
import { stringify } from 'yaml';
import { defineStep, type Step, type StepContext } from '../lib/types.ts';
import { composeCommand } from '../facts/docker.ts';
import { planCompose, findMtimeNs, type ComposeFile, type ComposeService, type ServiceContainer } from './compose.ts';
import { composeInDirCmd, newestMtimeCmd, parseServiceContainers, retireContainersCmd, serviceContainersCmd } from './docker.ts';
import { imageId } from './bundle.ts';
import { waitFor } from './retry.ts';
import { rollingChange, type RollingGroup } from './lb-drain.ts';
import { num } from './vars.ts';

export const COMPOSE_FILE = 'docker-compose.yaml';
/** Read by compose next to the vendor's file (also by an operator's plain `docker compose up -d`). */
export const OVERRIDE_FILE = 'docker-compose.override.yaml';
export const OVERRIDE_HEADER = '# Written by gatewright';

export interface ComposeDeploy {
  role: string;
  dir(ctx: StepContext): string;
  service(ctx: StepContext): string;
  compose(ctx: StepContext): Promise<{ file: ComposeFile; service: ComposeService } | undefined>;
  /** Host files and folders the container reads at start (conf, certificates). */
  startFiles(ctx: StepContext): string[];
  /** The conf step still has a change to make (what --check sees before it applied). */
  confPending(ctx: StepContext): Promise<boolean>;
  /** The LB backends this role's hosts sit in: what a restart drains. */
  lbGroup: RollingGroup;
  health(ctx: StepContext): Promise<true | string>;
}

/**
 * docker-compose.override.yaml, only when the vendor's file needs more than it says: the etcd certificates
 * mounted (`extra`), and SELinux labels (`:Z`) on its bind mounts while enforcing. Undefined: none needed.
 */
export function renderOverride(service: string, dir: string, s: ComposeService, extra: [string, string][], suffix: '' | ':Z'): string | undefined {
  const rel = (p: string) => (p.startsWith(`${dir}/`) ? `./${p.slice(dir.length + 1)}` : p);
  const volumes = [
    ...(suffix ? s.mounts.map(([from, to]) => `${rel(from)}:${to}${suffix}`) : []),
    ...extra.map(([from, to]) => `${from}:${to}:ro${suffix ? ',Z' : ''}`),
  ];
  if (!volumes.length) return undefined;
  return `${OVERRIDE_HEADER}: the vendor's ${COMPOSE_FILE} stays as shipped; compose merges this file into it.\n${stringify({ services: { [service]: { volumes } } })}`;
}

export async function serviceContainers(ctx: StepContext, service: string): Promise<ServiceContainer[]> {
  return parseServiceContainers((await ctx.run(serviceContainersCmd(service), { become: true })).stdout);
}

export function composeUpStep(name: string, d: ComposeDeploy): Step {
  const gate = (ctx: StepContext) => waitFor(`${d.role} on ${ctx.host.name}`, num(ctx.vars, 'health_timeout'), () => d.health(ctx));
  return defineStep({
    name,
    async plan(ctx) {
      const c = await d.compose(ctx);
      const dir = d.dir(ctx);
      if (!c) return [{ summary: `${d.role}: docker compose up -d in ${dir} (once the bundle is unpacked)`, apply: async () => undefined }];
      const containers = await serviceContainers(ctx, d.service(ctx));
      const mtime = findMtimeNs((await ctx.run(newestMtimeCmd(d.startFiles(ctx)), { become: true })).stdout);
      const action = planCompose(containers, {
        dir,
        imageId: await imageId(ctx, c.service.image),
        confMtimeNs: mtime,
        confPending: ctx.check && (await d.confPending(ctx)),
      });
      if (action.kind === 'none') return [];
      const retire = action.retire.map((r) => `${r.name} in ${r.workingDir || '?'}`);
      return [
        {
          summary: `${d.role}: docker compose up -d in ${dir} (${action.reason})${retire.length ? `, after docker compose down of ${retire.join(', ')}` : ''}`,
          async apply() {
            const compose = await ctx.fact(composeCommand);
            const up = async () => {
              // The previous version's project publishes the same ports: it goes first, inside the drained turn.
              for (const old of action.retire) {
                await ctx.run(retireContainersCmd(compose, old), { become: true, timeoutMs: 300_000 });
              }
              await ctx.run(composeInDirCmd(compose, dir, ['up', '-d', '--force-recreate', d.service(ctx)]), { become: true, timeoutMs: 300_000 });
              await gate(ctx);
            };
            await rollingChange(ctx, d.lbGroup, up);
          },
        },
      ];
    },
    verify: (ctx) => (ctx.check ? Promise.resolve() : gate(ctx)),
  });
}

