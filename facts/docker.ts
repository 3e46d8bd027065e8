// What the docker role looks at: the installed engine, whether it answers, the host's service manager,
// compose, and what apt could install without a network.
import { defineFact } from '../lib/types.ts';
import { argv } from '../lib/shell.ts';
import { statMemoCmd } from '../lib/stat-memo.ts';
import { serverVersionCmd } from './engine-api.ts';
import { keyValues, readOk } from './os.ts';
import { findVersion } from './versions.ts';

export type InitSystem = 'systemd' | 'openrc' | 'sysv' | 'none';

export interface DockerInfo {
  /** Engine version: the running server's, else `dockerd --version`, else the client's; undefined: not installed. */
  version?: string;
  /** `docker info` answers (the daemon runs and we can reach its socket). */
  running: boolean;
  /** systemd: `systemctl is-enabled docker` says enabled. */
  enabled: boolean;
  init: InitSystem;
  /** A Debian package of the engine is unpacked but not configured (an apt run was interrupted). */
  unconfigured: boolean;
  /** `docker compose` (v2 plugin) and `docker-compose` (v1) versions, when present. */
  composeV2?: string;
  composeV1?: string;
}

/** Where v1's answer is kept while its program file is unchanged (lib/stat-memo.ts). */
export const COMPOSE_V1_MEMO = '/var/cache/gatewright/docker-compose-version';
/** Where v2's answer is kept while its plugin file is unchanged. */
export const COMPOSE_V2_MEMO = '/var/cache/gatewright/docker-compose-plugin-version';

/** Where the docker CLI looks for its compose plugin, in its order: the user's config dir, then the system's. */
export const PLUGIN_DIRS = ['"${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"', '/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins'];

/**
 * Compose v2 (the plugin) first; v1 only where v2 is missing. Each docker CLI start costs a host 30 ms of CPU
 * and v1 is a Python program that takes 0.2 s to print its version: each answer is kept until its program file
 * changes (an upgrade rewrites it). v2 is asked only where the CLI would find the plugin: in one of its dirs,
 * or anywhere when the config names extra dirs (cliPluginsExtraDirs), then without a memo.
 */
export const COMPOSE_PROBE =
  `p=; for d in ${PLUGIN_DIRS.join(' ')}; do [ -z "$p" ] && [ -x "$d/docker-compose" ] && p="$d/docker-compose"; done; ` +
  // `$( (`, never `$((`: that opens arithmetic.
  `if [ -n "$p" ]; then c=$( ${statMemoCmd('"$p"', COMPOSE_V2_MEMO, 'docker compose version --short 2>/dev/null')} ); ` +
  'elif grep -qs cliPluginsExtraDirs "${DOCKER_CONFIG:-$HOME/.docker}/config.json"; then c=$(docker compose version --short 2>/dev/null); ' +
  'else c=; fi; echo "COMPOSE_V2=$c"; ' +
  '[ -n "$c" ] || echo "COMPOSE_V1=$(b=$(command -v docker-compose) && ' +
  `${statMemoCmd('"$b"', COMPOSE_V1_MEMO, 'docker-compose version --short 2>/dev/null')})"`;

/**
 * The engine, asked once per run: the running server's version (over its API where it can: the docker CLI is
 * among the slowest things a host runs); only when no server answers, dockerd's and the client's own `--version`.
 */
export const dockerFact = defineFact<DockerInfo>({
  name: 'docker',
  become: true,
  command: [
    `${serverVersionCmd()}; echo "SERVER=$s"`,
    'if [ -z "$s" ]; then echo "DOCKERD=$(dockerd --version 2>/dev/null)"; echo "CLIENT=$(docker --version 2>/dev/null)"; fi',
    'echo "SYSTEMD=$([ -d /run/systemd/system ] && echo yes)"',
    'echo "PID1=$(cat /proc/1/comm 2>/dev/null)"',
    'echo "OPENRC=$(command -v rc-service 2>/dev/null)"',
    'echo "SYSV_SCRIPT=$([ -x /etc/init.d/docker ] && echo yes)"',
    'echo "ENABLED=$(systemctl is-enabled docker 2>/dev/null)"',
    `echo "DPKG=$(dpkg-query -W -f='\${db:Status-Abbrev}\${Package} ' docker.io docker-ce containerd containerd.io runc 2>/dev/null)"`,
    COMPOSE_PROBE,
  ].join('; '),
  // Every probe ends in an echo: anything but 0 is the read itself failing (sudo refused, killed), not "no Docker".
  parse: (read) => parseDocker(readOk(read, 'the Docker engine')),
});

