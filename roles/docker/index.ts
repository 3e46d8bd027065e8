// docker: the guide's "install Docker" chapter. Docker >= 20.10.7 installed, enabled and answering,
// compose available, daemon.json as asked (live-restore on unless the options say otherwise), and the
// daemon restarted only when that file changed. Restarts and engine upgrades of a running dockerd roll
// one host at a time behind health gates (rolling.ts): never every host at once.
//
// The role looks once: the engine (one `docker` fact: version, running, init, compose), the OS, daemon.json
// and /etc/docker are its facts, read in one batch per host (in `site` the engine and OS come from
// preflight's batch already). They are read again only after a change of ours touched the engine.
import { defineRole, defineStep, type Change, type PlannedCommand, type StepContext } from '../../lib/types.ts';
import { around } from '../../lib/change.ts';
import { dirFact, ensureDir, ensureFile, fileFact } from '../../lib/files.ts';
import { raw, sh } from '../../lib/shell.ts';
import { stackVars } from '../../vars/schema.ts';
import { osFact } from '../../facts/os.ts';
import { atLeast, MIN_DOCKER } from '../../facts/versions.ts';
import { aptCandidatesFact, composeArgvOf, dockerFact, type DockerInfo, type InitSystem } from '../../facts/docker.ts';
import { INSTALL_TIMEOUT_MS, installChanges } from './apply-install.ts';
import { DAEMON_JSON, renderDaemonJson, storageChanges, wantedDaemonOptions } from './daemon-config.ts';
import { APT, CE_PACKAGES, DPKG_CONFIGURE, defaultInstallMethod, DISTRO_PACKAGES, DISTRO_RECOMMENDS, planInstall, type InstallMethod } from './install.ts';
import { describeGates, parseStackContainers, restartGates, rollingRestart, STACK_CONTAINERS_FORMAT, type StackContainers } from './rolling.ts';
import { pastRestart, tracked } from './turns.ts';
import { planRestart, planStart } from './service.ts';

const DOCKER_DIR = '/etc/docker';

