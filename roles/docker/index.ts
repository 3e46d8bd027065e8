// docker: the guide's "install Docker" chapter. Docker >= 20.10.7 installed, enabled and answering,
// compose available, daemon.json as asked (live-restore on unless the options say otherwise), and the
// daemon restarted only when that file changed. Restarts and engine upgrades of a running dockerd roll
// one host at a time behind health gates (rolling.ts): never every host at once.
import { posix } from 'node:path';
import { defineRole, defineStep, type StepContext } from '../../lib/types.ts';
import { ensureFile } from '../../lib/files.ts';
import { raw, sh } from '../../lib/shell.ts';
import { osFact } from '../../facts/os.ts';
import { atLeast, MIN_DOCKER } from '../../facts/versions.ts';
import { applyInstall } from './apply-install.ts';
import { DAEMON_JSON, renderDaemonJson, storageChanges, wantedDaemonOptions } from './daemon-config.ts';
import { aptCandidatesFact, composeArgvOf, dockerFact, type DockerInfo, type InitSystem } from '../../facts/docker.ts';
import {
  APT,
  CE_PACKAGES,
  DPKG_CONFIGURE,
  defaultInstallMethod,
  DISTRO_PACKAGES,
  DOCKER_REPO_URL,
  INSTALL_METHODS,
  planInstall,
  type InstallMethod,
} from './install.ts';
import { describeGates, parseStackContainers, restartGates, rollingRestart, STACK_CONTAINERS, type StackContainers } from './rolling.ts';
import { pastRestart, tracked } from './turns.ts';
import { planRestart, planStart } from './service.ts';
import { applyChange, around } from '../../lib/change.ts';

const LONG = { become: true, timeoutMs: 900_000, stream: true };
const restartKey = (ctx: StepContext) => `docker:restart:${ctx.host.name}`;
/** daemon.json content waiting for this host's restart turn (its dockerd runs). */
const pendingKey = (ctx: StepContext) => `docker:daemon-json:${ctx.host.name}`;
const daemonFile = (content: string) => ({ path: DAEMON_JSON, content, mode: 0o644, become: true });

/** Writes the daemon.json the daemon.json step left for this host's turn, re-read first; nothing when none is waiting. */
async function writePending(ctx: StepContext): Promise<void> {
  const content = ctx.play.state.get(pendingKey(ctx)) as string | undefined;
  if (content === undefined) return;
  for (const change of await ensureFile(ctx, daemonFile(content))) await applyChange(ctx, change);
  ctx.play.state.delete(pendingKey(ctx));
}

const INIT_SYSTEMS: InitSystem[] = ['systemd', 'openrc', 'sysv', 'none'];

/** The service manager to use: detected, unless `docker_service_manager` names one (e.g. none: dockerd detached). */
function serviceManager(ctx: StepContext, docker: DockerInfo): InitSystem {
  const wanted = ctx.vars.docker_service_manager;
  if (wanted === undefined || wanted === '' || wanted === 'auto') return docker.init;
  if (!INIT_SYSTEMS.includes(wanted as InitSystem)) {
    throw new Error(`docker_service_manager must be auto or one of ${INIT_SYSTEMS.join(', ')}, got ${JSON.stringify(wanted)}`);
  }
  return wanted as InitSystem;
}

async function installMethod(ctx: StepContext): Promise<InstallMethod> {
  const wanted = ctx.vars.docker_install_method;
  if (wanted === undefined || wanted === '') return defaultInstallMethod(await ctx.fact(osFact));
  if (!INSTALL_METHODS.includes(wanted as InstallMethod)) {
    throw new Error(`docker_install_method must be one of ${INSTALL_METHODS.join(', ')}, got ${JSON.stringify(wanted)}`);
  }
  return wanted as InstallMethod;
}

/** Our containers on the host before a change; a dockerd that is down runs none. A failed `docker ps` fails the step. */
async function stackContainers(ctx: StepContext): Promise<StackContainers> {
  if (!(await ctx.fact(dockerFact)).running) return { running: [], any: false };
  return parseStackContainers((await ctx.run(STACK_CONTAINERS, { become: true })).stdout);
}

