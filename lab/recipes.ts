// What each lab image is made of. Hosts are Debian bookworm with systemd and sshd, Docker's .debs
// cached but not installed; stand-in images are node + the esbuild bundle on a minimal rootfs.
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { DebianMirrors } from './apt-sources.ts';
import { imageSourcesList } from './apt-sources.ts';
import type { ContextFile, Recipe } from './recipe.ts';
import { LAYOUT, type Plane } from './bundle-files.ts';
import { API7_IMAGE_TAGS, API7_VERSIONS, ETCD_VERSION } from './topology.ts';
import { $ } from './run.ts';

const HERE = new URL('.', import.meta.url).pathname;

/** Paths of the stand-in bundles (lab/standins/build.ts output). */
export interface StandinBundles {
  gateway: string;
  dashboard: string;
  upstream: string;
}

export function baseRecipe(mirrors: DebianMirrors): Recipe {
  return {
    name: 'base',
    kind: 'rootfs',
    dockerfile: `debootstrap --variant=minbase bookworm ${mirrors.main}\n`,
    files: { 'etc/apt/sources.list': { text: imageSourcesList(mirrors) } },
  };
}

// python3 because every real Debian/Ubuntu server has it (cloud-init, reportbug, apt-listchanges; RHEL has
// platform-python); minbase alone does not, and a Docker install there compiled Python's whole stdlib first.
const HOST_PACKAGES = [
  'openssh-server', 'sudo', 'systemd', 'systemd-sysv', 'dbus', 'iproute2', 'iputils-ping', 'curl',
  'ca-certificates', 'procps', 'less', 'netcat-openbsd', 'xz-utils', 'python3',
];

// Units that have no job in a container (no udev, no consoles, /sys is not ours to remount).
const MASKED_UNITS = [
  'systemd-udevd.service', 'systemd-udev-trigger.service', 'systemd-remount-fs.service',
  'sys-kernel-debug.mount', 'sys-kernel-tracing.mount', 'sys-kernel-config.mount', 'sys-fs-fuse-connections.mount',
  'getty.target', 'console-getty.service', 'systemd-firstboot.service', 'systemd-modules-load.service',
  'systemd-sysctl.service', 'systemd-hwdb-update.service',
];

export function hostRecipe(base: Recipe): Recipe {
  return {
    name: 'host',
    parent: base,
    files: {
      'lab-init': { copyFrom: join(HERE, 'host/lab-init.sh'), mode: 0o755 },
      'sshd.conf': { copyFrom: join(HERE, 'host/sshd.conf') },
    },
    dockerfile: `FROM {{parent}}
ENV container=docker
RUN apt-get update --error-on=any \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${HOST_PACKAGES.join(' ')} \\
 && apt-get clean \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --download-only docker.io docker-compose \\
 && rm -f /etc/ssh/ssh_host_* \\
 && useradd -m -s /bin/bash ops && usermod -p '*' ops \\
 && echo 'ops ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/ops && chmod 440 /etc/sudoers.d/ops \\
 && systemctl mask ${MASKED_UNITS.join(' ')} \\
 && systemctl set-default multi-user.target && systemctl enable ssh.service \\
 && mkdir -p /etc/lab-boot.d
COPY sshd.conf /etc/ssh/sshd_config.d/lab.conf
COPY lab-init /usr/local/sbin/lab-init
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/sbin/lab-init"]
`,
  };
}

/** The LB host: a host with haproxy's .debs cached too (the haproxy role installs it offline). */
export function lbRecipe(host: Recipe): Recipe {
  return {
    name: 'lb',
    parent: host,
    files: {},
    dockerfile: `FROM {{parent}}
RUN DEBIAN_FRONTEND=noninteractive apt-get install -y -q --download-only haproxy
`,
  };
}

