import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobKeyType, checkHostKey, KnownHostsFile, knownHostName, parseKnownHosts, preferredHostKeyAlgorithms } from '../../lib/known-hosts.ts';

/** An SSH key blob: string type, then some key bytes. */
function blob(type: string, fill: number): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.alloc(32, fill)]);
}
const ed = blob('ssh-ed25519', 1);
const ed2 = blob('ssh-ed25519', 2);
const rsa = blob('ssh-rsa', 3);
const b64 = (b: Buffer) => b.toString('base64');
const hashed = (name: string, salt = Buffer.alloc(20, 7)) =>
  `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;

describe('known_hosts', () => {
  it('names non-22 ports as [host]:port', () => {
    expect(knownHostName('10.0.0.1', 22)).toBe('10.0.0.1');
    expect(knownHostName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('reads the key type from a blob', () => {
    expect(blobKeyType(ed)).toBe('ssh-ed25519');
  });

  it('parses comments, markers, and plain, listed and hashed names', () => {
    const entries = parseKnownHosts(`# comment\n\nlab1,10.77.0.11 ssh-ed25519 ${b64(ed)} me@x\n@revoked * ssh-rsa ${b64(rsa)}\n${hashed('[10.0.0.9]:2222')} ssh-ed25519 ${b64(ed)}\n`);
    expect(entries.map((e) => [e.line, e.marker, e.keyType])).toEqual([
      [3, undefined, 'ssh-ed25519'],
      [4, '@revoked', 'ssh-rsa'],
      [5, undefined, 'ssh-ed25519'],
    ]);
  });

  const text = [
    `10.77.0.11 ssh-ed25519 ${b64(ed)}`,
    `10.77.0.11 ssh-rsa ${b64(rsa)}`,
    `${hashed('[10.77.0.12]:2222')} ssh-ed25519 ${b64(ed)}`,
    `*.lab,!bad.lab ssh-ed25519 ${b64(ed)}`,
  ].join('\n');
  const entries = parseKnownHosts(text);

  it.each([
    ['a known key', '10.77.0.11', ed, 'match'],
    ['a second key type of the same host', '10.77.0.11', rsa, 'match'],
    ['a hashed [host]:port entry', '[10.77.0.12]:2222', ed, 'match'],
    ['a wildcard pattern', 'x.lab', ed, 'match'],
    ['a negated pattern', 'bad.lab', ed, 'unknown'],
    ['the same host on another port', '[10.77.0.11]:2222', ed, 'unknown'],
    ['a different key of a known type', '10.77.0.11', ed2, 'changed'],
    ['a different key behind a hashed name', '[10.77.0.12]:2222', ed2, 'changed'],
    ['a key of another type for a host known by ed25519 only', '[10.77.0.12]:2222', rsa, 'other-type'],
  ])('%s -> %s', (_, name, key, status) => {
    expect(checkHostKey(entries, name as string, key as Buffer).status).toBe(status);
  });

  it('says which line holds the old key, and refuses revoked keys', () => {
    expect(checkHostKey(entries, '[10.77.0.12]:2222', ed2)).toEqual({ status: 'changed', line: 3, keyType: 'ssh-ed25519' });
    const revoked = parseKnownHosts(`h ssh-ed25519 ${b64(ed)}\n@revoked * ssh-ed25519 ${b64(ed)}`);
    expect(checkHostKey(revoked, 'h', ed)).toMatchObject({ status: 'revoked', line: 2 });
  });

  it('prefers the key types already known for the host', () => {
    expect(preferredHostKeyAlgorithms(['ssh-rsa']).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(preferredHostKeyAlgorithms([])[0]).toBe('ssh-ed25519');
  });

  it('refuses unknown keys unless accepted, records them only when told (after authentication); never accepts a changed key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-kh-'));
    const file = join(dir, 'sub', 'known_hosts');
    const kh = new KnownHostsFile(file);
    expect(kh.verify('lab1', '10.77.0.11', 22, ed, false)).toBe(`host key for lab1 (10.77.0.11:22) is not in ${file}; verify it and rerun with --accept-new-host-keys`);
    expect(kh.verify('lab1', '10.77.0.11', 22, ed, true)).toBeNull();
    expect(kh.verify('lab2', '10.77.0.12', 2222, ed, true)).toBeNull();
    // Accepted, not yet written: the handshake alone proves nothing until the connection authenticated.
    expect(existsSync(file)).toBe(false);
    kh.record('10.77.0.11', 22, ed);
    kh.record('10.77.0.12', 2222, ed);
    kh.record('10.77.0.12', 2222, ed); // a second connection to the same host: written once
    expect(readFileSync(file, 'utf8')).toBe(`10.77.0.11 ssh-ed25519 ${b64(ed)}\n[10.77.0.12]:2222 ssh-ed25519 ${b64(ed)}\n`);
    expect(kh.verify('lab2', '10.77.0.12', 2222, ed2, true)).toMatch(new RegExp(`^host key for lab2 \\(10.77.0.12:2222\\) has CHANGED: ${file}:2 holds a different ssh-ed25519 key`));
    // A fresh reader sees what was recorded.
    expect(new KnownHostsFile(file).verify('lab1', '10.77.0.11', 22, ed, false)).toBeNull();
  });

  it('refuses, even with --accept-new-host-keys, a key of a new type for a host known by another type, as a mismatch', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-kh-')), 'known_hosts');
    writeFileSync(file, `# lab\n10.77.0.11 ssh-rsa ${b64(rsa)}\n`);
    const kh = new KnownHostsFile(file);
    const refusal = kh.verify('lab1', '10.77.0.11', 22, ed, true);
    expect(refusal).toMatch(/^host key for lab1 \(10\.77\.0\.11:22\) does not match: the host offers a ssh-ed25519 key, but .*known_hosts:2 knows it by ssh-rsa only/);
    kh.record('10.77.0.11', 22, ed); // even if asked: a mismatch is never written
    expect(readFileSync(file, 'utf8')).toBe(`# lab\n10.77.0.11 ssh-rsa ${b64(rsa)}\n`);
    // The same host on another port is another host to OpenSSH: new, accepted.
    expect(kh.verify('lab1', '10.77.0.11', 2222, ed, true)).toBeNull();
  });

  it('appends after a last line without a newline', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-kh-')), 'known_hosts');
    writeFileSync(file, `other ssh-rsa ${b64(rsa)}`);
    new KnownHostsFile(file).record('x', 22, ed);
    expect(readFileSync(file, 'utf8').split('\n')).toEqual([`other ssh-rsa ${b64(rsa)}`, `x ssh-ed25519 ${b64(ed)}`, '']);
  });
});
