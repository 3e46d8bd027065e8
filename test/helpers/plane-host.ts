// A scripted dashboard or gateway host for the plane roles' tests: its files, images and compose containers,
// answering the facts (alone or in the role's batch) and changed by the commands and writes the roles make.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selinuxFact } from '../../facts/selinux.ts';
import { composeCommand } from '../../facts/docker.ts';
import { API_MARK } from '../../facts/engine-api.ts';
import { UnreachableError } from '../../lib/errors.ts';
import { runPlaybook, type RunOptions } from '../../lib/runner.ts';
import { definePlaybook, type ExecOptions, type ExecResult, type Host, type PutOptions, type Role, type Transport } from '../../lib/types.ts';
import { localSha256 } from '../../ops/local-checksum.ts';
import { COMPOSE_LABEL, IMAGES_CMD, MTIME_MARK } from '../../ops/docker.ts';
import { batchCommands } from './role-fleet.ts';
import { answerEachUrl, FakeTransport, fakeInventory } from './fake-transport.ts';

export const VERSION = '2.13.2304';
const HEX = { cp: 'c'.repeat(64), dp: 'd'.repeat(64) };

export interface Plane {
  plane: 'cp' | 'dp';
  service: string;
  image: string;
  confFile: string;
  compose: string;
  shipped: string;
}

export const CP: Plane = {
  plane: 'cp',
  service: 'api7-dashboard',
  image: `api7ee.azurecr.io/api7-dashboard:${VERSION}`,
  confFile: 'dashboard_conf/conf.yaml',
  compose: `services:\n  api7-dashboard:\n    image: api7ee.azurecr.io/api7-dashboard:${VERSION}\n    ports: ["9000:9000"]\n    volumes:\n      - ./dashboard_conf/conf.yaml:/usr/local/apisix-dashboard/conf/conf.yaml:ro\n`,
  shipped: 'conf:\n  etcd:\n    endpoints:\n      - 127.0.0.1:2379\n    prefix: /api7\n  allow_list:\n    - 0.0.0.0/0\nauthentication:\n  secret: secret\n  users:\n    - username: admin\n      password: admin\n',
};

export const DP: Plane = {
  plane: 'dp',
  service: 'api7-gateway',
  image: `api7ee.azurecr.io/api7-gateway:${VERSION}`,
  confFile: 'gateway_conf/config.yaml',
  compose: `services:\n  api7-gateway:\n    image: api7ee.azurecr.io/api7-gateway:${VERSION}\n    volumes:\n      - ./gateway_conf/config.yaml:/usr/local/apisix/conf/config.yaml\n`,
  shipped: 'etcd:\n  host:\n    - "http://127.0.0.1:2379"\n  prefix: /api7/default\n',
};

export const dirOf = (p: Plane) => `/opt/api7/api7-${VERSION}-${p.plane}`;
export const tarballOf = (p: Plane) => `/opt/api7/bundles/api7-${VERSION}-${p.plane}.tar.gz`;
export const imageTarballOf = (p: Plane) => `${dirOf(p)}/images/${p.service}-${VERSION}.tar.gz`;
export const imageIdOf = (p: Plane) => `sha256:${HEX[p.plane]}`;

/** The controller's bundles folder, with both bundles wrapped in their top folder as a vendor ships them. */
export function bundles(): { dir: string; sha: Record<'cp' | 'dp', Promise<string>> } {
  const dir = mkdtempSync(join(tmpdir(), 'gw-planes-'));
  for (const p of [CP, DP]) {
    const top = join(dir, 'src', `api7-${VERSION}-${p.plane}`);
    mkdirSync(join(top, 'images'), { recursive: true });
    writeFileSync(join(top, 'docker-compose.yaml'), p.compose);
    // A `docker save` as far as the manifest goes: the controller reads it there (ops/local-manifest.ts).
    const image = join(dir, 'image', p.plane);
    mkdirSync(image, { recursive: true });
    writeFileSync(join(image, 'manifest.json'), manifest(p));
    execFileSync('tar', ['-czf', join(top, 'images', `${p.service}-${VERSION}.tar.gz`), '-C', image, 'manifest.json']);
    execFileSync('tar', ['-czf', join(dir, `api7-${VERSION}-${p.plane}.tar.gz`), '-C', join(dir, 'src'), `api7-${VERSION}-${p.plane}`]);
  }
  return { dir, sha: { cp: localSha256(join(dir, `api7-${VERSION}-cp.tar.gz`)), dp: localSha256(join(dir, `api7-${VERSION}-dp.tar.gz`)) } };
}