/** The upstream host: httpbin-like /get on port 80 from boot (systemd unit, or boot hook without it). */
export function upstreamRecipe(host: Recipe, bundles: StandinBundles): Recipe {
  return {
    name: 'upstream',
    parent: host,
    files: {
      node: { copyFrom: '/usr/bin/node', mode: 0o755 },
      'upstream.cjs': { copyFrom: bundles.upstream },
      'upstream.service': {
        text: `[Unit]
Description=httpbin-like upstream for the gateway (gatewright lab)
After=network.target

[Service]
ExecStart=/usr/local/bin/node /opt/upstream/upstream.cjs --port 80
Restart=always

[Install]
WantedBy=multi-user.target
`,
      },
      'upstream.sh': { text: 'nohup /usr/local/bin/node /opt/upstream/upstream.cjs --port 80 >/var/log/upstream.log 2>&1 &\n' },
    },
    dockerfile: `FROM {{parent}}
COPY node /usr/local/bin/node
COPY upstream.cjs /opt/upstream/upstream.cjs
COPY upstream.service /etc/systemd/system/upstream.service
COPY upstream.sh /etc/lab-boot.d/upstream.sh
RUN systemctl enable upstream.service
`,
  };
}

/** Debian's etcd 3.4.23 packages (the layer under the bitnami-contract image; unchanged, so cached). */
export function etcdDebianRecipe(base: Recipe): Recipe {
  return {
    name: 'etcd',
    parent: base,
    files: {},
    dockerfile: `FROM {{parent}}
RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \\
 && apt-get update --error-on=any \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends etcd-server etcd-client \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d \\
 && etcd --version | grep -q 'etcd Version: ${ETCD_VERSION}'
ENV ETCDCTL_API=3
EXPOSE 2379 2380
ENTRYPOINT ["/usr/bin/etcd"]
`,
  };
}

/**
 * `bitnami/etcd:3.4.23` of the lab: bitnami's contract (lab/etcd/entrypoint.sh: ETCD_* env,
 * ALLOW_NONE_AUTHENTICATION, data in ETCD_DATA_DIR, `/entrypoint.sh etcd`, user 1001) around Debian's etcd.
 */
export function etcdRecipe(debian: Recipe): Recipe {
  return {
    name: 'etcd-bitnami',
    parent: debian,
    files: { 'entrypoint.sh': { copyFrom: join(HERE, 'etcd/entrypoint.sh'), mode: 0o755 } },
    dockerfile: `FROM {{parent}}
RUN mkdir -p /bitnami/etcd/data && chown -R 1001:0 /bitnami/etcd && chmod 700 /bitnami/etcd/data
COPY entrypoint.sh /entrypoint.sh
ENV ETCDCTL_API=3 ETCD_DATA_DIR=/bitnami/etcd/data
USER 1001
ENTRYPOINT ["/entrypoint.sh"]
CMD ["etcd"]
`,
  };
}