/**
 * A change that stops or restarts a running dockerd (a restart, an engine upgrade over a running one):
 * in this host's turn of the play's rolling restart, gated by what runs here now, and ending with
 * dockerd answering.
 */
async function rollingDockerChange(ctx: StepContext, summary: string, change: () => Promise<void>) {
  const gates = restartGates((await stackContainers(ctx)).running);
  return {
    summary: `${summary}, one host at a time: ${describeGates(ctx.host.name, gates)}`,
    apply: () =>
      rollingRestart(ctx, gates, async () => {
        await change();
        const docker = await ctx.fact(dockerFact, { fresh: true });
        for (const command of planStart({ ...docker, init: serviceManager(ctx, docker) })) await ctx.run(command, { become: true, timeoutMs: 120_000 });
      }),
  };
}

const installed = defineStep({
  name: `Docker >= ${MIN_DOCKER} installed`,
  async plan(ctx) {
    const docker = await ctx.fact(dockerFact);
    const configure = async () => void (await ctx.run(DPKG_CONFIGURE, LONG));
    if (docker.unconfigured) {
      const summary = 'finish the interrupted package install (dpkg --configure -a)';
      return [docker.running ? await rollingDockerChange(ctx, summary, configure) : { summary, apply: configure }];
    }
    if (docker.version && atLeast(docker.version, MIN_DOCKER)) return [];
    const os = await ctx.fact(osFact);
    const method = await installMethod(ctx);
    const candidates =
      os.packageManager === 'apt' && method === 'distro' ? await ctx.fact(aptCandidatesFact(DISTRO_PACKAGES)) : {};
    const plan = planInstall(
      os,
      {
        method,
        repoUrl: String(ctx.vars.docker_ce_repo_url || DOCKER_REPO_URL).replace(/\/+$/, ''),
        offlinePackages: (ctx.vars.docker_offline_packages as string[] | undefined) ?? [],
        offlineBundle: ctx.vars.docker_offline_bundle as string | undefined,
        offlineCompose: ctx.vars.docker_offline_compose as string | undefined,
      },
      candidates,
      serviceManager(ctx, docker),
    );
    const was = docker.version ? ` (replacing ${docker.version})` : '';
    const install = () => applyInstall(ctx, plan);
    // Upgrading a running engine restarts it (the package scripts do): that rolls like any restart.
    return [docker.running ? await rollingDockerChange(ctx, `${plan.summary}${was}`, install) : { summary: `${plan.summary}${was}`, apply: install }];
  },
  async verify(ctx) {
    const { version, unconfigured } = await ctx.fact(dockerFact, { fresh: true });
    if (unconfigured) throw new Error('Docker packages are still unconfigured (see dpkg --audit)');
    if (!version) throw new Error('Docker is still not installed (no dockerd or docker on PATH)');
    if (!atLeast(version, MIN_DOCKER)) {
      throw new Error(`Docker ${version} < ${MIN_DOCKER} after install: this source has no newer Docker; ` +
        'set docker_install_method: docker-ce (Docker\'s repository or a mirror: docker_ce_repo_url) or offline');
    }
  },
});

const daemonConfig = defineStep({
  name: 'daemon.json (docker_daemon_options)',
  async plan(ctx) {
    const wanted = wantedDaemonOptions(ctx.vars.docker_daemon_options);
    const content = renderDaemonJson(wanted);
    await ctx.run(sh`mkdir -p ${posix.dirname(DAEMON_JSON)}`, { become: true });
    const changes = await ensureFile(ctx, daemonFile(content));
    if (!changes.length) return [];
    if ((await stackContainers(ctx)).any) {
      const old = (await ctx.run(sh`if [ -e ${DAEMON_JSON} ]; then cat -- ${DAEMON_JSON}; fi`, { become: true })).stdout;
      const moved = storageChanges(old, wanted);
      if (moved.length) {
        throw new Error(`${DAEMON_JSON}: refusing to change ${moved.join(', ')} while the stack's containers live in this dockerd: ` +
          'after the restart it would run without them (etcd\'s included). Move the data by hand, or keep the current value in docker_daemon_options');
      }
    }
    // Handler-like: a changed file asks for one restart at the end of the role (if dockerd runs by then).
    ctx.play.state.set(restartKey(ctx), true);
    if (!(await ctx.fact(dockerFact)).running) return changes;
    // A running dockerd gets the file in its restart turn: after a failed restart, the hosts the roll never
    // reached keep their old file, and a reboot there does not pick up the new one either.
    return [
      {
        summary: `${changes.map((c) => c.summary).join('; ')}, in this host's restart turn`,
        diff: changes.find((c) => c.diff)?.diff,
        apply: async () => void ctx.play.state.set(pendingKey(ctx), content),
      },
    ];
  },
});

