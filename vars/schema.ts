// Every variable the stack's roles read, in one table: its type, default, whether it is a secret, the roles that
// read it and what it means. The loader checks inventories against it (lib/vars.ts checkPlaybookVars), roles
// read typed values through `stackVars(ctx)`, and docs/VARIABLES.md is rendered from it (vars/docs.ts).
import { z } from 'zod';
import { bool, integer, port, safe } from '../lib/vars.ts';
import type { VariableSchema, Vars } from '../lib/types.ts';

export type RoleName = 'preflight' | 'docker' | 'etcd' | 'dashboard' | 'gateway' | 'smoke' | 'lb' | 'verify';

/** A value's type: how it is read from an inventory (YAML or INI strings) and what the docs call it. */
interface Kind<T> {
  type: string;
  schema: z.ZodType<T>;
}

const kind = <T>(type: string, schema: z.ZodType<T>): Kind<T> => ({ type, schema });

/** A string; a YAML number (`api7_version: 2.13`) is read as its text. */
const text = kind('string', z.union([z.string(), z.number()], { error: 'must be a string' }).transform(String).pipe(z.string().min(1, 'must not be empty')));
const flag = kind('boolean', bool as z.ZodType<boolean>);
const whole = kind('integer', integer);
const atLeast = (min: number, why: string) => kind(`integer >= ${min}`, integer.pipe(z.number().min(min, `must be at least ${min} ${why}`)));
const tcpPort = kind('port', port);
/** One of a few words; a YAML number (`lb_haproxy_level: 1.8`) is read as its text. */
const oneOf = <const T extends readonly [string, ...string[]]>(...values: T) =>
  kind(values.join(' | '), z.union([z.string(), z.number()]).transform(String).pipe(z.enum(values, { error: `must be one of ${values.join(', ')}` })));
/** A list, or one comma-separated string (`a, b`): INI inventories and -e give strings. */
const list = kind(
  'list',
  z
    .union([z.array(z.union([z.string(), z.number()])), z.string()], { error: 'must be a list (or a comma-separated string)' })
    .transform((v) => (Array.isArray(v) ? v.map(String) : v.split(',').map((s) => s.trim()).filter(Boolean))),
);
const mapping = kind('mapping', z.record(z.string(), z.unknown(), { error: 'must be a mapping' }));
/** A value rendered into haproxy.cfg: only the shape its place takes (lib/vars.ts SAFE_VALUES). */
const cfgBind = kind('address:port or empty', safe('bind'));
const cfgAddress = kind('address or empty', safe('bindAddress'));
const cfgPath = kind('absolute path', safe('path'));

export interface VarSpec<T = unknown> {
  kind: Kind<T>;
  /** What an unset variable is (an unset one without a default is `undefined`). */
  default?: T;
  /** Says a default computed from other values (shown in the docs instead of `default`). */
  derived?: string;
  /** Passwords, keys, tokens: redacted everywhere (lib/redact.ts names them the same way). */
  secret?: boolean;
  /** `''` is a value (lb_stats_bind: none), not "unset". */
  emptyIsValue?: boolean;
  roles: readonly RoleName[];
  doc: string;
}

type Spec<T> = Omit<VarSpec<T>, 'kind'>;
/** A variable with a default: StackVars always has its value. */
const v = <T>(kind: Kind<T>, spec: Spec<NoInfer<T>> & { default: NoInfer<T> }): VarSpec<T> & { default: T } => ({ ...spec, kind });
/** A variable without one: unset, StackVars has `undefined` (or what the roles derive, `derived` says). */
const opt = <T>(kind: Kind<T>, spec: Spec<NoInfer<T>> & { default?: never }): VarSpec<T> => ({ ...spec, kind });

/** The stack's containers the preflight port check counts as ours (roles/preflight/ports.ts OWN_CONTAINER_NAMES). */
const OWN_CONTAINERS = ['etcd', 'api7-dashboard', 'api7-gateway', 'apisix-dashboard', 'apisix', 'haproxy'];
const PLANES: RoleName[] = ['dashboard', 'gateway'];
const STACK: RoleName[] = ['etcd', 'dashboard', 'gateway'];

