// A real etcd cluster on loopback for tests (Debian's etcd-server/etcd-client 3.4): members on
// 127.0.0.1 with their own ports and temp data dirs, which a test can stop, kill and start again.
//
//   const cluster = await startEtcdCluster({ size: 3 });
//   cluster.endpoints;                 // ['http://127.0.0.1:40123', ...]
//   await cluster.members[0].stop();   // clean stop (SIGTERM); .kill() is a power cut
//   await cluster.members[0].start(); await cluster.waitHealthy();
//   await cluster.enableAuth(rootPassword);
//   await cluster.close();             // stops every member, removes the data
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.ts';

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly running: boolean;
  start(): Promise<void>;
  /** SIGTERM: a clean shutdown. */
  stop(): Promise<void>;
  /** SIGKILL: a power cut. */
  kill(): Promise<void>;
}

export interface EtcdCluster {
  readonly members: EtcdMember[];
  readonly endpoints: string[];
  /** Runs etcdctl against the running members; `stdin` carries secrets (never argv). */
  etcdctl(args: string[], stdin?: string): Promise<string>;
  /** Waits (bounded) until every running member answers `endpoint health`. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Creates user root with this password and enables auth. */
  enableAuth(rootPassword: string): Promise<void>;
  close(): Promise<void>;
}

function run(command: string, args: string[], stdin?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(stdin ?? '');
  });
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

export async function startEtcdCluster(options: { size?: number; token?: string } = {}): Promise<EtcdCluster> {
  const size = options.size ?? 3;
  const dataRoot = await mkdtemp(path.join(tmpdir(), 'gatewright-etcd-'));
  const specs = [];
  for (let i = 1; i <= size; i++) {
    specs.push({ name: `etcd${i}`, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}` });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');

  const members = specs.map((spec) => {
    let child: ChildProcess | undefined;
    const args = [
      '--name', spec.name,
      '--data-dir', path.join(dataRoot, spec.name),
      '--listen-client-urls', spec.clientUrl,
      '--advertise-client-urls', spec.clientUrl,
      '--listen-peer-urls', spec.peerUrl,
      '--initial-advertise-peer-urls', spec.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', options.token ?? 'gatewright-test',
    ];
    const member: EtcdMember = {
      name: spec.name,
      clientUrl: spec.clientUrl,
      get running() {
        return child !== undefined && child.exitCode === null && child.signalCode === null;
      },
      async start() {
        if (member.running) return;
        // Output to a file, not a pipe: a pipe nobody drains would stall etcd.
        const log = openSync(path.join(dataRoot, `${spec.name}.log`), 'a');
        child = spawn('etcd', args, { stdio: ['ignore', log, log] });
        closeSync(log);
      },
      async stop() {
        if (!child || !member.running) return;
        child.kill('SIGTERM');
        await exited(child);
      },
      async kill() {
        if (!child || !member.running) return;
        child.kill('SIGKILL');
        await exited(child);
      },
    };
    return member;
  });

  const running = () => members.filter((m) => m.running).map((m) => m.clientUrl);
  const cluster: EtcdCluster = {
    members,
    endpoints: specs.map((s) => s.clientUrl),
    async etcdctl(args, stdin) {
      const { code, out } = await run('etcdctl', [`--endpoints=${running().join(',')}`, '--dial-timeout=2s', '--command-timeout=5s', ...args], stdin);
      if (code !== 0) throw new Error(`etcdctl ${args.join(' ')} failed (${code}): ${out.trim()}`);
      return out;
    },
    async waitHealthy(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        const result = await run('etcdctl', [`--endpoints=${running().join(',')}`, '--dial-timeout=1s', '--command-timeout=2s', 'endpoint', 'health']);
        if (result.code === 0) return;
        last = result.out.trim();
        await sleep(250);
      }
      throw new Error(`etcd cluster not healthy after ${timeoutMs} ms: ${last}`);
    },
    async enableAuth(rootPassword) {
      await cluster.etcdctl(['user', 'add', 'root', '--interactive=false'], `${rootPassword}\n`);
      await cluster.etcdctl(['auth', 'enable']);
    },
    async close() {
      await Promise.all(members.map((m) => m.kill()));
      await rm(dataRoot, { recursive: true, force: true });
    },
  };

  try {
    await Promise.all(members.map((m) => m.start()));
    await cluster.waitHealthy();
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}