export default defineRole({
  name: 'docker',
  facts: [dockerFact, osFact, dirFact(DOCKER_DIR, true), fileFact(DAEMON_JSON, true)],
  // Tracked: the restart turns follow inventory order, waiting for an earlier host only while it is still on its way.
  steps: [
    defineStep({
      name: `Docker >= ${MIN_DOCKER} installed`,
      async plan(ctx) {
        const docker = await engine(ctx);
        if (docker.unconfigured) {
          return [await engineChange(ctx, docker, { summary: 'finish the interrupted package install (dpkg --configure -a)', commands: [long(DPKG_CONFIGURE)] })];
        }
        if (docker.version && atLeast(docker.version, MIN_DOCKER)) return [];
        const plan = await installPlan(ctx, docker);
        const changes = installChanges(ctx, plan, `${plan.summary}${docker.version ? ` (replacing ${docker.version})` : ''}`);
        const install = changes.pop()!;
        // No engine yet: daemon.json goes first, so dockerd starts once (the package's own start) and with it,
        // instead of starting with the defaults and then taking its turn in a rolling restart.
        const first = docker.version ? [] : await daemonJsonBeforeInstall(ctx);
        if (first.length) ctx.play.state.set(firstKey(ctx), true);
        // Upgrading a running engine restarts it (the package scripts do): that rolls like any restart.
        return [...first, ...changes, await engineChange(ctx, docker, install)];
      },
      async verify(ctx) {
        const { version, unconfigured } = await engine(ctx);
        if (unconfigured) throw new Error('Docker packages are still unconfigured (see dpkg --audit)');
        if (!version) throw new Error('Docker is still not installed (no dockerd or docker on PATH)');
        if (!atLeast(version, MIN_DOCKER)) {
          throw new Error(`Docker ${version} < ${MIN_DOCKER} after install: this source has no newer Docker; ` +
            "set docker_install_method: docker-ce (Docker's repository or a mirror: docker_ce_repo_url) or offline");
        }
      },
    }),

    defineStep({
      name: 'daemon.json (docker_daemon_options)',
      async plan(ctx) {
        // Planned with the install already (no engine yet): --check shows it once; a run reads it again below.
        if (ctx.check && ctx.play.state.get(firstKey(ctx))) return [];
        const wanted = wantedDaemonOptions(stackVars(ctx).docker_daemon_options);
        // Read again only when this run installed or changed the engine (the package may have written them).
        const fresh = engineTouched(ctx);
        const dir = await ensureDir(ctx, { path: DOCKER_DIR, become: true, fresh });
        const file = await ensureFile(ctx, { ...daemonFile(renderDaemonJson(wanted)), fresh });
        if (!file.length) return dir;
        await refuseStorageMove(ctx, wanted);
        // Handler-like: a changed file asks for one restart at the end of the role (if dockerd runs by then).
        ctx.play.state.set(restartKey(ctx), true);
        if (!(await engine(ctx)).running) return [...dir, ...file];
        // A running dockerd gets the file in its restart turn: after a failed restart, the hosts the roll never
        // reached keep their old file, and a reboot there does not pick up the new one either.
        ctx.play.state.set(pendingKey(ctx), file);
        return [...dir, { summary: `${file.map((c) => c.summary).join('; ')}, in this host's restart turn`, diff: file.find((c) => c.diff)?.diff }];
      },
    }),

    defineStep({
      name: 'Docker enabled and running',
      async plan(ctx) {
        const docker = await engine(ctx);
        const init = serviceManager(ctx, docker);
        const commands = planStart({ ...docker, init });
        if (!commands.length) return [];
        const how = { systemd: 'systemctl enable --now docker', openrc: 'rc-service', sysv: 'service docker start', none: 'dockerd detached (no init system)' }[init];
        // A stopped dockerd starts with the new daemon.json: written now, and no restart needed after.
        const pending = docker.running ? [] : takePending(ctx);
        if (!docker.running) ctx.play.state.delete(restartKey(ctx));
        return [touching(ctx, { summary: `start Docker (${how})`, ...merged(pending), commands: [...merged(pending).commands, ...commands.map((c) => ({ command: c, timeoutMs: 120_000 }))] })];
      },
      async verify(ctx) {
        const docker = await engine(ctx);
        if (!docker.running) throw new Error(`dockerd does not answer (docker info); service manager: ${serviceManager(ctx, docker)}`);
      },
    }),

    defineStep({
      name: 'compose available (docker compose or docker-compose)',
      async plan(ctx) {
        if (composeArgvOf(await engine(ctx))) return [];
        const { packageManager } = await ctx.fact(osFact);
        const method = await installMethod(ctx);
        if (method === 'offline') {
          throw new Error('no compose on the host: set docker_offline_compose (a docker-compose v2 binary) or include its package');
        }
        const pkg = method === 'distro' ? 'docker-compose' : 'docker-compose-plugin';
        const command = packageManager === 'apt' ? sh`${raw(APT)} install -y ${pkg}` : sh`${packageManager ?? 'yum'} install -y ${pkg}`;
        return [touching(ctx, { summary: `install ${pkg}`, commands: [long(command)] })];
      },
      async verify(ctx) {
        const argv = composeArgvOf(await engine(ctx));
        if (!argv) throw new Error(`neither docker compose nor docker-compose works (packages tried: ${CE_PACKAGES.at(-1)}, docker-compose)`);
        ctx.log(`compose: ${argv.join(' ')}`);
      },
    }),

    defineStep({
      name: 'restart Docker if daemon.json changed',
      async plan(ctx) {
        if (!ctx.play.state.get(restartKey(ctx))) {
          pastRestart(ctx);
          return [];
        }
        const docker = await engine(ctx);
        const pending = merged(takePending(ctx));
        const restart = planRestart(serviceManager(ctx, docker)).map((command) => ({ command, timeoutMs: 180_000 }));
        const change = await engineChange(ctx, docker, { summary: 'restart Docker (daemon.json changed)', ...pending, commands: [...pending.commands, ...restart] });
        return [around(change, (inner) => inner().finally(() => pastRestart(ctx)))];
      },
      async verify(ctx) {
        if (!(await engine(ctx)).running) throw new Error('dockerd does not answer after the restart');
      },
    }),
  ].map(tracked),
});

// ---------------------------------------------------------------- the engine, read once

const staleKey = (ctx: StepContext) => `docker:engine-stale:${ctx.host.name}`;
const touchedKey = (ctx: StepContext) => `docker:engine-touched:${ctx.host.name}`;

/** The engine as the role's batch read it, or read again once, after a change of ours touched it. */
function engine(ctx: StepContext): Promise<DockerInfo> {
  return ctx.fact(dockerFact, { fresh: ctx.play.state.delete(staleKey(ctx)) });
}

/** This run changed the engine on this host (installed, started, restarted it). */
const engineTouched = (ctx: StepContext): boolean => ctx.play.state.has(touchedKey(ctx));

/** The change, after which the engine is read again (it ran, or tried to). */
function touching(ctx: StepContext, change: Change): Change {
  return around(change, async (inner) => {
    ctx.play.state.set(staleKey(ctx), true);
    ctx.play.state.set(touchedKey(ctx), true);
    await inner();
  });
}

/**
 * A change to the engine. Over a running dockerd it stops or restarts it: then it runs in this host's turn of
 * the play's rolling restart, gated by what runs here now, and ends with dockerd answering.
 */
