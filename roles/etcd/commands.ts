// Pure builders for the guide's etcd commands (`docker run` with the ETCD_* environment, etcdctl through
// `docker exec`) and parsers of etcdctl's simple output. Tested by exact strings.
import { argv, raw, sh } from '../../lib/shell.ts';
import { TLS_FLAGS } from '../../ops/etcdctl.ts';
import { LABEL_ROLE, LABEL_SPEC } from '../../ops/fingerprint.ts';
import { ETCD_CONTAINER, IN_CERTS, IN_DATA, IN_DATA_OLD, IN_SNAPSHOTS } from '../../ops/layout.ts';


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
  /** ETCD_ENABLE_V2 (the guide turns the v2 API on). */
  v2: boolean;
}

export function etcdEnv(r: EtcdRun): [string, string][] {
  const scheme = r.certDir ? 'https' : 'http';
  const env: [string, string][] = [
    // bitnami's entrypoint refuses to start without a root password unless told so; auth is the etcd role's job.
    ['ALLOW_NONE_AUTHENTICATION', 'yes'],
    ['ETCD_NAME', r.name],
    ['ETCD_DATA_DIR', IN_DATA],
    ['ETCD_LISTEN_CLIENT_URLS', `${scheme}://0.0.0.0:${r.clientPort}`],
    ['ETCD_ADVERTISE_CLIENT_URLS', `${scheme}://${r.address}:${r.clientPort}`],
    ['ETCD_LISTEN_PEER_URLS', `http://0.0.0.0:${r.peerPort}`],
    ['ETCD_INITIAL_ADVERTISE_PEER_URLS', `http://${r.address}:${r.peerPort}`],
    ['ETCD_INITIAL_CLUSTER', r.initialCluster],
    ['ETCD_INITIAL_CLUSTER_TOKEN', r.token],
    ['ETCD_INITIAL_CLUSTER_STATE', r.state],
    ['ETCD_ENABLE_V2', String(r.v2)],
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

/** Read by etcd only on an empty data dir: a member that has data ignores them. */
const BOOTSTRAP_ONLY = ['ETCD_INITIAL_CLUSTER_STATE', 'ETCD_INITIAL_CLUSTER'];

/**
 * What the spec label covers: image, environment, mounts. The initial cluster and its state are left out (etcd
 * reads them only on an empty data dir): a member joined with `existing` and the live member list is the same
 * spec as one bootstrapped with `new` and the group, and a grown group does not roll every member.
 */
export const etcdSpecInputs = (r: EtcdRun, imageId: string) => ({
  image: r.image,
  imageId,
  env: etcdEnv(r).filter(([k]) => !BOOTSTRAP_ONLY.includes(k)),
  mounts: etcdMounts(r),
});

/** The guide's `docker run` (`-u root`, host network, restart always), plus our labels; `:Z` while SELinux enforces. */
export function etcdRunCmd(r: EtcdRun, spec: string, mountSuffix: '' | ':Z' = ''): string {
  const env = etcdEnv(r).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const mounts = etcdMounts(r).flatMap(([from, to]) => ['-v', `${from}:${to}${mountSuffix}`]);
  const labels = ['--label', `${LABEL_ROLE}=etcd`, '--label', `${LABEL_SPEC}=${spec}`];
  return sh`docker run -d --name ${ETCD_CONTAINER} -u root --network=host --restart always ${labels} ${mounts} ${env} ${r.image}`;
}

/** Stops the member and keeps its container: until its data has moved, a restart (`docker start`) brings it back as it was. */
export const stopMemberCmd = sh`docker stop -t 30 ${ETCD_CONTAINER}`;

/** The way back for a recreate cut short: the container, if still there, else the planned `docker run`. */
export const restartCmd = (run: string): string => sh`docker start ${ETCD_CONTAINER} >/dev/null 2>&1 || ${raw(run)}`;

/**
 * The way back for a migration cut short: when the data is whole in the new dir, the planned container (any old
 * one removed first); else the stopped old container on the old dir, as it was.
 */
export const restartMigratedCmd = (to: string, remove: string, run: string): string =>
  sh`if [ -d ${`${to}/member`} ]; then ${raw(remove)} && ${raw(run)}; else docker start ${ETCD_CONTAINER}; fi`;

/**
 * `etcdctl endpoint status` of endpoints no member here serves, from a throwaway container of the etcd image (no
 * member runs on a host about to bootstrap). No SELinux relabel of the certificates (label=disable); bounded.
 */
export function endpointStatusCmd(o: { image: string; endpoints: string[]; certDir?: string }): string {
  const certs = o.certDir ? ['-v', `${o.certDir}:${IN_CERTS}:ro`] : [];
  const tls = o.certDir ? TLS_FLAGS : [];
  return sh`timeout 60 docker run --rm -u root --network=host --security-opt label=disable ${certs} --entrypoint etcdctl ${o.image} ${`--endpoints=${o.endpoints.join(',')}`} --dial-timeout=3s --command-timeout=5s ${tls} endpoint status`;
}

/** The endpoints with a status line in `endpoint status` (endpoint, ID, version, size, leader, ...). */
export const answeredEndpoints = (stdout: string): string[] =>
  stdout.split('\n').map((l) => l.trim().split(', ')).filter((f) => f.length >= 6).map((f) => f[0]);

export const snapshotFile = (stamp: string): string => `${IN_SNAPSHOTS}/etcd-${stamp}.db`;

/**
 * `etcdctl snapshot save` of one member from a one-off container of the etcd image (host network, the host's
 * snapshot folder mounted, the credentials file when etcd's auth is on): it needs none of the running member's
 * mounts, so a member started by hand as the guide does (only /etcd_data mounted) is snapshotted the same way.
 */
export function snapshotSaveCmd(o: { image: string; endpoint: string; snapshotDir: string; file: string; certDir?: string; envFile?: string }): string {
  const env = o.envFile ? ['--env-file', o.envFile] : [];
  const certs = o.certDir ? ['-v', `${o.certDir}:${IN_CERTS}:ro`] : [];
  const tls = o.certDir ? TLS_FLAGS : [];
  return argv(['timeout', '300', 'docker', 'run', '--rm', '-u', 'root', '--network=host', '--security-opt', 'label=disable', ...env, '-v', `${o.snapshotDir}:${IN_SNAPSHOTS}`, ...certs, '--entrypoint', 'etcdctl', o.image, `--endpoints=${o.endpoint}`, ...tls, 'snapshot', 'save', o.file]);
}

/** Keeps the newest `keep` snapshots in the host's snapshot folder. */
export const pruneSnapshotsCmd = (hostDir: string, keep: number): string =>
  sh`ls -1t -- ${hostDir} | grep -E '^etcd-.*\\.db$' | tail -n +${keep + 1} | while read -r f; do rm -f -- ${hostDir}/"$f"; done`;

/** What the survey reads of each etcd container: its spec label, where its /etcd-data comes from, then that folder. */
const DATA_MOUNT = `{{range .Mounts}}{{if or (eq .Destination "${IN_DATA}") (eq .Destination "${IN_DATA_OLD}")}}{{.Source}}{{end}}{{end}}`;
const CONTAINER_JSON =
  `{"name":{{json .Name}},"running":{{json .State.Running}},"spec":{{json (index .Config.Labels "${LABEL_SPEC}")}},` +
  `"dataMount":"${DATA_MOUNT}"}`;
/** The folder goes last: read(1) strips an empty trailing field, never a leading one. JSON holds no raw tab. */
const CONTAINER_LINE = `${CONTAINER_JSON}\t${DATA_MOUNT}`;

/**
 * One member's host, read in one go: the data dir, every etcd container (ours by label, or any named etcd) with
 * its data mount and whether that holds a member, and whether anything answers on the client port. Two docker
 * calls whatever the count of containers (one list, one inspect): each costs the engine a request and the host
 * a Go binary's start. `set -e` and the closing `survey=done` make a failed or cut-short read an error, never
 * "nothing there".
 */
export const surveyCmd = (dataDir: string, address: string, clientPort: number): string =>
  [
    'set -e',
    sh`if [ -d ${dataDir} ]; then echo dir=yes; else echo dir=no; fi`,
    sh`if [ -d ${`${dataDir}/member`} ]; then echo data=yes; else echo data=no; fi`,
    sh`all=$(docker ps -a --no-trunc --format ${`{{.ID}} {{.Names}} {{.Label "${LABEL_ROLE}"}}`})`,
    sh`ids=$(printf '%s\\n' "$all" | awk ${`$2 == "${ETCD_CONTAINER}" || $3 == "etcd" { print $1 }`})`,
    'if [ -n "$ids" ]; then',
    sh`  info=$(docker inspect --format ${CONTAINER_LINE} $ids)`,
    `  tab=$(printf '\t')`,
    `  printf '%s\\n' "$info" | while IFS="$tab" read -r j src; do`,
    '    if [ -n "$src" ] && [ -d "$src/member" ]; then md=yes; else md=no; fi',
    `    printf 'container %s %s\\n' "$md" "$j"`,
    '  done',
    'fi',
    // bash's /dev/tcp: 0 = something accepted the connection, 1 = refused, 124 = no answer in 3 s.
    sh`if timeout 3 bash -c ${'exec 3<>"/dev/tcp/$0/$1"'} ${address} ${clientPort} 2>/dev/null; then echo port=0; else echo "port=$?"; fi`,
    'echo survey=done',
  ].join('\n');

export interface SurveyedContainer {
  name: string;
  running: boolean;
  spec: string;
  /** Host folder mounted as the container's data dir ('' when none). */
  dataMount: string;
  /** That folder holds a member (etcd's <data>/member). */
  mountHasData: boolean;
}

export interface SurveyFacts {
  dirExists: boolean;
  hasData: boolean;
  containers: SurveyedContainer[];
  port: 'open' | 'closed' | 'unknown';
}

/** Parses surveyCmd's output; throws when any line is missing or odd (the caller reports it as unknown). */
export function parseSurvey(stdout: string): SurveyFacts {
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const field = (key: string): string => {
    const line = lines.find((l) => l.startsWith(`${key}=`));
    if (line === undefined) throw new Error(`survey output lacks ${key}= (got: ${stdout.trim().slice(-200) || 'nothing'})`);
    return line.slice(key.length + 1);
  };
  if (field('survey') !== 'done') throw new Error('survey output cut short');
  const yes = (key: string) => {
    const v = field(key);
    if (v !== 'yes' && v !== 'no') throw new Error(`survey: ${key}=${v}`);
    return v === 'yes';
  };
  const containers = lines
    .filter((l) => l.startsWith('container '))
    .map((l) => {
      const [, md, json] = /^container (yes|no) (\{.*\})$/.exec(l) ?? [];
      if (!json) throw new Error(`survey: odd container line ${l.slice(0, 200)}`);
      const c = JSON.parse(json) as { name: string; running: boolean; spec: string | null; dataMount: string };
      return { name: c.name.replace(/^\//, ''), running: c.running === true, spec: c.spec ?? '', dataMount: c.dataMount, mountHasData: md === 'yes' };
    });
  const code = field('port');
  const port = code === '0' ? 'open' : code === '1' ? 'closed' : 'unknown';
  return { dirExists: yes('dir'), hasData: yes('data'), containers, port };
}

/**
 * Moves a stopped member's data to a new data dir: a copy under a temporary name, a rename, then the old one
 * goes. Cut short anywhere, either the old dir still holds the member or the new one holds all of it.
 */
export const moveDataCmd = (from: string, to: string): string => {
  const moving = `${to}/member.gatewright-moving`;
  return [
    'set -e',
    sh`[ -d ${`${from}/member`} ] || { echo 'no member data to move' >&2; exit 1; }`,
    sh`[ ! -e ${`${to}/member`} ] || { echo 'the new data dir already holds a member' >&2; exit 1; }`,
    sh`mkdir -p -- ${to} && chmod 700 -- ${to}`,
    sh`rm -rf -- ${moving}`,
    sh`cp -a -- ${`${from}/member`} ${moving}`,
    sh`mv -- ${moving} ${`${to}/member`}`,
    sh`rm -rf -- ${`${from}/member`}`,
  ].join('\n');
};

/** Empties a lost member's data dir before it rejoins (it must start empty with state existing). */
export const emptyDataDirCmd = (dataDir: string): string =>
  sh`rm -rf -- ${`${dataDir}/member`} && mkdir -p -- ${dataDir} && chmod 700 -- ${dataDir}`;