interface File {
  content: string;
  mode: string;
  mtime: number;
}

/** One host's state; every field can be set by a test to script drift or a fault. */
export class PlaneHost {
  files = new Map<string, File>();
  images = new Map<string, string>();
  containers: { id: string; running: boolean; image: string; started: number; dir: string; project: string }[] = [];
  clock = 1_000;
  healthy = true;
  /** The console's answer to a login (401: the password refused). */
  loginStatus = 200;
  /** getenforce's answer. */
  selinux: 'Enforcing' | 'Permissive' | 'Disabled' = 'Disabled';
  /** Fact commands (by a substring) that fail as an unreadable file or a dead engine does. */
  failing: { match: string; stderr: string }[] = [];
  /** The recorded commands of the role's steps (batches recorded as `batch: <n> facts`). */
  log: string[] = [];

  /** The commands that changed something (the log without its reads). */
  get changes(): string[] {
    return this.log.filter((c) => !READS.some((r) => c.startsWith(r)));
  }

  constructor(readonly plane: Plane, readonly name: string) {}

  write(path: string, content: string, mode = '644') {
    this.files.set(path, { content, mode, mtime: this.clock++ });
  }

  /** What a finished deploy leaves (the conf as the role writes it: pass what a first run wrote). */
  deployed(sha: string, conf: string, confMode: string) {
    const p = this.plane;
    this.write(`${tarballOf(p)}.sha`, sha);
    this.write(`${dirOf(p)}/.gatewright-bundle`, `${sha}\n`);
    this.write(`${dirOf(p)}/docker-compose.yaml`, p.compose);
    this.write(`${imageTarballOf(p)}.gatewright-manifest`, `${sha}\n${manifest(p)}\n`);
    this.write(`${dirOf(p)}/${p.confFile}`, conf, confMode);
    this.images.set(p.image, imageIdOf(p));
    this.containers = [{ id: 'c0', running: true, image: imageIdOf(p), started: this.clock++, dir: dirOf(p), project: `api7-2132304-${p.plane}` }];
  }

