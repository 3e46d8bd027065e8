// OpenSSH known_hosts: plain and hashed (|1|salt|hash) names, [host]:port for non-22 ports, several key
// types per host, @revoked. Unknown keys are refused unless accepted; a changed key is always refused, and so
// is a key of a new type for a host already known by another type (OpenSSH's rule). An accepted new key is
// written only once the connection authenticated (record), never on the handshake's word alone.
import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { globToRegExp } from './glob.ts';

export interface KnownHostEntry {
  line: number;
  marker?: '@revoked' | '@cert-authority';
  hosts: string;
  keyType: string;
  key: string; // base64 blob
}

export type HostKeyCheck =
  | { status: 'match' }
  | { status: 'unknown' }
  | { status: 'changed' | 'revoked'; line: number; keyType: string }
  /** The host is known, by keys of other types only: a mismatch, not a new host. */
  | { status: 'other-type'; line: number; keyType: string; knownTypes: string[] };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) return;
    const marker = fields[0].startsWith('@') ? (fields.shift() as KnownHostEntry['marker']) : undefined;
    const [hosts, keyType, key] = fields;
    if (hosts && keyType && key) out.push({ line: i + 1, marker, hosts, keyType, key });
  });
  return out;
}

/** The name OpenSSH looks up: `host`, or `[host]:port` when the port is not 22. */
export const knownHostName = (host: string, port: number): string => (port === 22 ? host : `[${host}]:${port}`);

// OpenSSH compares host names case-insensitively.
const glob = (pattern: string, name: string): boolean => globToRegExp(pattern, 'i').test(name);

export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hosts.startsWith('|1|')) {
    const [, , salt, hash] = entry.hosts.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of entry.hosts.split(',')) {
    if (pattern.startsWith('!')) {
      if (glob(pattern.slice(1), name)) return false;
    } else if (glob(pattern, name)) matched = true;
  }
  return matched;
}

/** The key type inside an SSH public key blob (first length-prefixed string). */
export function blobKeyType(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}

export function checkHostKey(entries: KnownHostEntry[], name: string, blob: Buffer): HostKeyCheck {
  const keyType = blobKeyType(blob);
  const key = blob.toString('base64');
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && entryMatches(e, name));
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key === key);
  if (revoked) return { status: 'revoked', line: revoked.line, keyType };
  if (mine.some((e) => e.keyType === keyType && e.key === key)) return { status: 'match' };
  const other = mine.find((e) => e.keyType === keyType);
  if (other) return { status: 'changed', line: other.line, keyType };
  const known = mine.filter((e) => !e.marker);
  if (known.length) return { status: 'other-type', line: known[0].line, keyType, knownTypes: [...new Set(known.map((e) => e.keyType))] };
  return { status: 'unknown' };
}

/** Host key algorithms ssh2 should prefer, so a host is asked for a key type we already know. */
export function preferredHostKeyAlgorithms(knownTypes: string[]): string[] {
  const all = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  const algos = (type: string) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type]);
  const first = knownTypes.flatMap(algos).filter((a) => all.includes(a));
  return [...new Set([...first, ...all])];
}

/** One known_hosts file for the whole run (shared by every connection, jump hosts included). */
export class KnownHostsFile {
  private entries: KnownHostEntry[];

  constructor(readonly file: string) {
    this.entries = existsSync(file) ? parseKnownHosts(readFileSync(file, 'utf8')) : [];
  }

  knownTypes(host: string, port: number): string[] {
    const name = knownHostName(host, port);
    return this.entries.filter((e) => !e.marker && entryMatches(e, name)).map((e) => e.keyType);
  }

  /**
   * null when the key is accepted, else the message saying why it was refused. Accepting a new key writes
   * nothing: the caller records it (record) once the connection authenticated.
   */
  verify(label: string, host: string, port: number, blob: Buffer, acceptNew: boolean): string | null {
    const name = knownHostName(host, port);
    const check = checkHostKey(this.entries, name, blob);
    const who = `host key for ${label} (${host}:${port})`;
    switch (check.status) {
      case 'match':
        return null;
      case 'revoked':
        return `${who} is marked @revoked in ${this.file}:${check.line}; refusing to connect`;
      case 'changed':
        return `${who} has CHANGED: ${this.file}:${check.line} holds a different ${check.keyType} key. ` +
          `This may be an attack; if the host was rebuilt, remove that line (ssh-keygen -R '${name}' -f ${this.file}) and rerun`;
      case 'other-type':
        return `${who} does not match: the host offers a ${check.keyType} key, but ${this.file}:${check.line} knows it by ` +
          `${check.knownTypes.join(', ')} only (not accepted even with --accept-new-host-keys, as OpenSSH does). ` +
          `This may be an attack; if the host's keys really changed, remove its lines (ssh-keygen -R '${name}' -f ${this.file}) and rerun`;
      case 'unknown':
        return acceptNew ? null : `${who} is not in ${this.file}; verify it and rerun with --accept-new-host-keys`;
    }
  }

  /** After the connection authenticated: writes a key verify() accepted as new (a known one is left alone). */
  record(host: string, port: number, blob: Buffer): void {
    const name = knownHostName(host, port);
    if (checkHostKey(this.entries, name, blob).status !== 'unknown') return;
    this.append(name, blob);
  }

  private append(name: string, blob: Buffer): void {
    const line = `${name} ${blobKeyType(blob)} ${blob.toString('base64')}\n`;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const text = existsSync(this.file) ? readFileSync(this.file, 'utf8') : '';
    appendFileSync(this.file, (text && !text.endsWith('\n') ? '\n' : '') + line, { mode: 0o600 });
    const lineNo = text.split('\n').length + (text && !text.endsWith('\n') ? 1 : 0);
    this.entries.push(...parseKnownHosts(line).map((e) => ({ ...e, line: lineNo })));
  }
}
