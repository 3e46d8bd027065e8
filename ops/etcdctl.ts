// etcdctl through `docker exec` in a host's etcd container, and parsers of its simple output: pure, tested by
// exact strings. ops/etcd.ts runs them.
import { argv } from '../lib/shell.ts';
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

export function etcdctlCmd(o: Etcdctl, args: string[]): string {
  const exec = ['docker', 'exec', ...(o.stdin ? ['-i'] : []), ...(o.envFile ? ['--env-file', o.envFile] : [])];
  const tls = o.tls ? [`--cacert=${IN_CERTS}/ca.pem`, `--cert=${IN_CERTS}/cert.pem`, `--key=${IN_CERTS}/key.pem`] : [];
  return argv([...exec, ETCD_CONTAINER, 'etcdctl', `--endpoints=${o.endpoints.join(',')}`, ...tls, ...args]);
}

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