export const VARIABLES = {
  // The bundles
  api7_edition: v(oneOf('api7', 'apisix'), { default: 'api7', roles: [...PLANES, 'smoke', 'verify'], doc: '`api7` (guide layout, prefix `/api7`, gateway prefix `/api7/<cluster_id>`) or `apisix` (APISIX 3 layout, prefix `/apisix`)' }),
  api7_version: v(text, { default: '2.13.2304', roles: PLANES, doc: 'bundle version to deploy' }),
  api7_bundle_dir: v(text, { default: './bundles', roles: STACK, doc: 'controller folder holding `api7-<ver>-cp.tar.gz`, `api7-<ver>-dp.tar.gz`, `etcd-<ver>.tar.gz`' }),
  api7_install_dir: v(text, { default: '/opt/api7', roles: [...STACK, 'preflight'], doc: 'where bundles are unpacked on the hosts, each in its own folder `api7-<ver>-cp|dp`' }),
  cluster_id: v(text, { default: 'default', roles: [...PLANES, 'smoke', 'verify'], doc: 'data-plane cluster the gateways join (config.yaml `etcd.prefix` `/api7/<cluster_id>`)' }),
  dashboard_compose_service: v(text, { default: 'api7-dashboard', roles: ['dashboard', 'verify'], doc: "the service of the cp bundle's compose file that is run" }),
  gateway_compose_service: v(text, { default: 'api7-gateway', roles: ['gateway', 'verify'], doc: "the service of the dp bundle's compose file that is run" }),
  dashboard_image_source: v(oneOf('bundle', 'registry'), { default: 'bundle', roles: ['dashboard'], doc: "`bundle` (tarball + `docker load`) or `registry` (`docker pull` of the images the compose file names)" }),
  gateway_image_source: v(oneOf('bundle', 'registry'), { default: 'bundle', roles: ['gateway'], doc: "`bundle` (tarball + `docker load`) or `registry` (`docker pull` of the images the compose file names)" }),

  // etcd
  etcd_version: v(text, { default: '3.4.13', roles: ['etcd'], doc: 'etcd version: the tarball `etcd-<etcd_version>.tar.gz` and the default image tag' }),
  etcd_image: opt(text, { derived: '`bitnami/etcd:<etcd_version>`', roles: ['etcd'], doc: 'etcd image, run as the guide does (`-u root`, data at `/etcd_data`)' }),
  etcd_image_source: v(oneOf('bundle', 'registry'), { default: 'bundle', roles: ['etcd'], doc: '`bundle` (`etcd-<etcd_version>.tar.gz` + `docker load`) or `registry` (`docker pull` of `etcd_image`)' }),
  etcd_data_dir: v(text, { default: '/usr/local/etcd/etcd_data', roles: ['etcd', 'preflight'], doc: "host data directory; changed on a running cluster, each member's data is moved there one member at a time" }),
  etcd_client_port: v(tcpPort, { default: 2379, roles: [...STACK, 'docker', 'preflight'], doc: "etcd's client port" }),
  etcd_peer_port: v(tcpPort, { default: 2380, roles: ['etcd', 'preflight'], doc: "etcd's peer port" }),
  etcd_cluster_token: v(text, { default: 'etcd-cluster', secret: true, roles: ['etcd'], doc: "the guide's `ETCD_INITIAL_CLUSTER_TOKEN` (redacted: its name says token)" }),
  etcd_enable_v2: v(flag, { default: true, roles: ['etcd'], doc: "the guide's `ETCD_ENABLE_V2`" }),
  etcd_name: opt(text, { derived: '`api7-etcd-<N>` in inventory order', roles: ['etcd'], doc: "a host's etcd member name (host var)" }),
  etcd_address: opt(text, { derived: "the host's `ansible_host`", roles: [...STACK, 'docker', 'preflight'], doc: 'the address etcd peers and clients use for this member (host var)' }),
  etcd_auth_enabled: v(flag, { default: false, roles: STACK, doc: 'etcd auth with the `root` user; turned back off, the etcd play disables it with the stored root credentials. Off: the recap warns' }),
  etcd_root_password: opt(kind('string without whitespace', text.schema.pipe(z.string().regex(/^\S+$/, 'must not contain whitespace (etcdctl reads it from stdin as one word)'))), { secret: true, roles: STACK, doc: "password of etcd's `root` user (needed with `etcd_auth_enabled`); a changed one is rotated" }),
  etcd_tls_enabled: v(flag, { default: false, roles: [...STACK, 'docker'], doc: 'client mTLS to etcd, with the three files below' }),
  etcd_tls_ca_file: opt(text, { roles: STACK, doc: 'CA certificate on the controller' }),
  etcd_tls_cert_file: opt(text, { roles: STACK, doc: 'client certificate on the controller' }),
  etcd_tls_key_file: opt(text, { roles: STACK, doc: 'client key on the controller (copied 0600, never shown in a diff)' }),
  etcd_snapshot_keep: v(atLeast(1, '(0 or less would delete every etcd snapshot)'), { default: 5, roles: ['etcd'], doc: 'etcd snapshots kept before changes' }),

  // The consoles
  dashboard_port: v(tcpPort, { default: 9000, roles: ['dashboard', 'lb', 'preflight', 'docker'], doc: "where the bundle's compose file publishes the console (health checks, LB); not changed by gatewright" }),
  dashboard_admin_user: v(text, { default: 'admin', roles: ['dashboard', 'smoke', 'verify'], doc: 'console login user' }),
  dashboard_admin_password: opt(text, { secret: true, roles: ['dashboard', 'smoke', 'verify'], doc: 'console login password' }),
  dashboard_allow_list: v(list, { default: [], roles: ['dashboard'], doc: "the console's `conf.allow_list`: empty keeps the shipped list; set, it is written with loopback, the LB and the control hosts added" }),
  dashboard_jwt_secret: opt(text, { derived: 'random, generated once', secret: true, roles: ['dashboard'], doc: 'console token secret: kept 0600 in `<api7_install_dir>/dashboard_jwt_secret` on each control host; set it to override' }),

  // The gateways
  gateway_http_port: v(tcpPort, { default: 80, roles: ['gateway', 'lb', 'preflight', 'smoke', 'verify', 'docker'], doc: "the gateway's HTTP port the dp bundle's compose file publishes (health checks, LB)" }),
  gateway_https_port: v(tcpPort, { default: 443, roles: ['gateway', 'lb', 'preflight'], doc: "the gateway's HTTPS port the dp bundle's compose file publishes (LB)" }),
  gateway_prometheus_port: v(tcpPort, { default: 9091, roles: ['gateway', 'preflight', 'docker'], doc: "the gateway's Prometheus port (health checks; firewall: the stack's hosts only)" }),

  // The closing check
  smoke_route_enabled: v(flag, { default: false, roles: ['smoke'], doc: "the guide's closing check: a route through every gateway to the `upstream` hosts" }),
  smoke_route_host: v(text, { default: 'test.com', roles: ['smoke', 'verify'], doc: 'Host header of the smoke route' }),
  smoke_route_uri: v(text, { default: '/get', roles: ['smoke', 'verify'], doc: 'path of the smoke route' }),
  upstream_group: v(kind('group name', safe('name')), { default: 'upstream', roles: ['smoke', 'verify'], doc: 'inventory group whose hosts are the smoke route\'s upstream nodes' }),
  upstream_port: v(tcpPort, { default: 80, roles: ['smoke', 'verify'], doc: "port of the smoke route's upstream nodes" }),
  health_timeout: v(whole, { default: 90, roles: [...STACK, 'smoke', 'docker', 'verify'], doc: 'seconds a health gate waits before it fails its step' }),

  // Preflight
  preflight_min_cpus: v(whole, { default: 2, roles: ['preflight'], doc: "the guide's 2 CPUs" }),
  preflight_min_memory_mb: v(whole, { default: 3500, roles: ['preflight'], doc: "the guide's 4 GB (a 4 GB server shows 3.6-3.9 GiB in MemTotal)" }),
  preflight_min_disk_mb: v(whole, { default: 10240, roles: ['preflight'], doc: 'free space under each data directory (nearest existing parent)' }),
  preflight_data_dirs: opt(list, { derived: 'Docker data-root, `api7_install_dir`, `etcd_data_dir` (etcd hosts)', roles: ['preflight'], doc: 'directories whose free space is checked' }),
  preflight_open_firewall: v(flag, { default: true, roles: ['preflight'], doc: "open the host roles' ports (firewalld, ufw, iptables; etcd's and Prometheus' only to the inventory's hosts)" }),
  preflight_firewall_sources: v(list, { default: [], roles: ['preflight'], doc: 'extra addresses/CIDRs admitted to 2379/2380/9091 (a Prometheus server)' }),
  preflight_selinux: v(oneOf('keep', 'permissive'), { default: 'keep', roles: ['preflight'], doc: '`permissive` relaxes SELinux; `keep` leaves it (a warning when enforcing)' }),
  preflight_own_containers: v(list, { default: OWN_CONTAINERS, roles: ['preflight'], doc: 'container names and compose services that are ours (not port conflicts)' }),

  // Docker
  docker_install_method: opt(oneOf('distro', 'docker-ce', 'offline'), { derived: 'per OS: `distro` on Debian/Ubuntu, `docker-ce` on the RHEL family', roles: ['docker'], doc: 'how Docker is installed' }),
  docker_ce_repo_url: v(text, { default: 'https://download.docker.com', roles: ['docker'], doc: "Docker's repository or an internal mirror of it" }),
  docker_service_manager: v(oneOf('auto', 'systemd', 'openrc', 'sysv', 'none'), { default: 'auto', roles: ['docker'], doc: '`none`: dockerd detached, logs in `/var/log/dockerd.log`; auto: detected' }),
  docker_daemon_options: v(mapping, { default: {}, roles: ['docker', 'preflight'], doc: '`/etc/docker/daemon.json`: `{"live-restore": true}` plus these; a restart rolls one host at a time' }),
  docker_offline_bundle: opt(text, { roles: ['docker'], doc: 'controller path: static Docker `.tgz` (offline install)' }),
  docker_offline_packages: v(list, { default: [], roles: ['docker'], doc: 'controller paths: `.deb`/`.rpm` files (offline install)' }),
  docker_offline_compose: opt(text, { roles: ['docker'], doc: 'controller path: a compose v2 binary (offline install)' }),

  // The load balancers
  lb_bind_address: v(cfgAddress, { default: '', emptyIsValue: true, roles: ['lb'], doc: 'address of the HAProxy frontends; empty: every address' }),
  lb_control_port: v(tcpPort, { default: 9000, roles: ['lb', 'preflight', 'verify'], doc: 'HAProxy frontend of the consoles' }),
  lb_http_port: v(tcpPort, { default: 80, roles: ['lb', 'preflight', 'verify'], doc: 'HAProxy frontend of the gateways (HTTP)' }),
  lb_https_port: v(tcpPort, { default: 443, roles: ['lb', 'preflight'], doc: 'HAProxy frontend of the gateways (HTTPS, passed through)' }),
  lb_stats_bind: v(cfgBind, { default: '127.0.0.1:8404', emptyIsValue: true, roles: ['lb', 'preflight'], doc: 'HAProxy stats page; empty: none' }),
  lb_admin_socket: v(cfgPath, { default: '/var/lib/haproxy/admin.sock', roles: ['lb'], doc: 'HAProxy admin socket (drain/ready for rolling changes)' }),
  lb_config_file: v(text, { default: '/etc/haproxy/haproxy.cfg', roles: ['lb'], doc: 'HAProxy config file' }),
  lb_drain_timeout_s: v(whole, { default: 30, roles: ['lb'], doc: "rolling changes: seconds to wait for a drained server's sessions" }),
  lb_ready_timeout_s: v(whole, { default: 60, roles: ['lb', 'docker'], doc: 'rolling changes: seconds to wait for a readied server to be UP' }),
  lb_haproxy_level: opt(oneOf('modern', '1.8', '1.5'), { derived: 'from the installed version', roles: ['lb'], doc: 'haproxy.cfg level: `modern` (2.2+), `1.8` (EL8), `1.5` (CentOS 7)' }),
} satisfies Record<string, VarSpec<any>>;

