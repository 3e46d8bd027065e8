// etcdctl through `docker exec` in a host's etcd container, the credentials rule, and parsers of its simple
// output: pure, tested by exact strings. ops/etcd.ts runs them.
import { batchScript, parseBatch } from '../lib/fact-batch.ts';
import { argv, sh } from '../lib/shell.ts';
import type { ExecResult } from '../lib/types.ts';
import { ETCD_CONTAINER, IN_CERTS } from './layout.ts';

export interface Etcdctl {
  endpoints: string[];
  tls: boolean;
  /** 0600 file with ETCDCTL_USER=root:<password>: credentials never in argv. */
  envFile?: string;
  /** Pass stdin through (`docker exec -i`). */
  stdin?: boolean;
}

/** What etcdctl says when a request lacks (valid) credentials because auth is on. */
export const AUTH_REFUSED = /user name is empty|authentication failed|permission denied|invalid auth token/i;
/** What etcd answers to credentials while its auth is off. */
export const AUTH_OFF = /authentication is not enabled/i;

/** etcd's auth as a member answered the probe: on (it asks for credentials) or off (it refuses them). */
export type EtcdAuth = 'on' | 'off';

/**
 * The probe through etcdctl: `user list` as a user no one has. While auth is off etcdctl's login is refused
 * ("not enabled") and it goes on without one, so the list works; while it is on the login fails. Without any
 * credentials, etcd with client certificates and auth on takes the certificate's CommonName as the user: a
 * CN that names a user with the root role would read as "off", one that names no user as neither.
 */
export const AUTH_PROBE = ['--user=gatewright-auth-probe:not-a-password', 'user', 'list'];
/**
 * What etcd's HTTP gateway answers, with auth on, to a request from a client certificate (client-cert-auth):
 * the gateway cannot pass the CommonName on, so etcd refuses every such request. Auth off, it answers them.
 */
export const GATEWAY_CN_REFUSED = /CommonName of client sending a request against gateway will be ignored/;
/** curl's answer that says auth is on: the refusal of a request without credentials or with a certificate. */
const GATEWAY_AUTH_ON = new RegExp(`${AUTH_REFUSED.source}|${GATEWAY_CN_REFUSED.source}`, 'i');

/**
 * The probe, asked of one member: over its HTTP gateway with curl when the host has it (the same request as
 * etcdctl's, without a runc start in the container: a tenth of the host's CPU), else through etcdctl. curl's
 * answer is taken only when it is one of the two etcdctl's would be: 200 (auth off) or etcd's refusal (auth on,
 * printed on stderr as etcdctl prints it; with client certificates, the gateway's CommonName refusal). Anything
 * else (no curl, a TLS or connection failure, etcd before 3.4 without /v3, an odd answer) asks etcdctl, whose
 * answer parseAuthProbe reads as before: a member down is unknown, never "off". `certDir`: the host folder of
 * ca.pem, cert.pem, key.pem (TLS on).
 */
export function authProbeCmd(url: string, certDir: string | undefined): string {
  const tls = certDir ? ['--cacert', `${certDir}/ca.pem`, '--cert', `${certDir}/cert.pem`, '--key', `${certDir}/key.pem`] : [];
  const curl = argv(['curl', '-sS', '--max-time', '5', ...tls, '-X', 'POST', '-d', '{}', '-w', '\\n%{http_code}', '--', `${url}/v3/auth/user/list`]);
  const etcdctl = etcdctlCmd({ endpoints: [url], tls: certDir !== undefined }, AUTH_PROBE);
  return [
    `if command -v curl >/dev/null 2>&1 && o=$(${curl} 2>/dev/null); then`,
    `  code=$(printf '%s\\n' "$o" | tail -n 1)`,
    `  body=$(printf '%s\\n' "$o" | sed '$d')`,
    `  if [ "$code" = 200 ]; then printf '%s\\n' "$body"; exit 0; fi`,
    sh`  if printf '%s\\n' "$body" | grep -Eqi ${GATEWAY_AUTH_ON.source}; then printf '%s\\n' "$body" >&2; exit 1; fi`,
    'fi',
    `exec ${etcdctl}`,
  ].join('\n');
}

/**
 * What the probe's answer says. Neither "works" nor "refused for lack of credentials" (etcd down, docker hung)
 * is no answer: an error, never "off".
 */
export function parseAuthProbe(r: ExecResult, where: string): EtcdAuth {
  if (r.ok) return 'off';
  const out = `${r.stderr}\n${r.stdout}`;
  if (GATEWAY_AUTH_ON.test(out)) return 'on';
  throw new Error(`cannot tell whether etcd auth is on at ${where} (exit ${r.code}): ${out.trim().slice(-300) || 'no output'}`);
}

/**
 * The credentials rule: etcdctl sends the stored root credentials (the 0600 env file) exactly when etcd's
 * auth, as observed, is on. Before the role turns auth on etcd refuses credentials; after the vars turned it
 * off etcd still demands them until the role disables it: both follow from the observation, never from a retry.
 */
export const credentialsFor = (auth: EtcdAuth, envFile: string): string | undefined => (auth === 'on' ? envFile : undefined);