/** node, the libraries it links and a POSIX sh: the whole rootfs of a stand-in image. */
export function runtimeRecipe(base: Recipe): Recipe {
  const files: Record<string, ContextFile> = {
    'rootfs/usr/bin/node': { copyFrom: '/usr/bin/node', mode: 0o755 },
    'rootfs/bin/sh': { copyFrom: realpathSync('/bin/sh'), mode: 0o755 },
    'rootfs/etc/passwd': { text: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' },
    'rootfs/etc/group': { text: 'root:x:0:\nnogroup:x:65534:\n' },
  };
  for (const lib of linkedLibraries(['/usr/bin/node', '/bin/sh'])) files[`rootfs${lib}`] = { copyFrom: realpathSync(lib), mode: 0o755 };
  return {
    name: 'runtime',
    parent: base,
    files,
    // The base only lends its mkdir: the image itself starts from scratch.
    dockerfile: `FROM {{parent}} AS dirs
RUN mkdir -p -m 1777 /rootfs/tmp && mkdir -p /rootfs/root /rootfs/app
FROM scratch
COPY --from=dirs /rootfs/ /
COPY rootfs/ /
`,
  };
}

/** Absolute paths of the shared libraries (and loader) the given binaries load, as `ldd` names them. */
export function linkedLibraries(binaries: string[]): string[] {
  const libs = new Set<string>();
  for (const bin of binaries) {
    for (const line of execFileSync('ldd', [bin], { encoding: 'utf8' }).split('\n')) {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
      if (m) libs.add(m[1]);
    }
  }
  return [...libs].sort();
}

export type Standin = 'dashboard' | 'gateway';

/** The bundle each stand-in image ships in: the dashboard is the control plane, the gateway the data plane. */
const PLANE: Record<Standin, Plane> = { dashboard: 'cp', gateway: 'dp' };

/** Where each stand-in sits in its image, as in the real image, and the command that starts it. */
const STANDIN_IMAGE: Record<Standin, { home: string; launcher: string; entrypoint: string[]; cmd: string[] }> = {
  dashboard: {
    home: '/usr/local/apisix-dashboard',
    launcher: 'manager-api',
    entrypoint: ['/usr/local/apisix-dashboard/manager-api'],
    cmd: ['-c', LAYOUT.cp.confMount],
  },
  gateway: {
    home: '/usr/local/apisix',
    launcher: 'docker-entrypoint.sh',
    entrypoint: ['/usr/local/apisix/docker-entrypoint.sh'],
    cmd: ['docker-start'],
  },
};

/**
 * The stand-in bundle on the runtime, reporting `tag` as its version (an image's version is its own tag,
 * whatever the bundle it ships in is called); tagged api7ee.azurecr.io/api7-<name>:<tag> when saved.
 */
export function standinRecipe(runtime: Recipe, name: Standin, tag: string, bundle: string): Recipe {
  const img = STANDIN_IMAGE[name];
  const conf = LAYOUT[PLANE[name]].confMount;
  // `docker-start` is the real gateway image's CMD; the launcher passes the conf path either way.
  const launcher = `#!/bin/sh\n[ "$1" = docker-start ] && shift && set -- -c ${conf}\nexec /usr/bin/node ${img.home}/${name}.cjs "$@"\n`;
  const tls = name === 'gateway'
    ? `COPY gateway.crt gateway.key ${img.home}/conf/cert/
ENV GATEWAY_TLS_CERT=${img.home}/conf/cert/gateway.crt GATEWAY_TLS_KEY=${img.home}/conf/cert/gateway.key
`
    : '';
  return {
    name: `${name}-${tag}`,
    parent: runtime,
    files: { [`${name}.cjs`]: { copyFrom: bundle }, VERSION: { text: `${tag}\n` }, [img.launcher]: { text: launcher, mode: 0o755 } },
    prepare: name === 'gateway' ? selfSignedCert : undefined,
    dockerfile: `FROM {{parent}}
COPY ${name}.cjs VERSION ${img.launcher} ${img.home}/
${tls}ENV API7_VERSION=${tag}
WORKDIR ${img.home}
ENTRYPOINT ${JSON.stringify(img.entrypoint)}
CMD ${JSON.stringify(img.cmd)}
`,
  };
}

/** A fresh self-signed certificate for the gateway's TLS port (not part of the recipe hash). */
async function selfSignedCert(dir: string): Promise<void> {
  await $`openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=api7-gateway -addext subjectAltName=DNS:test.com,DNS:localhost -keyout ${join(dir, 'gateway.key')} -out ${join(dir, 'gateway.crt')}`;
}

export interface LabRecipes {
  base: Recipe;
  host: Recipe;
  lb: Recipe;
  upstream: Recipe;
  etcdDebian: Recipe;
  etcd: Recipe;
  runtime: Recipe;
  standins: { plane: Plane; version: string; tag: string; recipe: Recipe }[];
}

/** Without stand-in bundles (lab/standins not buildable) the upstream host is a plain host, no stand-in images. */
export function labRecipes(mirrors: DebianMirrors, bundles: StandinBundles | undefined): LabRecipes {
  const base = baseRecipe(mirrors);
  const host = hostRecipe(base);
  const runtime = runtimeRecipe(base);
  const etcdDebian = etcdDebianRecipe(base);
  const standins = !bundles ? [] : API7_VERSIONS.flatMap((version) =>
    (['dashboard', 'gateway'] as const).map((name) => ({
      plane: PLANE[name],
      version,
      tag: API7_IMAGE_TAGS[version],
      recipe: standinRecipe(runtime, name, API7_IMAGE_TAGS[version], bundles[name]),
    })),
  );
  return { base, host, lb: lbRecipe(host), upstream: bundles ? upstreamRecipe(host, bundles) : host, etcdDebian, etcd: etcdRecipe(etcdDebian), runtime, standins };
}
