import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  answeredEndpoints,
  endpointStatusCmd,
  etcdRunCmd,
  etcdSpecInputs,
  moveDataCmd,
  parseSurvey,
  pruneSnapshotsCmd,
  restartCmd,
  restartMigratedCmd,
  surveyCmd,
  type EtcdRun,
  snapshotSaveCmd,
} from '../../roles/etcd/commands.ts';
import { stackConfsCmd } from '../../roles/etcd/stack-confs.ts';
import { authProbeCmd, clusterReadCmd, countHealthy, etcdctlCmd, parseAuthProbe, parseClusterRead, parseEndpointStatus, parseMemberList } from '../../ops/etcdctl.ts';
import { fingerprint } from '../../ops/fingerprint.ts';

const lab1: EtcdRun = {
  image: 'bitnami/etcd:3.4.13',
  name: 'api7-etcd-1',
  address: '10.77.0.11',
  clientPort: 2379,
  peerPort: 2380,
  initialCluster: 'api7-etcd-1=http://10.77.0.11:2380,api7-etcd-2=http://10.77.0.12:2380,api7-etcd-3=http://10.77.0.13:2380',
  token: 'etcd-cluster',
  state: 'new',
  dataDir: '/usr/local/etcd/etcd_data',
  snapshotDir: '/usr/local/etcd/snapshots',
  v2: true,
};

describe('etcd docker run', () => {
  it("is the guide's command (-u root, its env, data at /etcd_data) with our labels, every value quoted", () => {
    expect(etcdRunCmd(lab1, 'abc123')).toBe(
      'docker run -d --name etcd -u root --network=host --restart always' +
        ' --label io.gatewright.role=etcd --label io.gatewright.spec=abc123' +
        ' -v /usr/local/etcd/etcd_data:/etcd_data -v /usr/local/etcd/snapshots:/etcd-snapshots' +
        ' -e ALLOW_NONE_AUTHENTICATION=yes -e ETCD_NAME=api7-etcd-1 -e ETCD_DATA_DIR=/etcd_data' +
        ' -e ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379 -e ETCD_ADVERTISE_CLIENT_URLS=http://10.77.0.11:2379' +
        ' -e ETCD_LISTEN_PEER_URLS=http://0.0.0.0:2380 -e ETCD_INITIAL_ADVERTISE_PEER_URLS=http://10.77.0.11:2380' +
        ' -e ETCD_INITIAL_CLUSTER=api7-etcd-1=http://10.77.0.11:2380,api7-etcd-2=http://10.77.0.12:2380,api7-etcd-3=http://10.77.0.13:2380' +
        ' -e ETCD_INITIAL_CLUSTER_TOKEN=etcd-cluster -e ETCD_INITIAL_CLUSTER_STATE=new -e ETCD_ENABLE_V2=true' +
        ' bitnami/etcd:3.4.13',
    );
  });

  it('labels its bind mounts :Z while SELinux enforces', () => {
    const cmd = etcdRunCmd(lab1, 'x', ':Z');
    expect(cmd).toContain(' -v /usr/local/etcd/etcd_data:/etcd_data:Z -v /usr/local/etcd/snapshots:/etcd-snapshots:Z ');
  });

  it('serves clients over TLS with client-certificate auth when certificates are given', () => {
    const cmd = etcdRunCmd({ ...lab1, certDir: '/usr/local/etcd/certs' }, 'x');
    expect(cmd).toContain(' -v /usr/local/etcd/certs:/etcd-certs ');
    expect(cmd).toContain(' -e ETCD_ADVERTISE_CLIENT_URLS=https://10.77.0.11:2379 ');
    expect(cmd).toContain(' -e ETCD_CLIENT_CERT_AUTH=true -e ETCD_TRUSTED_CA_FILE=/etcd-certs/ca.pem');
  });

  it('quotes hostile values', () => {
    expect(etcdRunCmd({ ...lab1, name: "it's me" }, 'x')).toContain(" -e 'ETCD_NAME=it'\\''s me' ");
  });

  it('has the same spec whether the member bootstraps or joins (etcd reads the initial cluster and its state only on an empty data dir)', () => {
    const a = fingerprint(etcdSpecInputs(lab1, 'sha256:1'));
    expect(fingerprint(etcdSpecInputs({ ...lab1, state: 'existing' }, 'sha256:1'))).toBe(a);
    // Joined with the live member list, or the group grown to 4: no roll of every member.
    expect(fingerprint(etcdSpecInputs({ ...lab1, initialCluster: `${lab1.initialCluster},api7-etcd-4=http://10.77.0.14:2380` }, 'sha256:1'))).toBe(a);
    expect(fingerprint(etcdSpecInputs({ ...lab1, token: 'other' }, 'sha256:1'))).not.toBe(a);
    expect(fingerprint(etcdSpecInputs(lab1, 'sha256:2'))).not.toBe(a);
  });
});