  answer(command: string, opts: ExecOptions): Partial<ExecResult> {
    const p = this.plane;
    const failed = this.failing.find((f) => command.includes(f.match));
    if (failed) return { code: 1, stderr: failed.stderr };
    const read = /^if \[ -f (\S+) \]; then stat/.exec(command);
    if (read) {
      const f = this.files.get(read[1]);
      return { stdout: f ? `${f.mode} root root\n${f.content}` : 'missing\n' };
    }
    if (command.startsWith('if [ -e /opt/api7/bundles/')) {
      const sha = this.files.get(`${tarballOf(p)}.sha`);
      return { stdout: sha ? `${sha.content}  ${tarballOf(p)}\n` : 'missing\n' };
    }
    if (command.startsWith(`d=${dirOf(p)}/images;`)) {
      if (!this.files.has(`${dirOf(p)}/docker-compose.yaml`)) return { stdout: 'missing\n' };
      return { stdout: `==gatewright-tarball== ${imageTarballOf(p)}\n${this.files.get(`${imageTarballOf(p)}.gatewright-manifest`)?.content ?? ''}\n` };
    }
    if (command.startsWith('tar -xzOf ')) return { stdout: `${manifest(p)}\n` };
    if (command === IMAGES_CMD) return { stdout: [...this.images].map(([ref, id]) => `${id} ${ref}\n`).join('') };
    if (command === selinuxFact.command) return { stdout: `MODE=${this.selinux}\n` };
    if (command === composeCommand.command) return { stdout: 'COMPOSE_V2=2.20.2\nCOMPOSE_V1=\n' };
    if (command.includes(`printf '%s %s\\n' ${MTIME_MARK} `)) {
      // The service's containers as the engine API answers (its inspect objects), then the start files' mtime.
      const files = [`${dirOf(p)}/${p.confFile}`, `${dirOf(p)}/docker-compose.override.yaml`];
      const mtime = Math.max(0, ...files.map((f) => this.files.get(f)?.mtime ?? 0));
      const inspects = this.containers.map((c) =>
        JSON.stringify({
          Id: c.id,
          Name: `/${c.project}-${p.service}-1`,
          Image: c.image,
          State: { Running: c.running, StartedAt: new Date(c.started * 1000).toISOString() },
          Config: { Labels: { [COMPOSE_LABEL.project]: c.project, [COMPOSE_LABEL.workingDir]: c.dir, [COMPOSE_LABEL.service]: p.service } },
        }),
      );
      return { stdout: `${API_MARK}\n${inspects.map((l) => `${l}\n`).join('')}${MTIME_MARK} ${mtime ? `${mtime}.0000000000` : ''}\n` };
    }
    if (command.startsWith('curl -sS') && command.endsWith('/ping')) {
      return this.healthy ? { stdout: 'pong\n__gatewright_status__:200' } : { code: 7, stdout: '\n__gatewright_status__:000', stderr: 'curl: (7) Failed to connect' };
    }
    if (command.startsWith('curl -sS')) {
      // Metrics, then the HTTP port: routed to the upstream through the probe route, else the gateway's own 404.
      const http = command.endsWith('/get') ? '{"url":"http://gatewright-probe.invalid/get"}\n__gatewright_status__:200' : '{"error_msg":"404 Route Not Found"}\n__gatewright_status__:404';
      return this.healthy
        ? { stdout: `metrics\n__gatewright_status__:200${http}` }
        : { code: 7, stdout: '\n__gatewright_status__:000', stderr: 'curl: (7) Failed to connect' };
    }
    if (command === 'curl -K -') return this.console(String(opts.stdin ?? ''));
    return this.change(command);
  }

  /** The console API (curl -K - with its config on stdin). */
  private console(stdin: string): Partial<ExecResult> {
    const status = (code: number, body = '{}') => ({ stdout: `${body}\n__gatewright_status__:${code}` });
    if (stdin.includes('/user/login')) return this.loginStatus !== 200 ? status(this.loginStatus, '{"message":"wrong password"}') : status(200, '{"data":{"token":"eyJhbGciOiJIUzI1NiJ9.console-session.sig"}}');
    if (stdin.includes('/clusters/')) return status(200, '{"data":{"id":"default"}}');
    if (stdin.includes('/routes/')) return status(200, JSON.stringify({ data: { uri: '/get', host: 'gatewright-probe.invalid', upstream: { type: 'roundrobin', nodes: { 'u1:80': 1 } } } }));
    return status(404);
  }

  /** The commands the roles' changes run. */
  private change(command: string): Partial<ExecResult> {
    const p = this.plane;
    if (command.includes(' && tar -xzf ')) {
      const sha = /printf '%s\\n' (\w+) >/.exec(command)![1];
      this.write(`${dirOf(p)}/docker-compose.yaml`, p.compose);
      this.write(`${dirOf(p)}/${p.confFile}`, p.shipped);
      this.write(`${dirOf(p)}/.gatewright-bundle`, `${sha}\n`);
    } else if (command.startsWith('docker load -i ')) {
      this.images.set(p.image, imageIdOf(p));
    } else if (command.includes(' up -d --force-recreate ')) {
      this.containers = this.containers.filter((c) => c.dir !== dirOf(p));
      this.containers.push({ id: `c${this.clock}`, running: true, image: this.images.get(p.image) ?? '', started: this.clock++, dir: dirOf(p), project: `api7-2132304-${p.plane}` });
    } else if (command.startsWith('rm -f -- ')) {
      this.files.delete(command.slice('rm -f -- '.length));
    } else if (!command.startsWith('mkdir -p -- ') && !command.startsWith('chmod ') && !command.startsWith('chown ')) {
      return { code: 127, stderr: `fake host ${this.name}: unexpected command ${command}` };
    }
    return {};
  }
}