const running = defineStep({
  name: 'Docker enabled and running',
  async plan(ctx) {
    const docker = await ctx.fact(dockerFact, { fresh: true });
    const init = serviceManager(ctx, docker);
    const commands = planStart({ ...docker, init });
    if (!commands.length) return [];
    const how = { systemd: 'systemctl enable --now docker', openrc: 'rc-service', sysv: 'service docker start', none: 'dockerd detached (no init system)' }[init];
    return [
      {
        summary: `start Docker (${how})`,
        async apply() {
          // dockerd stopped since the daemon.json step: it starts with the new file, no turn needed.
          await writePending(ctx);
          for (const command of commands) await ctx.run(command, { become: true, timeoutMs: 120_000 });
          // Started now, so it read the new daemon.json already: no restart needed.
          if (!docker.running) ctx.play.state.delete(restartKey(ctx));
        },
      },
    ];
  },
  async verify(ctx) {
    const docker = await ctx.fact(dockerFact, { fresh: true });
    if (!docker.running) throw new Error(`dockerd does not answer (docker info); service manager: ${serviceManager(ctx, docker)}`);
  },
});

const compose = defineStep({
  name: 'compose available (docker compose or docker-compose)',
  async plan(ctx) {
    if (composeArgvOf(await ctx.fact(dockerFact))) return [];
    const os = await ctx.fact(osFact);
    const method = await installMethod(ctx);
    if (method === 'offline') {
      throw new Error('no compose on the host: set docker_offline_compose (a docker-compose v2 binary) or include its package');
    }
    const pkg = method === 'distro' ? 'docker-compose' : 'docker-compose-plugin';
    const command =
      os.packageManager === 'apt'
        ? sh`${raw(APT)} install -y ${pkg}`
        : sh`${os.packageManager ?? 'yum'} install -y ${pkg}`;
    return [{ summary: `install ${pkg}`, apply: async () => void (await ctx.run(command, LONG)) }];
  },
  async verify(ctx) {
    const argv = composeArgvOf(await ctx.fact(dockerFact, { fresh: true }));
    if (!argv) throw new Error(`neither docker compose nor docker-compose works (packages tried: ${CE_PACKAGES.at(-1)}, docker-compose)`);
    ctx.log(`compose: ${argv.join(' ')}`);
  },
});

const restartIfChanged = defineStep({
  name: 'restart Docker if daemon.json changed',
  async plan(ctx) {
    if (!ctx.play.state.get(restartKey(ctx))) {
      pastRestart(ctx);
      return [];
    }
    const docker = await ctx.fact(dockerFact);
    const change = await rollingDockerChange(ctx, 'restart Docker (daemon.json changed)', async () => {
      await writePending(ctx);
      for (const command of planRestart(serviceManager(ctx, docker))) await ctx.run(command, { become: true, timeoutMs: 180_000 });
      ctx.play.state.delete(restartKey(ctx));
    });
    return [around(change, (inner) => inner().finally(() => pastRestart(ctx)))];
  },
  async verify(ctx) {
    if (!(await ctx.fact(dockerFact, { fresh: true })).running) throw new Error('dockerd does not answer after the restart');
  },
});

export default defineRole({
  name: 'docker',
  defaults: {
    docker_ce_repo_url: DOCKER_REPO_URL,
    docker_service_manager: 'auto',
    docker_daemon_options: {},
  },
  // Tracked: the restart turns follow inventory order, waiting for an earlier host only while it is still on its way.
  steps: [installed, daemonConfig, running, compose, restartIfChanged].map(tracked),
});

export { composeCommand, composeArgvOf, dockerFact, type ComposeArgv, type DockerInfo } from '../../facts/docker.ts';