describe('a member cut short comes back', () => {
  const run = etcdRunCmd(lab1, 'x');
  it('a recreate: the container if still there, else the planned docker run', () => {
    expect(restartCmd(run)).toBe(`docker start etcd >/dev/null 2>&1 || ${run}`);
  });
  it('a migration: the planned container once the data is whole in the new dir, else the old container on the old dir', () => {
    expect(restartMigratedCmd('/usr/local/etcd/etcd_data', 'REMOVE', run)).toBe(`if [ -d /usr/local/etcd/etcd_data/member ]; then REMOVE && ${run}; else docker start etcd; fi`);
  });
});

describe('before a bootstrap', () => {
  it('reads every bundle folder\'s conf (any version) in one command, each whole or not at all', () => {
    expect(stackConfsCmd('/opt/my api7')).toBe(
      [
        'set -e',
        "for f in '/opt/my api7'/api7-*-cp/dashboard_conf/conf.yaml '/opt/my api7'/api7-*-dp/gateway_conf/config.yaml; do",
        `  if [ -f "$f" ]; then b=$(base64 -w0 < "$f"); printf 'conf %s %s\\n' "$b" "$f"; elif [ -e "$f" ]; then printf 'odd %s\\n' "$f"; fi`,
        'done',
        'echo confs=done',
      ].join('\n'),
    );
  });
  it('asks endpoints outside the group for their status from a throwaway etcd container, bounded, certificates read-only', () => {
    expect(endpointStatusCmd({ image: 'bitnami/etcd:3.4.13', endpoints: ['10.0.0.1:2379', 'https://10.0.0.2:2379'], certDir: '/usr/local/etcd/certs' })).toBe(
      'timeout 60 docker run --rm -u root --network=host --security-opt label=disable -v /usr/local/etcd/certs:/etcd-certs:ro --entrypoint etcdctl bitnami/etcd:3.4.13' +
        ' --endpoints=10.0.0.1:2379,https://10.0.0.2:2379 --dial-timeout=3s --command-timeout=5s' +
        ' --cacert=/etcd-certs/ca.pem --cert=/etcd-certs/cert.pem --key=/etcd-certs/key.pem endpoint status',
    );
    expect(answeredEndpoints('10.0.0.1:2379, 8e9e05c52164694d, 3.4.13, 20 kB, true, false, 2, 8, 8, \n')).toEqual(['10.0.0.1:2379']);
    expect(answeredEndpoints('{"level":"warn","msg":"retrying of unary invoker failed"}\n')).toEqual([]);
  });
});

describe('etcdctl', () => {
  const endpoints = ['http://10.77.0.11:2379', 'http://10.77.0.12:2379'];
  it('runs in the etcd container against the given endpoints', () => {
    expect(etcdctlCmd({ endpoints, tls: false }, ['endpoint', 'health'])).toBe(
      'docker exec etcd etcdctl --endpoints=http://10.77.0.11:2379,http://10.77.0.12:2379 endpoint health',
    );
  });
  it('takes credentials from an env file and input from stdin, never argv', () => {
    expect(etcdctlCmd({ endpoints, tls: true, envFile: '/usr/local/etcd/etcdctl.env', stdin: true }, ['user', 'add', 'root', '--interactive=false'])).toBe(
      'docker exec -i --env-file /usr/local/etcd/etcdctl.env etcd etcdctl --endpoints=http://10.77.0.11:2379,http://10.77.0.12:2379' +
        ' --cacert=/etcd-certs/ca.pem --cert=/etcd-certs/cert.pem --key=/etcd-certs/key.pem user add root --interactive=false',
    );
  });
});

