// Real sshd processes on loopback addresses (127.0.0.2, .3, … port 2222) for the bench and the integration tests.
// Needs root and `apt-get install -y openssh-server sudo`. Users: `gwtest` (passwordless sudo) and
// `gwpass` (sudo asks for BECOME_PASSWORD). Everything lives in one temp dir; stop() kills what it started.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync, openSync, closeSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NOPASS_USER = 'gwtest';
export const PASS_USER = 'gwpass';
export const BECOME_PASSWORD = 'S3cret-sudo-pw!';
export const SSHD_PORT = 2222;

export interface SshdHost {
  name: string;
  address: string;
  port: number;
  /** `ssh-ed25519 AAAA…` (the host's public key). */
  publicKey: string;
  logFile: string;
  process?: ChildProcess;
}

export interface SshdOptions {
  count: number;
  /** Number of the first host: its address is 127.0.<n / 256>.<n % 256> (default 2: 127.0.0.2). */
  first?: number;
  /** Extra sshd_config lines per host name (e.g. a LogLevel). */
  extraConfig?: Record<string, string>;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Creates the test users and their sudo rules once per machine (idempotent). */
export function ensureTestUsers(): void {
  for (const user of [NOPASS_USER, PASS_USER]) {
    try {
      run('id', [user]);
    } catch {
      run('useradd', ['-m', '-s', '/bin/sh', user]);
    }
  }
  // '*' is "no password" without being "locked" (sshd refuses locked accounts when PAM is off).
  run('usermod', ['-p', '*', NOPASS_USER]);
  execFileSync('chpasswd', { input: `${PASS_USER}:${BECOME_PASSWORD}\n` });
  const rules = `${NOPASS_USER} ALL=(ALL) NOPASSWD:ALL\nDefaults:${PASS_USER} timestamp_timeout=0\n${PASS_USER} ALL=(ALL) ALL\n`;
  writeFileSync('/etc/sudoers.d/gatewright-test', rules, { mode: 0o440 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
}

export class SshdLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'gw-sshd-'));
  readonly clientKey = join(this.dir, 'id_ed25519');
  readonly knownHostsFile = join(this.dir, 'known_hosts');
  readonly hosts: SshdHost[] = [];