type Specs = typeof VARIABLES;
type ValueOf<S> = S extends { kind: Kind<infer T> } ? T : never;
/** The parsed values: a variable with a default (or one `stackVars` derives) is always there. */
export type StackVars = {
  [K in keyof Specs]: Specs[K] extends { default: unknown } ? ValueOf<Specs[K]> : K extends 'etcd_image' ? string : ValueOf<Specs[K]> | undefined;
};
export type StackVarName = keyof Specs;

const STACK_GROUPS = 'the playbooks run the groups etcd, control, gateway and lb by these names';
const REUSE = 'to use a group you have, make it a child: `etcd: { children: { my_etcd_hosts: } }` in YAML, `[etcd:children]` in INI';
/** Variables that are no more: setting one is refused, saying what to do instead. */
export const REMOVED: Record<string, string> = {
  etcd_group: `removed: ${STACK_GROUPS}; ${REUSE}`,
  control_group: `removed: ${STACK_GROUPS}; ${REUSE}`,
  gateway_group: `removed: ${STACK_GROUPS}; ${REUSE}`,
  lb_group: `removed: ${STACK_GROUPS}; ${REUSE}`,
  etcd_root_user: "removed: etcd's auth needs its user `root`, so the name is fixed; set etcd_root_password only",
};

const SPECS = Object.entries(VARIABLES) as [StackVarName, VarSpec][];