describe('the cluster read, under dash with a docker that logs its calls', () => {
  const endpoints = ['http://10.77.0.11:2379', 'http://10.77.0.12:2379', 'http://10.77.0.13:2379'];
  // The stub docker: `exec … etcd sh -c <script>` runs the script (etcdctl a stub too) unless the container is
  // down; `exec … etcd etcdctl …` answers the call itself, or says the container is not running.
  function run(containerUp: boolean, envFile?: string) {
    const dir = mkdtempSync(join(tmpdir(), 'gw-cluster-read-'));
    const log = join(dir, 'calls');
    const etcdctl = [
      '#!/bin/sh',
      `echo "etcdctl $*" >>${log}`,
      'case "$*" in',
      '  *"endpoint health") for e in $(echo "${1#--endpoints=}" | tr , " "); do echo "$e is healthy: successfully committed proposal: took = 1ms"; done ;;',
      '  *"endpoint status") echo "http://10.77.0.11:2379, 8e9e05c52164694d, 3.4.23, 20 kB, true, false, 2, 8, 8, " ;;',
      '  *"member list") echo "8e9e05c52164694d, started, api7-etcd-1, http://10.77.0.11:2380, http://10.77.0.11:2379, false" ;;',
      '  *"user get root") echo "User: root"; echo "Roles: root" ;;',
      'esac',
    ].join('\n');
    const docker = [
      '#!/bin/sh',
      `echo "docker $1 $2 $3 $4" >>${log}`,
      `${containerUp ? '' : 'echo "Error response from daemon: container etcd is not running" >&2; exit 1'}`,
      'shift; [ "$1" = --env-file ] && shift 2; shift',
      '[ "$1" = sh ] && exec sh -c "$3"',
      'exec "$@"',
    ].join('\n');
    writeFileSync(join(dir, 'etcdctl'), etcdctl);
    writeFileSync(join(dir, 'docker'), docker);
    chmodSync(join(dir, 'etcdctl'), 0o755);
    chmodSync(join(dir, 'docker'), 0o755);
    const nonce = 'gwfacts-test';
    const r = spawnSync('dash', ['-c', clusterReadCmd({ endpoints, tls: false, envFile }, nonce)], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    const result = { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), ok: r.status === 0 };
    return { read: parseClusterRead(result, envFile !== undefined, nonce), calls: readFileSync(log, 'utf8').trim().split('\n') };
  }

  it('runs every etcdctl call inside one docker exec of the container\'s sh', () => {
    const { read, calls } = run(true, '/usr/local/etcd/etcdctl.env');
    expect(calls.filter((c) => c.startsWith('docker'))).toEqual(['docker exec --env-file /usr/local/etcd/etcdctl.env etcd']);
    expect(calls.filter((c) => c.startsWith('etcdctl')).map((c) => c.split(' ').slice(2).join(' ')).sort()).toEqual(['endpoint health', 'endpoint status', 'member list', 'user get root']);
    expect(read).toMatchObject({ healthy: 3, leaders: 1, rootProven: true, why: '' });
    expect(read.members?.map((m) => m.name)).toEqual(['api7-etcd-1']);
  });

  it('a container docker cannot exec into answers call by call: its failures, never a cut-short read', () => {
    const { read, calls } = run(false);
    // The one exec, then one per call (health, status, member list), each refused.
    expect(calls).toHaveLength(4);
    expect(read).toMatchObject({ healthy: 0, leaders: 0, members: undefined, why: 'Error response from daemon: container etcd is not running' });
  });
});