/** etcdctl's client certificate flags, the files where the member's container mounts them. */
export const TLS_FLAGS = [`--cacert=${IN_CERTS}/ca.pem`, `--cert=${IN_CERTS}/cert.pem`, `--key=${IN_CERTS}/key.pem`];

export function etcdctlCmd(o: Etcdctl, args: string[]): string {
  const exec = ['docker', 'exec', ...(o.stdin ? ['-i'] : []), ...(o.envFile ? ['--env-file', o.envFile] : [])];
  return argv([...exec, ETCD_CONTAINER, 'etcdctl', `--endpoints=${o.endpoints.join(',')}`, ...(o.tls ? TLS_FLAGS : []), ...args]);
}

// ------------------------------------------------------------------ the cluster read: one command

/** The health gate's read, in one remote command: every endpoint's health and status, and the member list. */
export const CLUSTER_READ = { health: ['endpoint', 'health'], status: ['endpoint', 'status'], members: ['member', 'list'], root: ['user', 'get', 'root'] } as const;

export interface ClusterRead {
  healthy: number;
  /** The endpoints `endpoint health` called healthy, as it names them (scheme://address:port). */
  healthyEndpoints: string[];
  leaders: number;
  /** `member list` as read (undefined when it failed). */
  members?: MemberLine[];
  /** With credentials: whether they are root's (`user get root` needs the root role). */
  rootProven?: boolean;
  /** The last line etcdctl said about a failure, for the gate's message. */
  why: string;
}

/**
 * With credentials the read also proves they are root's: what every later run relies on. The etcdctl calls run
 * side by side inside one `docker exec` of the image's sh (bitnami's images have one): each exec costs the host
 * a runc start, three times what an etcdctl call does. Unless that answer is complete (it ends with the batch's
 * end line), it is dropped and each call gets its own exec, as before: a stopped member or an image without sh
 * answers call by call, so a failure reads as the calls' failures, never as a cut-short read.
 */
export function clusterReadCmd(o: Etcdctl, nonce: string): string {
  const calls = [CLUSTER_READ.health, CLUSTER_READ.status, CLUSTER_READ.members, ...(o.envFile ? [CLUSTER_READ.root] : [])];
  const inside = batchScript(
    calls.map((args) => argv(['etcdctl', `--endpoints=${o.endpoints.join(',')}`, ...(o.tls ? TLS_FLAGS : []), ...args])),
    nonce,
  );
  const oneExec = argv(['docker', 'exec', ...(o.envFile ? ['--env-file', o.envFile] : []), ETCD_CONTAINER, 'sh', '-c', inside]);
  const execEach = batchScript(calls.map((args) => etcdctlCmd(o, [...args])), nonce);
  return [
    `out=$(${oneExec} 2>/dev/null)`,
    sh`case "$out" in *${`${nonce} end`}) printf '%s\\n' "$out"; exit 0 ;; esac`,
    execEach,
  ].join('\n');
}

/** Parses clusterReadCmd's answer; a read that did not complete throws (FactBatchError), never "0 healthy". */
export function parseClusterRead(r: ExecResult, withCredentials: boolean, nonce: string): ClusterRead {
  const [health, status, members, root] = parseBatch(r, withCredentials ? 4 : 3, nonce);
  const lastLine = (x: ExecResult) => (x.stderr || x.stdout).trim().split('\n').slice(-1)[0] ?? '';
  const healthy = healthyEndpoints(`${health.stdout}\n${health.stderr}`);
  return {
    healthy: healthy.length,
    healthyEndpoints: healthy,
    leaders: parseEndpointStatus(status.stdout).filter((s) => s.leader).length,
    members: members.ok ? parseMemberList(members.stdout) : undefined,
    rootProven: root ? root.ok : undefined,
    why: health.ok ? (status.ok ? '' : lastLine(status)) : lastLine(health),
  };
}

// ------------------------------------------------------------------ parsers of etcdctl -w simple

export interface MemberLine {
  id: string;
  /** `started`, or `unstarted` for a member added but never started (it has no name yet). */
  status: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

/** `member list`: "8e9e05c52164694d, started, lab1, http://10.77.0.11:2380, http://10.77.0.11:2379, false". */
export function parseMemberList(stdout: string): MemberLine[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [id, status, name, peers, clients] = line.split(', ');
      const urls = (list?: string) => (list ?? '').split(',').filter(Boolean);
      return { id, status, name: name ?? '', peerUrls: urls(peers), clientUrls: urls(clients) };
    });
}

/** `endpoint status`: "http://a:2379, 8e9e.., 3.4.23, 20 kB, true, false, 2, 8, 8, " (5th = is leader). */
export function parseEndpointStatus(stdout: string): { endpoint: string; id: string; leader: boolean }[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^https?:\/\//.test(l))
    .map((line) => {
      const f = line.split(', ');
      return { endpoint: f[0], id: f[1], leader: f[4] === 'true' };
    });
}

/** `endpoint health` prints one "<url> is healthy: ..." line per healthy endpoint: the URLs. */
export const healthyEndpoints = (output: string): string[] =>
  output.split('\n').flatMap((l) => /^(\S+) is healthy: /.exec(l.trim())?.slice(1, 2) ?? []);

/** How many endpoints `endpoint health` called healthy. */
export const countHealthy = (output: string): number => healthyEndpoints(output).length;

