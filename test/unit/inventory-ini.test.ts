// The INI inventory reader: Ansible's syntax and quirks, and errors that name the file and line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../lib/inventory.ts';
import { hostPattern, parseIniInventory, shlexSplit } from '../../lib/inventory-ini.ts';
import { parsePythonLiteral } from '../../lib/python-literal.ts';

const fail = (m: string) => new Error(m);

describe('host patterns', () => {
  it.each([
    ['web[01:03]', ['web01', 'web02', 'web03'], undefined],
    ['10.0.0.[1:3]', ['10.0.0.1', '10.0.0.2', '10.0.0.3'], undefined],
    ['db-[a:c].x:2222', ['db-a.x', 'db-b.x', 'db-c.x'], 2222],
    ['n[0:6:3]', ['n0', 'n3', 'n6'], undefined],
    ['r[1:2]-[a:b]', ['r1-a', 'r1-b', 'r2-a', 'r2-b'], undefined],
    ['host.example:22', ['host.example'], 22],
    ['fe80::1', ['fe80::1'], undefined],
  ])('%s', (pattern, names, port) => {
    expect(hostPattern(pattern, fail)).toEqual({ names, port });
  });

  it.each([
    ['web[1]', /invalid host range/],
    ['web[3:1]', /is empty/],
    ['web[1:3:0]', /invalid step/],
    ['web[a:3]', /numbers or single letters/],
  ])('refuses %s', (pattern, message) => {
    expect(() => hostPattern(pattern, fail)).toThrow(message);
  });
});

describe('shlex split (host lines)', () => {
  it.each([
    [`h a=1 b='x y' c="q\\"z"`, ['h', 'a=1', 'b=x y', 'c=q"z']],
    ['h a=1 # a comment', ['h', 'a=1']],
    ['h pw=a#b', ['h', 'pw=a']],
    ['h a=x\\ y', ['h', 'a=x y']],
  ])('%s', (line, tokens) => {
    expect(shlexSplit(line, () => fail('unterminated'))).toEqual(tokens);
  });
});

describe('values as Python literals (what Ansible does)', () => {
  it.each([
    ['1', 1],
    ['-2.5', -2.5],
    ['True', true],
    ['None', null],
    ['true', 'true'],
    ['yes', 'yes'],
    ['0755', '0755'],
    ['2.13.2304', '2.13.2304'],
    ["'quoted'", 'quoted'],
    ['[1, "a", (2, 3)]', [1, 'a', [2, 3]]],
    ["{'k': [1], 'n': None}", { k: [1], n: null }],
    ['10.0.0.1', '10.0.0.1'],
    ['a b', 'a b'],
    ['', ''],
  ])('%s', (text, value) => {
    expect(parsePythonLiteral(text)).toEqual(value);
  });
});

describe('INI inventory errors name the file and line', () => {
  const file = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-ini-'));
    writeFileSync(join(dir, 'hosts'), text);
    return join(dir, 'hosts');
  };
  it.each([
    ['[etcd]\nlab1\n[etcd:wat]\n', /hosts:3: invalid section "\[etcd:wat\]"/],
    ['[etcd]\nlab1 port\n', /hosts:2: expected key=value host variable assignment, got "port"/],
    ['[etcd:vars]\njust-a-word\n', /hosts:2: expected key=value in \[etcd:vars\]/],
    ['[etcd]\nlab1 a="open\n', /hosts:2: unterminated quote/],
    ['[etcd]\nweb[1]\n', /hosts:2: invalid host range/],
    ['[etcd:children]\nall\n', /hosts:2: "all" cannot be a child group/],
    ['\n[etcd]\nlab1 ansible_port=99999\n', /hosts:3 at all\.children\.etcd\.hosts\.lab1\.ansible_port: /],
  ])('%j', (text, message) => {
    expect(() => loadInventory(file(text))).toThrow(message);
  });

  it('a YAML inventory saved without an extension is read as YAML', () => {
    const inv = loadInventory(file('# lab\nall:\n  hosts:\n    lab1:\n      ansible_port: 2200\n'));
    expect(inv.hosts.get('lab1')?.port).toBe(2200);
  });

  it('reports where a group, host and variable were written', () => {
    const ini = parseIniInventory('hosts', '[etcd]\nlab1 a=1\n\n[etcd:vars]\nb=2\n');
    expect(ini.lineOf(['all', 'children', 'etcd', 'hosts', 'lab1', 'a'])).toBe(2);
    expect(ini.lineOf(['all', 'children', 'etcd', 'vars', 'b'])).toBe(5);
    expect(ini.lineOf(['all', 'children', 'etcd'])).toBe(1);
  });
});