/** How an engine API read (facts/engine-api.ts) starts. */
const ENGINE_READ = 'if [ -z "${DOCKER_HOST:-}" ]';

/** How the reads start: a fact (alone or batched), a health or console request, a manifest not cached yet. */
const READS = ['batch: ', 'if [ -f ', 'if [ -e ', 'd=/', ENGINE_READ, IMAGES_CMD, 'curl ', 'tar -xzOf ', composeCommand.command, selinuxFact.command];

const manifest = (p: Plane) => JSON.stringify([{ Config: `${HEX[p.plane]}.json`, RepoTags: [p.image] }]);


/** A transport on a PlaneHost: the batch answered fact by fact, writes and uploads landing in its files. */
class PlaneTransport extends FakeTransport {
  constructor(readonly state: PlaneHost) {
    super(state.name, (command, _host, opts) => {
      const nonce = /^n=(gwfacts-[0-9a-f]+)\n/.exec(command)?.[1];
      if (!nonce) return state.answer(command, opts);
      const parts = batchCommands(command)!.map((c, i) => {
        const r = { code: 0, stdout: '', stderr: '', ...answerEachUrl((cmd, _h, oo) => state.answer(cmd, oo), c, state.name, opts) };
        return `${nonce} ${i} out\n${r.stdout}\n${nonce} ${i} err\n${r.stderr}\n${nonce} ${i} rc ${r.code}\n`;
      });
      return { stdout: `${nonce} begin\n${parts.join('')}${nonce} end\n` };
    });
  }

  /** Logged as sent: one line per command (a batch by its count of facts), however many answers it takes. */
  override async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (!this.dead) this.state.log.push(/^n=gwfacts-/.test(command) ? `batch: ${batchCommands(command)!.length} facts` : command);
    return super.exec(command, opts);
  }

  override async put(path: string, content: string | Buffer, opts: PutOptions = {}): Promise<void> {
    await super.put(path, content, opts);
    this.state.write(path, String(content), (opts.mode ?? 0o644).toString(8));
  }

  override async putFile(localPath: string, path: string, opts: PutOptions = {}): Promise<void> {
    await super.putFile(localPath, path, opts);
    this.state.write(`${path}.sha`, await localSha256(localPath));
  }
}

/** control c1, c2 (etcd c1..c3), gateways g1, g2, an upstream u1: the lab's shape, small. */
export const HOSTS = { control: ['c1', 'c2'], etcd: ['c1', 'c2', 'c3'], gateway: ['g1', 'g2'], upstream: ['u1'] };

export async function runRole(role: Role, group: 'control' | 'gateway', hosts: Record<string, PlaneHost>, bundleDir: string, opts: RunOptions = {}, vars: Record<string, unknown> = {}) {
  const transports = new Map<string, PlaneTransport>();
  const factory = async (host: Host): Promise<Transport> => {
    const state = hosts[host.name];
    if (!state) throw new UnreachableError(host.name, `${host.name}: not scripted`, true);
    let t = transports.get(host.name);
    if (!t) transports.set(host.name, (t = new PlaneTransport(state)));
    return t;
  };
  const common = { api7_bundle_dir: bundleDir, dashboard_admin_password: 'console-pw', health_timeout: 1, ...vars };
  const inventory = fakeInventory(HOSTS, Object.fromEntries(Object.values(HOSTS).flat().map((h) => [h, common])));
  const playbook = definePlaybook({ name: role.name, description: '', plays: [{ name: role.name, hosts: group, role }] });
  for (const h of Object.values(hosts)) h.log = [];
  const summary = await runPlaybook(playbook, opts, { inventory, transports: factory });
  const step = (host: string, name: string) => summary.results.find((r) => r.host === host && r.step === name);
  const changed = (host: string) => summary.results.filter((r) => r.host === host && r.status === 'changed').map((r) => r.step);
  return { summary, step, changed };
}