const unset = (spec: VarSpec, raw: unknown): boolean => raw === undefined || raw === null || (raw === '' && !spec.emptyIsValue);
/** A fresh copy: a role that changes a default list or mapping must not change the next host's. */
const copy = <T>(value: T): T => (Array.isArray(value) ? ([...value] as T) : value && typeof value === 'object' ? ({ ...value } as T) : value);

/** Parses, defaults and checks every stack variable of one host's vars. */
export function parseStackVars(vars: Vars): { values: StackVars; problems: { key: string; message: string }[] } {
  const values: Record<string, unknown> = {};
  const problems: { key: string; message: string }[] = [];
  for (const [name, spec] of SPECS) {
    const raw = vars[name];
    if (unset(spec, raw)) {
      // null in YAML (`lb_stats_bind:`) is as empty as '' where '' is a value.
      values[name] = spec.emptyIsValue && raw === null ? '' : copy(spec.default);
      continue;
    }
    const parsed = spec.kind.schema.safeParse(raw);
    if (parsed.success) values[name] = parsed.data;
    else problems.push({ key: name, message: describe(spec, raw, parsed.error.issues[0]) });
  }
  for (const [name, why] of Object.entries(REMOVED)) if (vars[name] !== undefined) problems.push({ key: name, message: why });
  values.etcd_image ??= `bitnami/etcd:${values.etcd_version}`;
  return { values: values as StackVars, problems };
}

