// One connection per host per run (and one per jump host), opened on first use, all closed at the end.
import type { NodeSSH } from 'node-ssh';
import type { Duplex } from 'node:stream';
import { UnreachableError, errorMessage } from './errors.ts';
import { jumpFromVars, type JumpSpec } from './jump.ts';
import { LocalTransport } from './local.ts';
import { isLocal } from './patterns.ts';
import { KnownHostsFile } from './known-hosts.ts';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { connectEndpoint, expandHome, keyFor, SshTransport, type SshSettings } from './ssh.ts';
import type { Host, Transport } from './types.ts';

export interface ConnectionSettings extends SshSettings {
  /** --known-hosts; else the host's ssh_known_hosts_file; else ~/.ssh/known_hosts. */
  knownHostsFile?: string;
  /** Become password from --ask-become-pass or GW_BECOME_PASSWORD (ansible_become_password wins). */
  becomePassword?: string;
}

export type TransportFactory = (host: Host) => Promise<Transport>;

export class Connections {
  private transports = new Map<string, Promise<Transport>>();
  private jumps = new Map<string, Promise<NodeSSH>>();
  private knownHostsFiles = new Map<string, KnownHostsFile>();

  constructor(private readonly settings: ConnectionSettings) {}

  get: TransportFactory = (host) => {
    let t = this.transports.get(host.name);
    if (!t) this.transports.set(host.name, (t = this.open(host)));
    return t;
  };

  private async open(host: Host): Promise<Transport> {
    const password = (host.vars.ansible_become_password as string | undefined) || this.settings.becomePassword;
    const become = { password, method: host.vars.ansible_become_method === 'su' ? ('su' as const) : ('sudo' as const) };
    if (isLocal(host)) return new LocalTransport(host, become);
    const jump = jumpFromVars(host.vars, host.name);
    const keyFile = keyFor(host, this.settings);
    const knownHosts = this.knownHostsFor(host);
    const ssh = await connectEndpoint(
      {
        label: host.name,
        address: host.address,
        port: host.port,
        user: host.user,
        keyFile,
        knownHosts,
        sock: jump && (() => this.tunnel(jump, host, keyFile, knownHosts)),
      },
      this.settings,
    );
    return new SshTransport(host, become, ssh);
  }

  /** One KnownHostsFile per file for the run, so a key accepted for one host is seen by the others. */
  private knownHostsFor(host: Host): KnownHostsFile {
    const given = this.settings.knownHostsFile ?? (host.vars.ssh_known_hosts_file as string | undefined);
    const file = given ? expandHome(given) : join(homedir(), '.ssh', 'known_hosts');
    let k = this.knownHostsFiles.get(file);
    if (!k) this.knownHostsFiles.set(file, (k = new KnownHostsFile(file)));
    return k;
  }

  /** A channel to the host through the jump host's connection (ssh2 forwardOut). */
  private async tunnel(spec: JumpSpec, host: Host, keyFile: string | undefined, knownHosts: KnownHostsFile): Promise<Duplex> {
    const user = spec.user ?? host.user;
    const key = `${user}@${spec.host}:${spec.port}`;
    let jump = this.jumps.get(key);
    if (!jump) {
      jump = connectEndpoint({ label: `jump host ${spec.host}`, address: spec.host, port: spec.port, user, keyFile, knownHosts }, this.settings);
      this.jumps.set(key, jump);
    }
    const client = (await jump).connection;
    if (!client) throw new UnreachableError(host.name, `jump host ${key} connection lost`);
    return new Promise((resolve, reject) =>
      client.forwardOut('127.0.0.1', 0, host.address, host.port, (err, channel) =>
        err
          ? reject(new UnreachableError(host.name, `${host.name} (${host.address}:${host.port}) via jump host ${key}: ${errorMessage(err)}`, true))
          : resolve(channel),
      ),
    );
  }

  async closeAll(): Promise<void> {
    const all = [...this.transports.values()].map((t) => t.then((x) => x.close(), () => undefined));
    await Promise.all(all);
    await Promise.all([...this.jumps.values()].map((j) => j.then((s) => s.dispose(), () => undefined)));
    this.transports.clear();
    this.jumps.clear();
  }
}
