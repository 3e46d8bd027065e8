import { describe, expect, it } from 'vitest';
import { isSecretName, MASK, Redactor } from '../../lib/redact.ts';

describe('redaction', () => {
  it.each([
    ['ansible_become_password', true],
    ['etcd_root_password', true],
    ['api_token', true],
    ['client_secret', true],
    ['tls_private_key', true],
    ['ansible_ssh_private_key_file', false], // a path, not the key
    ['etcd_data_dir', false],
    ['dashboard_port', false],
  ])('%s is secret: %s', (name, secret) => {
    expect(isSecretName(name)).toBe(secret);
  });

  it('masks values of secret-named vars at any depth, everywhere in text', () => {
    const r = new Redactor();
    r.addFromVars({ etcd: { root_password: 'hunter22' }, list: [{ api_token: 'tok-abc' }], port: 2379, name: 'lab1' });
    expect(r.redact('login root:hunter22 with tok-abc on lab1:2379')).toBe(`login root:${MASK} with ${MASK} on lab1:2379`);
  });

  it('masks registered values, longest first, and each line of a multi-line secret', () => {
    const r = new Redactor();
    r.add('abc');
    r.add('abcdef');
    r.add('-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----');
    expect(r.redact('x abcdef y abc')).toBe(`x ${MASK} y ${MASK}`);
    expect(r.redact('line: MIIEvQIBADANBg')).toBe(`line: ${MASK}`);
  });

  it('redacts deep copies of events without touching the original', () => {
    const r = new Redactor();
    r.add('s3cret');
    const event = { type: 'command', stdout: 'pw=s3cret', nested: [{ x: 's3cret' }], code: 0 };
    expect(r.redactDeep(event)).toEqual({ type: 'command', stdout: `pw=${MASK}`, nested: [{ x: MASK }], code: 0 });
    expect(event.stdout).toBe('pw=s3cret');
  });

  it('ignores empty and too-short values (they would blank out unrelated text)', () => {
    const r = new Redactor();
    r.add('');
    r.add('a');
    r.add(undefined);
    expect(r.redact('a b c')).toBe('a b c');
  });
});