function describe(spec: VarSpec, raw: unknown, issue: z.core.$ZodIssue): string {
  // Our own messages say `must …`; zod's generic ones ("Invalid input") give way to the kind's name.
  const message = issue.message.startsWith('must') ? issue.message : `must be ${spec.kind.type}`;
  return spec.secret ? message : `${message} (got ${JSON.stringify(raw)})`;
}

const parsedOf = new WeakMap<Vars, StackVars>();

/**
 * A step's typed variables: `const v = stackVars(ctx); v.etcd_data_dir`. Parsed once per vars object; a value
 * the loader would have refused (a context built outside a run) throws naming the variable.
 */
export function stackVars(ctx: { vars: Vars }): StackVars {
  let values = parsedOf.get(ctx.vars);
  if (!values) {
    const parsed = parseStackVars(ctx.vars);
    if (parsed.problems.length) throw new Error(parsed.problems.map((p) => `variable ${p.key}: ${p.message}`).join('; '));
    parsedOf.set(ctx.vars, (values = parsed.values));
  }
  return values;
}

/** The runner's hook (Playbook.variables): every playbook of the stack checks its inventory against this. */
export const stackVariables: VariableSchema = {
  check: (vars) => parseStackVars(vars).problems,
  names: SPECS.map(([name]) => name),
};
