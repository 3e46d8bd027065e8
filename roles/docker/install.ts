// How Docker gets onto a host, per install method and package manager: pure, facts and vars in,
// uploads and commands out (tested per distribution in test/unit/docker-install.test.ts).
import { posix } from 'node:path';
import { raw, sh } from '../../lib/shell.ts';
import type { OsInfo } from '../../facts/os.ts';

export type InstallMethod = 'distro' | 'docker-ce' | 'offline';
export const INSTALL_METHODS: InstallMethod[] = ['distro', 'docker-ce', 'offline'];

/** Debian/Ubuntu ship a recent docker.io; the RHEL family's own "docker" is 1.13 (or podman): Docker CE there. */
export const defaultInstallMethod = (os: OsInfo): InstallMethod => (os.family === 'debian' ? 'distro' : 'docker-ce');

export interface InstallVars {
  method: InstallMethod;
  /** Docker's repository or an internal mirror of it. */
  repoUrl: string;
  /** Controller paths of .deb/.rpm files (offline). */
  offlinePackages: string[];
  /** Controller path of a static bundle from download.docker.com/linux/static (offline). */
  offlineBundle?: string;
  /** Controller path of a docker-compose v2 binary, installed as the CLI plugin (offline bundle). */
  offlineCompose?: string;
}

export interface Upload {
  local: string;
  remote: string;
  mode: number;
}

export interface InstallPlan {
  summary: string;
  uploads: Upload[];
  /** Files to write (the systemd unit of a static install). */
  files: { path: string; content: string }[];
  commands: string[];
}

// Waits for another apt/dpkg run (unattended-upgrades, a concurrent install) instead of failing on its lock.
export const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600';
/**
 * Finishes an interrupted dpkg run. dpkg has no lock timeout of its own: retry while another run holds
 * the lock (its message names the lock), up to 10 minutes; any other error fails at once.
 */
export const DPKG_CONFIGURE =
  'i=0; until out=$(DEBIAN_FRONTEND=noninteractive dpkg --configure -a 2>&1); do ' +
  'case "$out" in *lock*) ;; *) echo "$out" >&2; exit 1;; esac; ' +
  'i=$((i+1)); if [ "$i" -ge 600 ]; then echo "$out" >&2; exit 1; fi; sleep 1; done';
export const DISTRO_PACKAGES = ['docker.io', 'docker-compose'];
/**
 * The Recommends of docker.io that a server running the stack needs, installed by name with
 * --no-install-recommends: apparmor (on an AppArmor kernel dockerd cannot start a container without
 * apparmor_parser), ca-certificates (registry TLS), xz-utils (`docker load` runs xz for .xz tarballs). The rest
 * (git, needrestart, cgroupfs-mount, runc's criu, and binutils and perl behind them) is half the packages and
 * half the install time, and nothing here uses it. Like a Recommends, one the host's apt cache lacks is left out.
 */
export const DISTRO_RECOMMENDS = ['apparmor', 'ca-certificates', 'xz-utils'];
export const CE_PACKAGES = ['docker-ce', 'docker-ce-cli', 'containerd.io', 'docker-buildx-plugin', 'docker-compose-plugin'];
/** Older engines that block docker-ce on the RHEL family (CentOS 7's docker 1.13, podman's runc on 8/9). */
const RHEL_OLD_PACKAGES = ['docker', 'docker-client', 'docker-client-latest', 'docker-common', 'docker-latest',
  'docker-latest-logrotate', 'docker-logrotate', 'docker-engine'];
/**
 * Where offline artifacts land before they are installed: root's own (0700), not a world-writable place
 * where another user could swap a package between the upload and the install.
 */
export const OFFLINE_DIR = '/var/lib/gatewright/docker-offline';
export const OFFLINE_DIR_CMD = sh`install -d -m 0700 -o root -g root -- ${OFFLINE_DIR}`;
export const COMPOSE_PLUGIN = '/usr/local/lib/docker/cli-plugins/docker-compose';

/** Why an uploaded artifact must not be installed (its sha256 is not the controller file's), or undefined. */
export function checksumRefusal(host: string, u: Upload, want: string, got: string | null): string | undefined {
  if (got === want) return undefined;
  return `${host}: ${u.remote} (uploaded from ${u.local}) has sha256 ${got ?? '(unreadable)'}, the controller's file has ${want}: ` +
    'refusing to install it (a damaged or swapped upload); rerun to upload it again';
}
export const STATIC_UNIT_PATH = '/etc/systemd/system/docker.service';

/**
 * `aptCandidates`: what `apt-cache policy` resolves now; `apt-get update` runs only when a package has
 * no candidate, so hosts without a network install from the cache.
 */
export function planInstall(
  os: OsInfo,
  v: InstallVars,
  aptCandidates: Record<string, string | undefined> = {},
  init: string = 'systemd',
): InstallPlan {
  const pm = os.packageManager;
  if (!pm) throw new Error(`${os.prettyName}: no package manager (dnf, yum, apt-get) to install Docker with`);
  if (v.method === 'offline') return planOffline(os, v, init);
  if (v.method === 'distro') {
    if (pm !== 'apt') {
      throw new Error(`${os.prettyName} ships no Docker >= 20.10 (its "docker" is 1.13 or podman): ` +
        'set docker_install_method: docker-ce (or offline with docker_offline_bundle)');
    }
    const missing = DISTRO_PACKAGES.filter((p) => !aptCandidates[p]);
    // After an `apt-get update` every one of them resolves on a Debian or Ubuntu mirror.
    const recommends = missing.length ? DISTRO_RECOMMENDS : DISTRO_RECOMMENDS.filter((p) => aptCandidates[p]);
    return {
      summary: `install ${DISTRO_PACKAGES.join(' + ')} from ${os.prettyName}`,
      uploads: [],
      files: [],
      commands: [
        ...(missing.length ? [`${APT} update`] : []),
        sh`${raw(APT)} install -y --no-install-recommends ${[...DISTRO_PACKAGES, ...recommends]}`,
      ],
    };
  }
  return pm === 'apt' ? planCeApt(os, v) : planCeRpm(os, v, pm);
}