  constructor(readonly options: SshdOptions) {
    chmodSync(this.dir, 0o755); // sshd reads authorized_keys here as the login user
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gatewright-test', '-f', this.clientKey]);
    writeFileSync(join(this.dir, 'authorized_keys'), readFileSync(`${this.clientKey}.pub`), { mode: 0o644 });
    const first = options.first ?? 2;
    for (let i = 0; i < options.count; i++) {
      const name = `h${first + i}`;
      // Past 127.0.0.254 into 127.0.1.x and on (all loopback): the bench runs hundreds.
      const n = first + i;
      const address = `127.0.${n >> 8}.${n & 255}`;
      const keyFile = join(this.dir, `${name}_host_ed25519`);
      run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', keyFile]);
      const publicKey = readFileSync(`${keyFile}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
      this.hosts.push({ name, address, port: SSHD_PORT, publicKey, logFile: join(this.dir, `${name}.log`) });
    }
    this.writeKnownHosts(this.hosts);
  }

  host(name: string): SshdHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no test host ${name}`);
    return h;
  }

  /** known_hosts listing these hosts (all of them by default), `[addr]:2222 key` lines. */
  writeKnownHosts(hosts: SshdHost[], file = this.knownHostsFile): string {
    writeFileSync(file, hosts.map((h) => `[${h.address}]:${h.port} ${h.publicKey}\n`).join(''), { mode: 0o600 });
    return file;
  }

  private config(h: SshdHost): string {
    const lines = [
      `ListenAddress ${h.address}:${h.port}`,
      `HostKey ${join(this.dir, `${h.name}_host_ed25519`)}`,
      `PidFile ${join(this.dir, `${h.name}.pid`)}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      `AllowUsers ${NOPASS_USER} ${PASS_USER}`,
      'AllowTcpForwarding yes',
      'MaxStartups 200',
      'MaxSessions 50',
      'Subsystem sftp internal-sftp',
      this.options.extraConfig?.[h.name] ?? '',
    ];
    const file = join(this.dir, `${h.name}_sshd_config`);
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  }

  async start(names = this.hosts.map((h) => h.name)): Promise<void> {
    await Promise.all(names.map((n) => this.startOne(this.host(n))));
  }

  private async startOne(h: SshdHost): Promise<void> {
    if (h.process && h.process.exitCode === null) return;
    if (await portOpen(h.address, h.port)) throw new Error(`${h.address}:${h.port} is already in use (a stray sshd?)`);
    const log = openSync(h.logFile, 'a');
    h.process = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', this.config(h)], { stdio: ['ignore', 'ignore', log] });
    closeSync(log);
    await waitForPort(h.address, h.port, h.process);
  }

  async stopHost(name: string): Promise<void> {
    const h = this.host(name);
    if (!h.process || h.process.exitCode !== null) return;
    const exited = new Promise((r) => h.process!.once('exit', r));
    h.process.kill('SIGTERM');
    await exited;
  }

  log(name: string): string {
    const file = this.host(name).logFile;
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  async stop(): Promise<void> {
    await Promise.all(this.hosts.map((h) => this.stopHost(h.name)));
    // Session children of a killed sshd -D exit when their client goes; nothing else of ours runs.
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const portOpen = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createConnection({ host, port }, () => (s.end(), resolve(true)));
    s.on('error', () => resolve(false));
  });

async function waitForPort(host: string, port: number, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`sshd on ${host}:${port} exited with ${proc.exitCode}`);
    if (await portOpen(host, port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd on ${host}:${port} did not start`);
}

/** Starts `count` hosts and the users they need. */
export async function startSshdLab(options: SshdOptions): Promise<SshdLab> {
  ensureTestUsers();
  const lab = new SshdLab(options);
  await lab.start();
  return lab;
}

/** An inventory YAML for the lab's hosts (all in group `lab`), plus extra top-level text. */
export function labInventory(lab: SshdLab, opts: { only?: string[]; user?: string; hostVars?: Record<string, Record<string, unknown>>; groups?: Record<string, string[]>; allVars?: Record<string, unknown> } = {}): string {
  // The hosts share this machine: their run lock goes in the lab's dir, so runs of other labs never meet it.
  const vars = { ansible_user: opts.user ?? NOPASS_USER, ansible_port: SSHD_PORT, ansible_ssh_private_key_file: lab.clientKey, gatewright_lock_file: join(lab.dir, 'gatewright.lock'), ...opts.allVars };
  const hostLines = lab.hosts.filter((h) => !opts.only || opts.only.includes(h.name)).map((h) => {
    const extra = { ansible_host: h.address, ...opts.hostVars?.[h.name] };
    return `    ${h.name}: ${JSON.stringify(extra)}`;
  });
  const groups = Object.entries(opts.groups ?? {}).map(([g, hs]) => `    ${g}:\n      hosts:\n${hs.map((h) => `        ${h}:`).join('\n')}`);
  return [
    'all:',
    `  vars: ${JSON.stringify(vars)}`,
    '  hosts:',
    ...hostLines,
    ...(groups.length ? ['  children:', ...groups] : []),
    '',
  ].join('\n');
}

let workspaces = 0;

/**
 * A fresh folder in the lab's dir for one CLI run: a target directory the login user writes to, an
 * inventory of the lab's hosts, and a runs dir whose per-host logs `logs()` reads back as one text.
 */
export function labWorkspace(lab: SshdLab, inventoryOpts: Parameters<typeof labInventory>[1] = {}) {
  const root = join(lab.dir, `ws${++workspaces}`);
  const target = join(root, 'target');
  mkdirSync(target, { recursive: true });
  chmodSync(root, 0o755);
  chmodSync(target, 0o777);
  const inventory = join(root, 'inventory.yaml');
  writeFileSync(inventory, labInventory(lab, inventoryOpts));
  const runs = join(root, 'runs');
  const logs = () => readdirSync(runs).flatMap((stamp) => readdirSync(join(runs, stamp)).map((f) => readFileSync(join(runs, stamp, f), 'utf8'))).join('\n');
  return { root, target, inventory, runs, logs };
}
