// What ssh and local transports share: sudo handling, timeouts, CommandError, atomic put through a staged upload.
import { randomBytes } from 'node:crypto';
import { CommandError, type ExecOptions, type ExecResult, type Host, type PutOptions, type Transport } from './types.ts';
import { finalizeCommand, SUDO_PROBE, wrapCommand, wrapSu, type SudoMode } from './remote.ts';
import { asBool } from './vars.ts';

export interface RawRun {
  command: string;
  stdin?: string | Buffer;
  timeoutMs: number;
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

export interface BecomeConfig {
  /** Password for sudo or su (ansible_become_password, GW_BECOME_PASSWORD, --ask-become-pass). */
  password?: string;
  /** ansible_become_method: sudo (default) or su (the target user's password, typed at su's prompt). */
  method?: 'sudo' | 'su';
}

export const DEFAULT_TIMEOUT_MS = 120_000;
export const tempName = (): string => `gw-${randomBytes(6).toString('hex')}`;

export abstract class BaseTransport implements Transport {
  abstract readonly kind: 'ssh' | 'local';
  private sudoMode?: Promise<SudoMode>;

  constructor(
    readonly host: Host,
    protected readonly become: BecomeConfig,
  ) {}

  /** Runs one already-wrapped command line; resolves with its result, or code -1 on timeout. */
  protected abstract runRaw(run: RawRun): Promise<ExecResult>;
  /** Puts bytes (or a local file) somewhere the login user can write; returns that path. */
  protected abstract stage(source: { content: string | Buffer } | { localPath: string }, dir: string): Promise<{ path: string; removable: boolean }>;
  abstract close(): Promise<void>;

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const become = opts.become ?? asBool(this.host.vars.ansible_become);
    const timeoutMs = opts.timeoutMs ?? (Number(this.host.vars.command_timeout) * 1000 || DEFAULT_TIMEOUT_MS);
    if (become && this.become.method === 'su') return this.execSu(command, opts, timeoutMs);
    const sudo = become ? await this.sudo() : 'none';
    let stdin = opts.stdin;
    if (sudo === 'password') stdin = Buffer.concat([Buffer.from(`${this.become.password}\n`), Buffer.from(stdin ?? '')]);
    const result = await this.runRaw({ command: wrapCommand(command, sudo, timeoutMs, opts.becomeUser), stdin, timeoutMs, onOutput: opts.onOutput });
    if (sudo !== 'none' && result.code === 1 && /sudo: (a password is required|\d+ incorrect password)/.test(result.stderr)) {
      result.stderr += `\nsudo on ${this.host.name} needs a password: set ansible_become_password, GW_BECOME_PASSWORD or use --ask-become-pass`;
    }
    if (!result.ok && !opts.nothrow) throw new CommandError(this.host.name, command, result);
    return result;
  }

  /** su: the password goes first on stdin (su asks it on the terminal script(1) gives it), the command's stdin after. */
  private async execSu(command: string, opts: ExecOptions, timeoutMs: number): Promise<ExecResult> {
    const user = opts.becomeUser ?? 'root';
    if (this.become.password === undefined) {
      throw new CommandError(this.host.name, command, {
        code: 1, stdout: '', ok: false,
        stderr: `su to ${user} on ${this.host.name} needs that user's password: set ansible_become_password, GW_BECOME_PASSWORD or use --ask-become-pass`,
      });
    }
    const stdin = Buffer.concat([Buffer.from(`${this.become.password}\n`), Buffer.from(opts.stdin ?? '')]);
    const result = await this.runRaw({ command: wrapSu(command, timeoutMs, user), stdin, timeoutMs, onOutput: opts.onOutput });
    if (!result.ok && !opts.nothrow) throw new CommandError(this.host.name, command, result);
    return result;
  }

  /** Passwordless when the probe says so; with a password only when we have one. */
  private sudo(): Promise<SudoMode> {
    if (!this.become.password) return Promise.resolve('nopasswd');
    return (this.sudoMode ??= this.runRaw({ command: wrapCommand(SUDO_PROBE, 'none', 30_000), timeoutMs: 30_000 }).then((r) =>
      r.code === 0 ? 'nopasswd' : 'password',
    ));
  }

  async put(path: string, content: string | Buffer, opts: PutOptions = {}): Promise<void> {
    await this.install({ content }, path, opts);
  }

  async putFile(localPath: string, path: string, opts: PutOptions = {}): Promise<void> {
    await this.install({ localPath }, path, opts);
  }

  private async install(source: { content: string | Buffer } | { localPath: string }, dest: string, opts: PutOptions): Promise<void> {
    const become = opts.become ?? asBool(this.host.vars.ansible_become);
    // As root the staged copy sits in /tmp (owned by the login user, 0600); otherwise beside the target.
    const dir = become ? String(this.host.vars.remote_tmp ?? '/tmp') : dest.slice(0, Math.max(dest.lastIndexOf('/'), 1));
    const staged = await this.stage(source, dir);
    const command = finalizeCommand({ stage: staged.path, dest, mode: opts.mode ?? 0o644, owner: opts.owner, removeStage: staged.removable }, tempName());
    await this.exec(command, { become });
  }
}

/** Exit 124 is coreutils `timeout` saying it killed the command; report it as -1 like the contract says. */
export function timedResult(code: number | null, stdout: string, stderr: string, timeoutMs: number, stuck = false): ExecResult {
  const timedOut = stuck || code === 124;
  const c = timedOut ? -1 : code ?? -1;
  const note = timedOut ? `${stderr && !stderr.endsWith('\n') ? '\n' : ''}timed out after ${Math.round(timeoutMs / 1000)} s (killed)\n` : '';
  return { code: c, stdout, stderr: stderr + note, ok: c === 0 };
}
