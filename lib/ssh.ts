// The ssh transport: one node-ssh (ssh2) connection per host per run, reused by every step.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { posix } from 'node:path';
import { Readable, type Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import { errorMessage, UnreachableError } from './errors.ts';
import { preferredHostKeyAlgorithms, type KnownHostsFile } from './known-hosts.ts';
import { BaseTransport, tempName, timedResult, type BecomeConfig, type RawRun } from './transport.ts';
import type { ExecResult, Host } from './types.ts';

export interface SshSettings {
  acceptNewHostKeys: boolean;
  /** --private-key: used when a host has no ansible_ssh_private_key_file. */
  privateKeyFile?: string;
  connectTimeoutMs: number;
  /** Connection attempts on network errors (never on auth failures or host-key refusals). */
  attempts: number;
}

export interface Endpoint {
  /** For messages: the inventory name, or "jump host bastion". */
  label: string;
  address: string;
  port: number;
  user: string;
  keyFile?: string;
  knownHosts: KnownHostsFile;
  /** A stream to the target (a forwardOut channel over the jump host's connection). */
  sock?: () => Promise<Duplex>;
}

export const expandHome = (p: string): string => (p.startsWith('~/') ? posix.join(homedir(), p.slice(2)) : p);

/** The key to offer: the host's, --private-key, else OpenSSH's default files (the agent is always tried). */
export function keyFor(host: Host, settings: SshSettings): string | undefined {
  const given = (host.vars.ansible_ssh_private_key_file as string | undefined) ?? settings.privateKeyFile;
  if (given) return expandHome(given);
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => posix.join(homedir(), '.ssh', f)).find(existsSync);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects, verifying the host key; retries with backoff on network errors only. */
export async function connectEndpoint(ep: Endpoint, settings: SshSettings): Promise<NodeSSH> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce(ep, settings);
    } catch (error) {
      const transient = error instanceof UnreachableError && error.transient;
      if (!transient || attempt >= settings.attempts) throw error;
      await sleep(500 * 2 ** (attempt - 1));
    }
  }
}

async function connectOnce(ep: Endpoint, settings: SshSettings): Promise<NodeSSH> {
  const where = `${ep.label} (${ep.user}@${ep.address}:${ep.port})`;
  if (ep.keyFile && !existsSync(ep.keyFile)) throw new UnreachableError(ep.label, `${where}: private key ${ep.keyFile} not found`);
  let refusal: string | null = null;
  let offered: Buffer | undefined;
  const ssh = new NodeSSH();
  try {
    const sock = ep.sock ? await ep.sock() : undefined;
    await ssh.connect({
      host: ep.address,
      port: ep.port,
      username: ep.user,
      privateKey: ep.keyFile ? readFileSync(ep.keyFile, 'utf8') : undefined,
      agent: process.env.SSH_AUTH_SOCK,
      sock: sock as never,
      readyTimeout: settings.connectTimeoutMs,
      keepaliveInterval: 5000,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: preferredHostKeyAlgorithms(ep.knownHosts.knownTypes(ep.address, ep.port)) as never },
      hostVerifier: (key: Buffer) => {
        refusal = ep.knownHosts.verify(ep.label, ep.address, ep.port, key, settings.acceptNewHostKeys);
        offered = key;
        return refusal === null;
      },
    });
    // Authenticated: the key exchange is complete and the server proved it holds the key. Only now may a new
    // key go into known_hosts.
    if (offered) ep.knownHosts.record(ep.address, ep.port, offered);
    return ssh;
  } catch (error) {
    ssh.dispose();
    if (error instanceof UnreachableError) throw error; // from the jump host
    if (refusal) throw new UnreachableError(ep.label, refusal);
    if ((error as { level?: string }).level === 'client-authentication') {
      const how = [ep.keyFile && `key ${ep.keyFile}`, process.env.SSH_AUTH_SOCK && 'ssh-agent'].filter(Boolean).join(', ') || 'no key and no ssh-agent';
      throw new UnreachableError(ep.label, `${where}: authentication failed (tried ${how})`);
    }
    throw new UnreachableError(ep.label, `${where}: cannot connect: ${errorMessage(error)}`, true);
  }
}

export class SshTransport extends BaseTransport {
  readonly kind = 'ssh' as const;
  private lost?: string;
  private sftp?: ReturnType<NodeSSH['requestSFTP']>;

  constructor(host: Host, become: BecomeConfig, private readonly ssh: NodeSSH) {
    super(host, become);
    // ssh2 emits 'error' after connect (keepalive timeout, reset): without a listener it would crash the run.
    ssh.connection?.on('error', (e) => (this.lost = errorMessage(e)));
    ssh.connection?.on('close', () => (this.lost ??= 'connection closed'));
  }

  private gone(): UnreachableError {
    return new UnreachableError(this.host.name, `connection to ${this.host.name} (${this.host.address}:${this.host.port}) lost: ${this.lost ?? 'closed'}`);
  }

  protected async runRaw(run: RawRun): Promise<ExecResult> {
    if (this.lost || !this.ssh.isConnected()) throw this.gone();
    let channel: { close(): void } | undefined;
    let stuck = false;
    // Backstop for a remote `timeout` that never answers (dead link): close the channel ourselves.
    const timer = setTimeout(() => ((stuck = true), channel?.close()), run.timeoutMs + 10_000);
    try {
      const r = await this.ssh.execCommand(run.command, {
        stdin: run.stdin === undefined ? undefined : typeof run.stdin === 'string' ? run.stdin : Readable.from([run.stdin]),
        noTrim: true,
        onChannel: (c) => (channel = c),
        onStdout: (b) => run.onOutput?.(b.toString(), 'stdout'),
        onStderr: (b) => run.onOutput?.(b.toString(), 'stderr'),
      });
      if (this.lost) throw this.gone();
      return timedResult(r.code, r.stdout, r.stderr, run.timeoutMs, stuck);
    } catch (error) {
      if (this.lost || !this.ssh.isConnected()) throw this.gone();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  protected async stage(source: { content: string | Buffer } | { localPath: string }, dir: string): Promise<{ path: string; removable: boolean }> {
    if (this.lost || !this.ssh.isConnected()) throw this.gone();
    const sftp = await (this.sftp ??= this.ssh.requestSFTP());
    const path = `${dir.replace(/\/$/, '')}/.${tempName()}.stage`;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(new Error(`upload to ${this.host.name}:${path} failed: ${err.message}`)) : resolve());
      if ('content' in source) sftp.writeFile(path, source.content, { mode: 0o600 }, done);
      else sftp.fastPut(source.localPath, path, { mode: 0o600 }, done);
    });
    return { path, removable: true };
  }

  async close(): Promise<void> {
    this.lost ??= 'closed by the runner';
    this.ssh.dispose();
  }
}