export function parseDocker(text: string): DockerInfo {
  const kv = keyValues(text);
  const server = kv.SERVER ? findVersion(kv.SERVER) : undefined;
  return {
    version: server ?? findVersion(kv.DOCKERD ?? '') ?? findVersion(kv.CLIENT ?? ''),
    running: Boolean(server),
    enabled: kv.ENABLED === 'enabled',
    init: initSystem(kv),
    // "ii" = installed; "iU"/"iF" = unpacked / half-configured; "un" = not installed.
    unconfigured: (kv.DPKG ?? '').split(/\s+/).some((w) => /^i[UFH]/.test(w)),
    composeV2: kv.COMPOSE_V2 ? findVersion(kv.COMPOSE_V2) : undefined,
    composeV1: kv.COMPOSE_V1 ? findVersion(kv.COMPOSE_V1) : undefined,
  };
}

// systemd when it runs (not merely installed); an init script only where PID 1 is an init that runs
// them: a container's sshd or shell as PID 1 has no service manager (Debian's script also dies there).
function initSystem(kv: Record<string, string>): InitSystem {
  if (kv.SYSTEMD === 'yes') return 'systemd';
  const pid1 = kv.PID1 ?? '';
  if (kv.OPENRC && /^(openrc-init|init)$/.test(pid1)) return 'openrc';
  if (pid1 === 'init' && kv.SYSV_SCRIPT === 'yes') return 'sysv';
  return 'none';
}

/** Candidate versions apt can install now (from its lists and cache), undefined where "(none)". */
export function aptCandidatesFact(packages: string[]) {
  return defineFact<Record<string, string | undefined>>({
    name: `apt-candidates:${packages.join(',')}`,
    command: `LC_ALL=C apt-cache policy ${argv(packages)} 2>/dev/null || true`,
    parse: ({ stdout }) => parseAptPolicy(stdout, packages),
  });
}

export function parseAptPolicy(text: string, packages: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = Object.fromEntries(packages.map((p) => [p, undefined]));
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const head = line.match(/^(\S+):\s*$/);
    if (head) current = head[1];
    const candidate = line.match(/^\s+Candidate:\s*(\S+)/);
    if (current && candidate && candidate[1] !== '(none)') out[current] = candidate[1];
  }
  return out;
}

// ---------------------------------------------------------------- compose

/** The argv prefix later roles put before `-p <project> -f <file> up -d`. */
export type ComposeArgv = ['docker', 'compose'] | ['docker-compose'];

/** `docker compose` (v2 plugin) when present, else `docker-compose` (v1); undefined when neither is. */
export const composeArgvOf = (d: Pick<DockerInfo, 'composeV2' | 'composeV1'>): ComposeArgv | undefined =>
  d.composeV2 ? ['docker', 'compose'] : d.composeV1 ? ['docker-compose'] : undefined;

/**
 * Which compose this host has, so later roles never guess: `argv(await ctx.fact(composeCommand))`.
 * Fails the asking step when there is none (run the docker role first).
 */
export const composeCommand = defineFact<ComposeArgv>({
  name: 'compose command',
  become: true,
  command: COMPOSE_PROBE,
  parse(result) {
    const found = composeArgvOf(parseDocker(result.stdout));
    if (!found) throw new Error('neither `docker compose` nor `docker-compose` is installed (run the docker role first)');
    return found;
  },
});