async function engineChange(ctx: StepContext, docker: DockerInfo, change: Change): Promise<Change> {
  if (!docker.running) return touching(ctx, change);
  const gates = restartGates((await stackContainers(ctx)).running);
  const answering = async () => {
    const now = await engine(ctx);
    for (const command of planStart({ ...now, init: serviceManager(ctx, now) })) await ctx.run(command, { become: true, timeoutMs: 120_000 });
  };
  const rolled: Change = { ...change, summary: `${change.summary}, one host at a time: ${describeGates(ctx.host.name, gates)}`, apply: answering };
  return touching(ctx, around(rolled, (inner) => rollingRestart(ctx, gates, inner)));
}

// ---------------------------------------------------------------- what the steps decide with

async function daemonJsonBeforeInstall(ctx: StepContext): Promise<Change[]> {
  const content = renderDaemonJson(wantedDaemonOptions(stackVars(ctx).docker_daemon_options));
  const changes = [...(await ensureDir(ctx, { path: DOCKER_DIR, become: true })), ...(await ensureFile(ctx, daemonFile(content)))];
  return changes.map((c) => ({ ...c, summary: `${c.summary} (before the install: dockerd starts once, with it)` }));
}

const restartKey = (ctx: StepContext) => `docker:restart:${ctx.host.name}`;
/** daemon.json was planned before the install (a host with no engine yet). */
const firstKey = (ctx: StepContext) => `docker:daemon-json-first:${ctx.host.name}`;
/** daemon.json changes waiting for this host's restart turn (its dockerd runs). */
const pendingKey = (ctx: StepContext) => `docker:daemon-json:${ctx.host.name}`;
const daemonFile = (content: string) => ({ path: DAEMON_JSON, content, mode: 0o644, become: true });
const long = (command: string): PlannedCommand => ({ command, timeoutMs: INSTALL_TIMEOUT_MS, stream: true });

function takePending(ctx: StepContext): Change[] {
  const pending = (ctx.play.state.get(pendingKey(ctx)) as Change[] | undefined) ?? [];
  ctx.play.state.delete(pendingKey(ctx));
  return pending;
}

/** The writes and commands of several changes as one (daemon.json's write, then its chmod/chown). */
function merged(changes: Change[]): { writes: NonNullable<Change['writes']>; commands: PlannedCommand[] } {
  return { writes: changes.flatMap((c) => c.writes ?? []), commands: changes.flatMap((c) => c.commands ?? []) };
}

/** The service manager to use: detected, unless `docker_service_manager` names one (e.g. none: dockerd detached). */
function serviceManager(ctx: StepContext, docker: DockerInfo): InitSystem {
  const wanted = stackVars(ctx).docker_service_manager;
  return wanted === 'auto' ? docker.init : wanted;
}

async function installMethod(ctx: StepContext): Promise<InstallMethod> {
  return stackVars(ctx).docker_install_method ?? defaultInstallMethod(await ctx.fact(osFact));
}

async function installPlan(ctx: StepContext, docker: DockerInfo) {
  const v = stackVars(ctx);
  const os = await ctx.fact(osFact);
  const method = await installMethod(ctx);
  // What apt could install without a network: read only when an install is due.
  const candidates = os.packageManager === 'apt' && method === 'distro' ? await ctx.fact(aptCandidatesFact([...DISTRO_PACKAGES, ...DISTRO_RECOMMENDS])) : {};
  const vars = {
    method,
    repoUrl: v.docker_ce_repo_url.replace(/\/+$/, ''),
    offlinePackages: v.docker_offline_packages,
    offlineBundle: v.docker_offline_bundle,
    offlineCompose: v.docker_offline_compose,
  };
  return planInstall(os, vars, candidates, serviceManager(ctx, docker));
}

/** Our containers on the host before a change; a dockerd that is down runs none. A failed `docker ps` fails the step. */
async function stackContainers(ctx: StepContext): Promise<StackContainers> {
  if (!(await engine(ctx)).running) return { running: [], any: false };
  return parseStackContainers((await ctx.$`docker ps -a --format ${STACK_CONTAINERS_FORMAT}`).stdout);
}

/** A data-root or storage-driver change where the stack's containers live would hide them all: refused. */
async function refuseStorageMove(ctx: StepContext, wanted: Record<string, unknown>): Promise<void> {
  if (!(await stackContainers(ctx)).any) return;
  const now = await ctx.fact(fileFact(DAEMON_JSON, true));
  const moved = storageChanges(now.kind === 'file' ? now.content : undefined, wanted);
  if (moved.length) {
    throw new Error(`${DAEMON_JSON}: refusing to change ${moved.join(', ')} while the stack's containers live in this dockerd: ` +
      "after the restart it would run without them (etcd's included). Move the data by hand, or keep the current value in docker_daemon_options");
  }
}

export { composeCommand, composeArgvOf, dockerFact, type ComposeArgv, type DockerInfo } from '../../facts/docker.ts';
