import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { argv, quote, raw, sh } from '../../lib/shell.ts';

// Hostile values: each must come back from a real POSIX shell (dash) as exactly one, unchanged word.
const hostile = [
  '',
  'two words',
  "it's",
  'say "hi"',
  '$(touch /tmp/pwned)',
  '`id`',
  'a;b',
  'a|b',
  'a && b',
  'line1\nline2',
  'ünïcødé ✓',
  '-rf',
  '--help',
  '$HOME',
  '\\backslash\\',
  '*',
  '~',
  "'",
  '"',
  'tab\there',
];

describe('quote', () => {
  it.each(hostile)('round-trips %j through dash as one word', (value) => {
    const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${quote(value)}`]).toString();
    expect(out).toBe(`${value}\0`);
  });

  it('leaves plain words readable', () => {
    expect(quote('docker')).toBe('docker');
    expect(quote('/usr/local/etcd/etcd_data')).toBe('/usr/local/etcd/etcd_data');
    expect(quote('10.77.0.11:2379')).toBe('10.77.0.11:2379');
  });


  it('never emits bash-only $\'..\' quoting', () => {
    for (const value of hostile) expect(quote(value)).not.toMatch(/^\$'/);
  });
});

describe('sh', () => {
  it('quotes each interpolated value and keeps the literal parts', () => {
    expect(sh`docker inspect ${'my name'} >/dev/null`).toBe("docker inspect 'my name' >/dev/null");
  });

  it('spreads arrays as separate quoted words', () => {
    expect(sh`rm -f ${['a b', 'c']}`).toBe("rm -f 'a b' c");
  });

  it('passes raw fragments through', () => {
    expect(sh`echo ${'x'} ${raw('| wc -c')}`).toBe('echo x | wc -c');
  });

  it('runs nothing injected: a marker file is never created', () => {
    const marker = `/tmp/gw-quote-marker-${process.pid}`;
    const cmd = sh`echo ${`$(touch ${marker})`} ${`; touch ${marker}`} ${`\`touch ${marker}\``}`;
    execFileSync('/bin/sh', ['-c', cmd]);
    expect(() => execFileSync('test', ['-e', marker])).toThrow();
  });
});

describe('argv', () => {
  it('joins words quoted', () => {
    expect(argv(['etcdctl', '--endpoints', 'http://a:2379,http://b:2379', 'put', 'k', 'v w'])).toBe(
      "etcdctl --endpoints http://a:2379,http://b:2379 put k 'v w'",
    );
  });
});
