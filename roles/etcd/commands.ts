// Pure builders for the guide's etcd commands (`docker run` with the ETCD_* environment, etcdctl through
// `docker exec`) and parsers of etcdctl's simple output. Tested by exact strings.
import { argv, sh } from '../../lib/shell.ts';
import { LABEL_ROLE, LABEL_SPEC } from '../common/fingerprint.ts';

export const ETCD_CONTAINER = 'etcd';
/** Paths inside the container; the host folders are variables. */
export const IN_DATA = '/etcd-data';
export const IN_SNAPSHOTS = '/etcd-snapshots';
export const IN_CERTS = '/etcd-certs';

export interface EtcdRun {
  image: string;
  name: string;
  address: string;
  clientPort: number;
  peerPort: number;
  /** name=http://addr:peer,... for every member. */
  initialCluster: string;
  token: string;
  state: 'new' | 'existing';
  dataDir: string;
  snapshotDir: string;
  /** Host folder holding ca.pem, cert.pem, key.pem when client TLS is on. */
  certDir?: string;
}

export function etcdEnv(r: EtcdRun): [string, string][] {
  const scheme = r.certDir ? 'https' : 'http';
  const env: [string, string][] = [
    ['ETCD_NAME', r.name],
    ['ETCD_DATA_DIR', IN_DATA],
    ['ETCD_LISTEN_CLIENT_URLS', `${scheme}://0.0.0.0:${r.clientPort}`],
    ['ETCD_ADVERTISE_CLIENT_URLS', `${scheme}://${r.address}:${r.clientPort}`],
    ['ETCD_LISTEN_PEER_URLS', `http://0.0.0.0:${r.peerPort}`],
    ['ETCD_INITIAL_ADVERTISE_PEER_URLS', `http://${r.address}:${r.peerPort}`],
    ['ETCD_INITIAL_CLUSTER', r.initialCluster],
    ['ETCD_INITIAL_CLUSTER_TOKEN', r.token],
    ['ETCD_INITIAL_CLUSTER_STATE', r.state],
  ];
  if (r.certDir) {
    env.push(
      ['ETCD_CLIENT_CERT_AUTH', 'true'],
      ['ETCD_TRUSTED_CA_FILE', `${IN_CERTS}/ca.pem`],
      ['ETCD_CERT_FILE', `${IN_CERTS}/cert.pem`],
      ['ETCD_KEY_FILE', `${IN_CERTS}/key.pem`],
    );
  }
  return env;
}

export function etcdMounts(r: EtcdRun): [string, string][] {
  const mounts: [string, string][] = [
    [r.dataDir, IN_DATA],
    [r.snapshotDir, IN_SNAPSHOTS],
  ];
  if (r.certDir) mounts.push([r.certDir, IN_CERTS]);
  return mounts;
}

/**
 * What the spec label covers: image, environment, mounts. The initial cluster state is left out: etcd
 * reads it only on an empty data dir, so a member rejoined with `existing` is the same spec as one
 * bootstrapped with `new`.
 */
export const etcdSpecInputs = (r: EtcdRun, imageId: string) => ({
  image: r.image,
  imageId,
  env: etcdEnv(r).filter(([k]) => k !== 'ETCD_INITIAL_CLUSTER_STATE'),
  mounts: etcdMounts(r),
});

/** The guide's `docker run`, plus our labels. */
export function etcdRunCmd(r: EtcdRun, spec: string): string {
  const env = etcdEnv(r).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const mounts = etcdMounts(r).flatMap(([from, to]) => ['-v', `${from}:${to}`]);
  const labels = ['--label', `${LABEL_ROLE}=etcd`, '--label', `${LABEL_SPEC}=${spec}`];
  return sh`docker run -d --name ${ETCD_CONTAINER} --network=host --restart always ${labels} ${mounts} ${env} ${r.image}`;
}

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

export function etcdctlCmd(o: Etcdctl, args: string[]): string {
  const exec = ['docker', 'exec', ...(o.stdin ? ['-i'] : []), ...(o.envFile ? ['--env-file', o.envFile] : [])];
  const tls = o.tls ? [`--cacert=${IN_CERTS}/ca.pem`, `--cert=${IN_CERTS}/cert.pem`, `--key=${IN_CERTS}/key.pem`] : [];
  return argv([...exec, ETCD_CONTAINER, 'etcdctl', `--endpoints=${o.endpoints.join(',')}`, ...tls, ...args]);
}

export const snapshotFile = (stamp: string): string => `${IN_SNAPSHOTS}/etcd-${stamp}.db`;

/** Keeps the newest `keep` snapshots in the host's snapshot folder. */
export const pruneSnapshotsCmd = (hostDir: string, keep: number): string =>
  sh`ls -1t -- ${hostDir} | grep -E '^etcd-.*\\.db$' | tail -n +${keep + 1} | while read -r f; do rm -f -- ${hostDir}/"$f"; done`;

/** Does this host's data dir hold a member (etcd writes <data>/member on first start)? */
export const hasDataCmd = (dataDir: string): string =>
  sh`if [ -d ${`${dataDir}/member`} ]; then echo data=yes; else echo data=no; fi`;

/** Empties a lost member's data dir before it rejoins (it must start empty with state existing). */
export const emptyDataDirCmd = (dataDir: string): string =>
  sh`rm -rf -- ${`${dataDir}/member`} && mkdir -p -- ${dataDir} && chmod 700 -- ${dataDir}`;

// ------------------------------------------------------------------ parsers of etcdctl -w simple

export interface MemberLine {
  id: string;
  status: string;
  name: string;
  peerUrls: string[];
}

/** `member list`: "8e9e05c52164694d, started, lab1, http://10.77.0.11:2380, http://10.77.0.11:2379, false". */
export function parseMemberList(stdout: string): MemberLine[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [id, status, name, peers] = line.split(', ');
      return { id, status, name: name ?? '', peerUrls: (peers ?? '').split(',').filter(Boolean) };
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

/** `endpoint health`: one "<url> is healthy: ..." line per healthy endpoint. */
export const countHealthy = (output: string): number =>
  output.split('\n').filter((l) => / is healthy: /.test(l)).length;