describe('the auth probe, under dash with a stub curl and docker', () => {
  // curl answers as etcd's gateway does (its -w adds the status line), or fails; docker is etcdctl in the
  // container, which answers (auth off) or cannot reach the member.
  function probe(curl: 'off' | 'on' | 'down' | '404' | '500' | 'none', etcdctl: 'answers' | 'down' = 'answers', certDir?: string) {
    const dir = mkdtempSync(join(tmpdir(), 'gw-auth-probe-'));
    const log = join(dir, 'calls');
    const bodies = {
      off: `printf '%s\\n200' '{"header":{"cluster_id":"1"}}'`,
      on: `printf '%s\\n400' '{"error":"etcdserver: user name is empty","code":3}'`,
      down: `echo "curl: (7) Failed to connect to 10.77.0.11 port 2379" >&2; exit 7`,
      '404': `printf 'Not Found\\n\\n404'`,
      '500': `printf '%s\\n500' '{"error":"etcdserver: request timed out"}'`,
    };
    const stub = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/bin/sh\nprintf '%s\\n' "${name} $*" >>${log}\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    };
    if (curl !== 'none') stub('curl', bodies[curl]);
    stub('docker', etcdctl === 'answers' ? 'echo root' : 'echo "Error: context deadline exceeded" >&2; exit 1');
    // Without curl: a PATH of the stubs and the tools the script itself needs.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['tail', 'sed', 'grep']) symlinkSync(execFileSync('/bin/sh', ['-c', `command -v ${tool}`]).toString().trim(), join(bin, tool));
    const r = spawnSync('/bin/dash', ['-c', authProbeCmd('http://10.77.0.11:2379', certDir)], { env: { PATH: `${dir}:${bin}` } });
    const result = { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), ok: r.status === 0 };
    const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    let answer: string;
    try {
      answer = parseAuthProbe(result, 'http://10.77.0.11:2379');
    } catch (e) {
      answer = (e as Error).message;
    }
    return { answer, calls };
  }
  const ETCDCTL = 'docker exec etcd etcdctl --endpoints=http://10.77.0.11:2379 --user=gatewright-auth-probe:not-a-password user list';

  it('asks the member over its HTTP gateway: 200 is off, etcd\'s refusal is on, and no docker exec', () => {
    const off = probe('off');
    expect(off.answer).toBe('off');
    expect(off.calls).toEqual([`curl -sS --max-time 5 -X POST -d {} -w \\n%{http_code} -- http://10.77.0.11:2379/v3/auth/user/list`]);
    const on = probe('on');
    expect(on.answer).toBe('on');
    expect(on.calls.filter((c) => c.startsWith('docker'))).toEqual([]);
  });

  it.each(['down', '404', '500', 'none'] as const)('curl %s: etcdctl in the container answers instead', (curl) => {
    const p = probe(curl);
    expect(p.calls.at(-1)).toBe(ETCDCTL);
    expect(p.answer).toBe('off');
  });

  it('a member that neither answers is unknown, never "off"', () => {
    expect(probe('down', 'down').answer).toMatch(/cannot tell whether etcd auth is on .*context deadline exceeded/);
    expect(probe('500', 'down').answer).toMatch(/cannot tell whether etcd auth is on/);
  });

  it('etcd\'s gateway refusing a certificate\'s CommonName (client-cert-auth, auth on) is on', () => {
    const cn = 'CommonName of client sending a request against gateway will be ignored and not used as expected';
    expect(parseAuthProbe({ ok: false, code: 1, stdout: '', stderr: cn }, 'https://10.77.0.11:2379')).toBe('on');
  });

  it('with TLS, curl presents the member\'s client certificate from the host folder', () => {
    expect(probe('off', 'answers', '/usr/local/etcd/certs').calls[0]).toContain(
      '--cacert /usr/local/etcd/certs/ca.pem --cert /usr/local/etcd/certs/cert.pem --key /usr/local/etcd/certs/key.pem',
    );
  });
});

describe('snapshot retention', () => {
  it('keeps the newest snapshots only', () => {
    expect(pruneSnapshotsCmd('/usr/local/etcd/snapshots', 5)).toBe(
      "ls -1t -- /usr/local/etcd/snapshots | grep -E '^etcd-.*\\.db$' | tail -n +6 | while read -r f; do rm -f -- /usr/local/etcd/snapshots/\"$f\"; done",
    );
  });
});

describe('etcdctl output', () => {
  it('reads member list', () => {
    const out = [
      '8e9e05c52164694d, started, lab1, http://10.77.0.11:2380, http://10.77.0.11:2379, false',
      'a1b2c3d4e5f60718, unstarted, , http://10.77.0.13:2380, , false',
    ].join('\n');
    expect(parseMemberList(out)).toEqual([
      { id: '8e9e05c52164694d', status: 'started', name: 'lab1', peerUrls: ['http://10.77.0.11:2380'], clientUrls: ['http://10.77.0.11:2379'] },
      { id: 'a1b2c3d4e5f60718', status: 'unstarted', name: '', peerUrls: ['http://10.77.0.13:2380'], clientUrls: [] },
    ]);
  });
  it('finds the leader in endpoint status', () => {
    const out = [
      'http://10.77.0.11:2379, 8e9e05c52164694d, 3.4.23, 20 kB, true, false, 2, 8, 8, ',
      'http://10.77.0.12:2379, 91bc3c398fb3c146, 3.4.23, 20 kB, false, false, 2, 8, 8, ',
    ].join('\n');
    expect(parseEndpointStatus(out).map((s) => s.leader)).toEqual([true, false]);
  });
  it('counts healthy endpoints, not unhealthy ones', () => {
    const out = [
      'http://10.77.0.11:2379 is healthy: successfully committed proposal: took = 2.1ms',
      'http://10.77.0.13:2379 is unhealthy: failed to commit proposal: context deadline exceeded',
    ].join('\n');
    expect(countHealthy(out)).toBe(1);
  });
});

