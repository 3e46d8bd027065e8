import { describe, expect, it } from 'vitest';
import {
  countHealthy,
  etcdctlCmd,
  etcdRunCmd,
  etcdSpecInputs,
  parseEndpointStatus,
  parseMemberList,
  pruneSnapshotsCmd,
  type EtcdRun,
} from '../../roles/etcd/commands.ts';
import { fingerprint } from '../../roles/common/fingerprint.ts';

const lab1: EtcdRun = {
  image: 'gatewright/etcd:3.4.23',
  name: 'lab1',
  address: '10.77.0.11',
  clientPort: 2379,
  peerPort: 2380,
  initialCluster: 'lab1=http://10.77.0.11:2380,lab2=http://10.77.0.12:2380,lab3=http://10.77.0.13:2380',
  token: 'api7-etcd-cluster',
  state: 'new',
  dataDir: '/usr/local/etcd/etcd_data',
  snapshotDir: '/usr/local/etcd/snapshots',
};

describe('etcd docker run', () => {
  it('is the guide command with our labels, every value quoted', () => {
    expect(etcdRunCmd(lab1, 'abc123')).toBe(
      'docker run -d --name etcd --network=host --restart always' +
        ' --label io.gatewright.role=etcd --label io.gatewright.spec=abc123' +
        ' -v /usr/local/etcd/etcd_data:/etcd-data -v /usr/local/etcd/snapshots:/etcd-snapshots' +
        ' -e ETCD_NAME=lab1 -e ETCD_DATA_DIR=/etcd-data' +
        ' -e ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379 -e ETCD_ADVERTISE_CLIENT_URLS=http://10.77.0.11:2379' +
        ' -e ETCD_LISTEN_PEER_URLS=http://0.0.0.0:2380 -e ETCD_INITIAL_ADVERTISE_PEER_URLS=http://10.77.0.11:2380' +
        ' -e ETCD_INITIAL_CLUSTER=lab1=http://10.77.0.11:2380,lab2=http://10.77.0.12:2380,lab3=http://10.77.0.13:2380' +
        ' -e ETCD_INITIAL_CLUSTER_TOKEN=api7-etcd-cluster -e ETCD_INITIAL_CLUSTER_STATE=new' +
        ' gatewright/etcd:3.4.23',
    );
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

  it('has the same spec whether the member bootstraps or rejoins', () => {
    const a = fingerprint(etcdSpecInputs(lab1, 'sha256:1'));
    expect(fingerprint(etcdSpecInputs({ ...lab1, state: 'existing' }, 'sha256:1'))).toBe(a);
    expect(fingerprint(etcdSpecInputs({ ...lab1, token: 'other' }, 'sha256:1'))).not.toBe(a);
    expect(fingerprint(etcdSpecInputs(lab1, 'sha256:2'))).not.toBe(a);
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
      { id: '8e9e05c52164694d', status: 'started', name: 'lab1', peerUrls: ['http://10.77.0.11:2380'] },
      { id: 'a1b2c3d4e5f60718', status: 'unstarted', name: '', peerUrls: ['http://10.77.0.13:2380'] },
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
