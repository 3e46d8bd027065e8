// docker: the guide's "install Docker" chapter. Docker >= 20.10.7 installed, enabled and answering,
// compose available, daemon.json as asked, and the daemon restarted only when that file changed.
import { posix } from 'node:path';
import { defineRole, defineStep, type StepContext } from '../../lib/types.ts';
import { ensureFile } from '../../lib/files.ts';
import { raw, sh } from '../../lib/shell.ts';
import { osFact } from '../preflight/facts.ts';
import { atLeast, MIN_DOCKER } from '../preflight/versions.ts';
import { DAEMON_JSON, renderDaemonJson } from './daemon-config.ts';
import { aptCandidatesFact, composeArgvOf, dockerFact, type DockerInfo, type InitSystem } from './facts.ts';
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
  type InstallPlan,
} from './install.ts';
import { planRestart, planStart } from './service.ts';

const LONG = { become: true, timeoutMs: 900_000, stream: true };
const restartKey = (ctx: StepContext) => `docker:restart:${ctx.host.name}`;

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

/** Uploads (offline), files (a static install's unit), then the commands, in that order. */
async function applyInstall(ctx: StepContext, plan: InstallPlan): Promise<void> {
  const dirs = [...new Set(plan.uploads.map((u) => posix.dirname(u.remote)))];
  if (dirs.length) await ctx.run(sh`mkdir -p -- ${dirs}`, { become: true });
  for (const u of plan.uploads) await ctx.transport.putFile(u.local, u.remote, { mode: u.mode, become: true });
  for (const f of plan.files) await ctx.transport.put(f.path, f.content, { mode: 0o644, become: true });
  for (const command of plan.commands) await ctx.run(command, LONG);
}

const installed = defineStep({
  name: `Docker >= ${MIN_DOCKER} installed`,
  async plan(ctx) {
    const docker = await ctx.fact(dockerFact);
    if (docker.unconfigured) {
      return [{ summary: 'finish the interrupted package install (dpkg --configure -a)', apply: async () => void (await ctx.run(DPKG_CONFIGURE, LONG)) }];
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
    return [{ summary: `${plan.summary}${was}`, apply: () => applyInstall(ctx, plan) }];
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
  when: (ctx) => {
    const o = ctx.vars.docker_daemon_options;
    return (typeof o === 'object' && o !== null && Object.keys(o).length > 0) || 'no docker_daemon_options';
  },
  async plan(ctx) {
    const content = renderDaemonJson(ctx.vars.docker_daemon_options as Record<string, unknown>);
    await ctx.run(sh`mkdir -p ${posix.dirname(DAEMON_JSON)}`, { become: true });
    const changes = await ensureFile(ctx, { path: DAEMON_JSON, content, mode: 0o644, become: true });
    // Handler-like: a changed file asks for one restart at the end of the role (if dockerd runs by then).
    if (changes.length) ctx.play.state.set(restartKey(ctx), true);
    return changes;
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
    if (!ctx.play.state.get(restartKey(ctx))) return [];
    const docker = await ctx.fact(dockerFact);
    return [
      {
        summary: 'restart Docker (daemon.json changed)',
        async apply() {
          for (const command of planRestart(serviceManager(ctx, docker))) await ctx.run(command, { become: true, timeoutMs: 180_000 });
          ctx.play.state.delete(restartKey(ctx));
        },
      },
    ];
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
  steps: [installed, daemonConfig, running, compose, restartIfChanged],
});

export { composeCommand, composeArgvOf, dockerFact, type ComposeArgv, type DockerInfo } from './facts.ts';