describe('etcd member survey', () => {
  const cmd = surveyCmd('/usr/local/etcd/etcd_data', '10.77.0.11', 2379);

  it('fails as a whole when any docker call fails, and says it finished last', () => {
    const lines = cmd.split('\n');
    expect(lines[0]).toBe('set -e');
    expect(lines).toContain(`all=$(docker ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.Label "io.gatewright.role"}}')`);
    expect(lines).toContain(`ids=$(printf '%s\\n' "$all" | awk '$2 == "etcd" || $3 == "etcd" { print $1 }')`);
    // One inspect for every container, not two per container.
    expect(cmd.match(/docker inspect/g)).toHaveLength(1);
    expect(lines.at(-1)).toBe('echo survey=done');
    expect(cmd).toContain(`timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' 10.77.0.11 2379`);
  });

  const ok = [
    'dir=yes',
    'data=no',
    'container yes {"name":"/etcd","running":false,"spec":"abc","dataMount":"/srv/etcd/etcd_data"}',
    'port=1',
    'survey=done',
  ];

  it('reads the data dir, each container with its data mount, and the client port', () => {
    expect(parseSurvey(ok.join('\n'))).toEqual({
      dirExists: true,
      hasData: false,
      containers: [{ name: 'etcd', running: false, spec: 'abc', dataMount: '/srv/etcd/etcd_data', mountHasData: true }],
      port: 'closed',
    });
    expect(parseSurvey(ok.map((l) => l.replace('port=1', 'port=0')).join('\n')).port).toBe('open');
    expect(parseSurvey(ok.map((l) => l.replace('port=1', 'port=124')).join('\n')).port).toBe('unknown');
  });

  it.each([
    ['empty output', '', /lacks survey=/],
    ['cut short before the end', ok.slice(0, 3).join('\n'), /lacks survey=/],
    ['without the client port', ok.filter((l) => !l.startsWith('port=')).join('\n'), /lacks port=/],
    ['an odd container line', ok.map((l) => (l.startsWith('container') ? 'container maybe {}' : l)).join('\n'), /odd container line/],
    ['an odd data line', ok.map((l) => (l === 'data=no' ? 'data=' : l)).join('\n'), /data=/],
  ])('never reads %s as "nothing there": it throws', (_, out, why) => {
    expect(() => parseSurvey(out)).toThrow(why);
  });
});

describe('etcd data dir move', () => {
  it('copies under a temporary name, renames, then removes the old member; refuses a missing source or a taken target', () => {
    expect(moveDataCmd('/srv/etcd/etcd_data', '/usr/local/etcd/etcd_data').split('\n')).toEqual([
      'set -e',
      `[ -d /srv/etcd/etcd_data/member ] || { echo 'no member data to move' >&2; exit 1; }`,
      `[ ! -e /usr/local/etcd/etcd_data/member ] || { echo 'the new data dir already holds a member' >&2; exit 1; }`,
      'mkdir -p -- /usr/local/etcd/etcd_data && chmod 700 -- /usr/local/etcd/etcd_data',
      'rm -rf -- /usr/local/etcd/etcd_data/member.gatewright-moving',
      'cp -a -- /srv/etcd/etcd_data/member /usr/local/etcd/etcd_data/member.gatewright-moving',
      'mv -- /usr/local/etcd/etcd_data/member.gatewright-moving /usr/local/etcd/etcd_data/member',
      'rm -rf -- /srv/etcd/etcd_data/member',
    ]);
  });
});

describe('the snapshot before a change', () => {
  it("comes from a one-off container of the etcd image: none of the member's mounts needed (a guide-made member has only /etcd_data)", () => {
    expect(snapshotSaveCmd({ image: 'bitnami/etcd:3.4.13', endpoint: 'http://10.0.0.1:2379', snapshotDir: '/usr/local/etcd/snapshots', file: '/etcd-snapshots/etcd-x.db' })).toBe(
      'timeout 300 docker run --rm -u root --network=host --security-opt label=disable -v /usr/local/etcd/snapshots:/etcd-snapshots --entrypoint etcdctl bitnami/etcd:3.4.13 --endpoints=http://10.0.0.1:2379 snapshot save /etcd-snapshots/etcd-x.db',
    );
  });

  it('with auth on, the credentials file; with TLS, the client certificates read-only', () => {
    const cmd = snapshotSaveCmd({ image: 'img', endpoint: 'https://10.0.0.1:2379', snapshotDir: '/s', file: '/etcd-snapshots/f.db', envFile: '/usr/local/etcd/etcdctl.env', certDir: '/usr/local/etcd/certs' });
    expect(cmd).toContain(' --env-file /usr/local/etcd/etcdctl.env ');
    expect(cmd).toContain(' -v /usr/local/etcd/certs:/etcd-certs:ro ');
    expect(cmd).toMatch(/--endpoints=https:\/\/10\.0\.0\.1:2379 --cacert=\/etcd-certs\/ca\.pem --cert=\/etcd-certs\/cert\.pem --key=\/etcd-certs\/key\.pem snapshot save \/etcd-snapshots\/f\.db$/);
  });
});
