// The bundle's compose project, run as the guide runs it: `docker compose up -d` in the unpacked folder
// (compose names the project, its `<project>_api7` network and the container), never a regenerated compose
// file. Nothing of ours is labelled: the running container is found by compose's own labels (service, working
// dir) and recreated only when it is not this folder's, runs another image ID, or started before its conf
// was last written. A recreate is a rolling change behind the LBs (ops/lb-drain.ts): one host at a time,
// drained first, the previous version's project taken down in the same turn, health-gated inside the lock.
import { stringify } from 'yaml';
import { around } from '../lib/change.ts';
import { defineFact, type Change, type Fact, type StepContext } from '../lib/types.ts';
import { composeCommand, type ComposeArgv } from '../facts/docker.ts';
import { planCompose, findMtimeNs, type ComposeService, type ServiceContainer } from './compose.ts';
import { composeInDirCmd, parseServiceState, retireContainersCmd, serviceStateCmd } from './docker.ts';
import { waitFor } from './retry.ts';
import { rollingChange, type RollingGroup } from './lb-drain.ts';
import { stackVars } from '../vars/schema.ts';

export const COMPOSE_FILE = 'docker-compose.yaml';
/** Read by compose next to the vendor's file (also by an operator's plain `docker compose up -d`). */
export const OVERRIDE_FILE = 'docker-compose.override.yaml';
export const OVERRIDE_HEADER = '# Written by gatewright';

/**
 * docker-compose.override.yaml, only when the vendor's file needs more than it says: the etcd certificates
 * mounted (`extra`), and SELinux labels (`:Z`) on its bind mounts while enforcing. Undefined: none needed.
 */
export function renderOverride(service: string, dir: string, s: ComposeService, extra: [string, string][], suffix: '' | ':Z'): string | undefined {
  const rel = (p: string) => (p.startsWith(`${dir}/`) ? `./${p.slice(dir.length + 1)}` : p);
  const volumes = [
    // Compose merges volumes by target: the entry replaces the vendor's, so it keeps the vendor's mode (`:ro,Z`).
    ...(suffix ? s.mounts.map(([from, to, mode]) => `${rel(from)}:${to}:${withRelabel(mode)}`) : []),
    ...extra.map(([from, to]) => `${from}:${to}:ro${suffix ? ',Z' : ''}`),
  ];
  if (!volumes.length) return undefined;
  return `${OVERRIDE_HEADER}: the vendor's ${COMPOSE_FILE} stays as shipped; compose merges this file into it.\n${stringify({ services: { [service]: { volumes } } })}`;
}

/** A mount's options plus SELinux's private relabel: `ro` -> `ro,Z`, none -> `Z` (a vendor `z` gives way to it). */
const withRelabel = (mode = ''): string => [...mode.split(',').filter((o) => o && o.toLowerCase() !== 'z'), 'Z'].join(',');

export interface ServiceState {
  containers: ServiceContainer[];
  /** Newest modification time of the files the container reads at start, ns since epoch (0: none there). */
  startFilesMtimeNs: bigint;
}

/** The containers of a compose service (any project) and the newest mtime of its start files: one read. */
export const serviceStateFact = (service: string, startFiles: string[]): Fact<ServiceState> =>
  defineFact({
    name: `compose service ${service}`,
    become: true,
    command: serviceStateCmd(service, startFiles),
    parse(r) {
      if (r.code !== 0) throw new Error(`cannot list the containers of ${service}: ${r.stderr.trim().split('\n').pop() || `exit ${r.code}`}`);
      const { containers, mtime } = parseServiceState(r.stdout);
      return { containers, startFilesMtimeNs: findMtimeNs(mtime) };
    },
  });

export interface ComposeDeploy {
  role: string;
  dir: string;
  service: string;
  /** The image ID the service's image points at on the host ('' when not loaded yet). */
  imageId: string;
  state: ServiceState;
  /** --check only: the conf step still has a change to make (it has not applied). */
  confPending: boolean;
  /** The LB backends this role's hosts sit in: what a restart drains. */
  lbGroup: RollingGroup;
  health(ctx: StepContext): Promise<true | string>;
}

/** Waits until the service answers its health read (health_timeout). */
export const healthGate = (ctx: StepContext, role: string, health: (ctx: StepContext) => Promise<true | string>): Promise<void> =>
  waitFor(`${role} on ${ctx.host.name}`, stackVars(ctx).health_timeout, () => health(ctx));

/** `docker compose` or `docker-compose`; in --check on a host without either yet, the one the docker play installs. */
async function composeArgv(ctx: StepContext): Promise<ComposeArgv> {
  return ctx.fact(composeCommand).catch((e: unknown) => {
    if (ctx.check) return ['docker', 'compose'] as ComposeArgv;
    throw e;
  });
}

/**
 * `docker compose up -d --force-recreate <service>` in the bundle folder when the running container is not the
 * wanted one, after `compose down` of another folder's project of the same service: the commands are data, run
 * inside a drained turn behind the LBs and followed by the health gate before the turn ends.
 */
export async function planComposeUp(ctx: StepContext, d: ComposeDeploy): Promise<Change[]> {
  const action = planCompose(d.state.containers, { dir: d.dir, imageId: d.imageId, confMtimeNs: d.state.startFilesMtimeNs, confPending: d.confPending });
  if (action.kind === 'none') return [];
  const compose = await composeArgv(ctx);
  const retire = action.retire.map((r) => `${r.name} in ${r.workingDir || '?'}`);
  const change: Change = {
    summary: `${d.role}: docker compose up -d in ${d.dir} (${action.reason})${retire.length ? `, after docker compose down of ${retire.join(', ')}` : ''}`,
    commands: [
      // The previous version's project publishes the same ports: it goes first, inside the drained turn.
      ...action.retire.map((old) => ({ command: retireContainersCmd(compose, old), timeoutMs: 300_000 })),
      { command: composeInDirCmd(compose, d.dir, ['up', '-d', '--force-recreate', d.service]), timeoutMs: 300_000 },
    ],
  };
  return [around(change, (inner) => rollingChange(ctx, d.lbGroup, async () => {
    await inner();
    await healthGate(ctx, d.role, d.health);
  }))];
}