function planCeApt(os: OsInfo, v: InstallVars): InstallPlan {
  const distro = os.id === 'ubuntu' ? 'ubuntu' : 'debian';
  const base = `${v.repoUrl}/linux/${distro}`;
  const key = '/etc/apt/keyrings/docker.asc';
  return {
    summary: `install Docker CE from ${base} (${os.codename})`,
    uploads: [],
    files: [],
    commands: [
      sh`${raw(APT)} install -y ca-certificates curl`,
      'install -m 0755 -d /etc/apt/keyrings',
      sh`curl -fsSL ${`${base}/gpg`} -o ${key}`,
      sh`chmod a+r ${key}`,
      sh`printf ${'deb [arch=%s signed-by=%s] %s %s stable\\n'} "$(dpkg --print-architecture)" ${key} ${base} ${os.codename} > /etc/apt/sources.list.d/docker.list`,
      `${APT} update`,
      sh`${raw(APT)} install -y ${CE_PACKAGES}`,
    ],
  };
}

function planCeRpm(os: OsInfo, v: InstallVars, pm: 'dnf' | 'yum'): InstallPlan {
  const repo = `${v.repoUrl}/linux/${os.id === 'rhel' ? 'rhel' : 'centos'}/docker-ce.repo`;
  const repoFile = '/etc/yum.repos.d/docker-ce.repo';
  const commands =
    pm === 'yum'
      ? [sh`yum remove -y ${RHEL_OLD_PACKAGES}`, 'yum install -y yum-utils', sh`yum-config-manager --add-repo ${repo}`]
      : ['dnf install -y dnf-plugins-core', sh`dnf config-manager --add-repo ${repo}`];
  // A mirror serves the same tree: point the repo file's baseurls at it too.
  if (v.repoUrl !== DOCKER_REPO_URL) commands.push(sh`sed -i ${`s|${DOCKER_REPO_URL}|${v.repoUrl}|g`} ${repoFile}`);
  // --allowerasing lets dnf replace podman's runc/containerd on EL8/9.
  commands.push(pm === 'yum' ? sh`yum install -y ${CE_PACKAGES}` : sh`dnf install -y --allowerasing ${CE_PACKAGES}`);
  return { summary: `install Docker CE from ${repo}`, uploads: [], files: [], commands };
}

export const DOCKER_REPO_URL = 'https://download.docker.com';

function planOffline(os: OsInfo, v: InstallVars, init: string): InstallPlan {
  if (v.offlinePackages.length) {
    const uploads = v.offlinePackages.map((local) => ({ local, remote: `${OFFLINE_DIR}/${posix.basename(local)}`, mode: 0o600 }));
    const files = uploads.map((u) => u.remote);
    const install =
      os.packageManager === 'apt'
        ? sh`${raw(APT)} install -y ${files}`
        : os.packageManager === 'dnf'
          ? sh`dnf install -y --disablerepo=${'*'} --allowerasing ${files}`
          : sh`yum localinstall -y --disablerepo=${'*'} ${files}`;
    return { summary: `install Docker from ${files.length} packages copied from the controller`, uploads, files: [], commands: [install] };
  }
  if (!v.offlineBundle) {
    throw new Error('docker_install_method: offline needs docker_offline_bundle (a static .tgz) or docker_offline_packages');
  }
  const tgz = `${OFFLINE_DIR}/${posix.basename(v.offlineBundle)}`;
  const uploads: Upload[] = [{ local: v.offlineBundle, remote: tgz, mode: 0o600 }];
  // The static bundle is docker/{docker,dockerd,containerd,runc,...}: into /usr/bin as Docker's docs do
  // (RHEL's sudo secure_path has no /usr/local/bin).
  const commands = [sh`tar -xzf ${tgz} -C /usr/bin --strip-components=1 --no-same-owner`, 'groupadd -f docker'];
  if (v.offlineCompose) {
    // Into the private folder first, checked, then installed: never straight onto PATH unchecked.
    const staged = `${OFFLINE_DIR}/${posix.basename(v.offlineCompose)}`;
    uploads.push({ local: v.offlineCompose, remote: staged, mode: 0o700 });
    commands.push(sh`install -D -m 0755 -o root -g root -- ${staged} ${COMPOSE_PLUGIN}`);
  }
  const files = init === 'systemd' ? [{ path: STATIC_UNIT_PATH, content: STATIC_UNIT }] : [];
  if (init === 'systemd') commands.push('systemctl daemon-reload');
  return { summary: `install Docker from the static bundle ${posix.basename(v.offlineBundle)}`, uploads, files, commands };
}

// Docker's own docker.service, trimmed to what a static dockerd (with its own containerd) needs.
export const STATIC_UNIT = `[Unit]
Description=Docker Application Container Engine (static binaries, installed by gatewright)
Documentation=https://docs.docker.com
After=network-online.target firewalld.service
Wants=network-online.target

[Service]
Type=notify
ExecStart=/usr/bin/dockerd
ExecReload=/bin/kill -s HUP $MAINPID
TimeoutStartSec=0
Restart=always
RestartSec=2
LimitNOFILE=infinity
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
Delegate=yes
KillMode=process
OOMScoreAdjust=-500

[Install]
WantedBy=multi-user.target
`;
