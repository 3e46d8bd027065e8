import { describe, expect, it } from 'vitest';
import { helpText, parseCli } from '../../lib/args.ts';
import { jumpFromVars, parseJumpSpec } from '../../lib/jump.ts';
import { finalizeCommand, wrapCommand } from '../../lib/remote.ts';
import { timedResult } from '../../lib/transport.ts';

describe('command wrapping', () => {
  it('runs under sh -c with a timeout, through sudo when becoming root', () => {
    expect(wrapCommand("echo 'a b'", 'none', 120_000)).toBe(`timeout -k 5 120 sh -c 'echo '\\''a b'\\'''`);
    expect(wrapCommand('id -u', 'nopasswd', 1500)).toBe("sudo -n -- timeout -k 5 2 sh -c 'id -u'");
    expect(wrapCommand('id -u', 'password', 60_000)).toBe("sudo -k -S -p '' -- timeout -k 5 60 sh -c 'id -u'");
    // become_user: sudo -u, quoted; root needs no -u.
    expect(wrapCommand('id -u', 'nopasswd', 1500, 'deploy')).toBe("sudo -n -u deploy -- timeout -k 5 2 sh -c 'id -u'");
    expect(wrapCommand('id -u', 'password', 1500, "o'brien")).toBe("sudo -k -S -p '' -u 'o'\\''brien' -- timeout -k 5 2 sh -c 'id -u'");
    expect(wrapCommand('id -u', 'nopasswd', 1500, 'root')).toBe("sudo -n -- timeout -k 5 2 sh -c 'id -u'");
  });

  it('installs an upload atomically: temp beside the target, then rename, then cleanup', () => {
    expect(finalizeCommand({ stage: '/tmp/.s', dest: '/etc/my app/c.yaml', mode: 0o640, owner: 'root:etcd', removeStage: true }, 'gw-1')).toBe(
      "install -m 0640 -o root -g etcd -- /tmp/.s '/etc/my app/.c.yaml.gw-1' && mv -f -- '/etc/my app/.c.yaml.gw-1' '/etc/my app/c.yaml'; rc=$?; rm -f -- /tmp/.s '/etc/my app/.c.yaml.gw-1'; exit $rc",
    );
    expect(finalizeCommand({ stage: '/src/big.tgz', dest: '/opt/b.tgz', mode: 0o644, removeStage: false }, 'gw-2')).toBe(
      'install -m 0644 -- /src/big.tgz /opt/.b.tgz.gw-2 && mv -f -- /opt/.b.tgz.gw-2 /opt/b.tgz; rc=$?; rm -f -- /opt/.b.tgz.gw-2; exit $rc',
    );
  });

  it('reports a timeout (exit 124 of coreutils timeout) as code -1', () => {
    expect(timedResult(124, '', '', 5000)).toEqual({ code: -1, stdout: '', stderr: 'timed out after 5 s (killed)\n', ok: false });
    expect(timedResult(0, 'x', '', 5000)).toEqual({ code: 0, stdout: 'x', stderr: '', ok: true });
  });
});

describe('jump hosts', () => {
  it.each([
    ['bastion', { user: undefined, host: 'bastion', port: 22 }],
    ['ops@10.0.0.1:2200', { user: 'ops', host: '10.0.0.1', port: 2200 }],
    ['ssh://ops@[fe80::1]:22', { user: 'ops', host: 'fe80::1', port: 22 }],
  ])('parses %s', (spec, expected) => {
    expect(parseJumpSpec(spec)).toEqual(expected);
  });

  it('reads ssh_jump_host, -o ProxyJump, -J and ProxyCommand ssh -W', () => {
    expect(jumpFromVars({ ssh_jump_host: 'a@b:3' }, 'h')).toEqual({ user: 'a', host: 'b', port: 3 });
    expect(jumpFromVars({ ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o ProxyJump=ops@bastion:2222' }, 'h')).toEqual({ user: 'ops', host: 'bastion', port: 2222 });
    expect(jumpFromVars({ ansible_ssh_common_args: '-J jump' }, 'h')).toEqual({ user: undefined, host: 'jump', port: 22 });
    expect(jumpFromVars({ ansible_ssh_common_args: `-o ProxyCommand="ssh -W %h:%p -q -p 2201 ops@bastion"` }, 'h')).toEqual({ user: 'ops', host: 'bastion', port: 2201 });
    expect(jumpFromVars({ ansible_ssh_common_args: '-o ServerAliveInterval=5' }, 'h')).toBeUndefined();
  });

  it('rejects what it cannot honour', () => {
    expect(() => jumpFromVars({ ansible_ssh_common_args: '-o ProxyJump=a,b' }, 'h')).toThrow('only one jump host is supported');
    expect(() => jumpFromVars({ ansible_ssh_common_args: '-o ProxyCommand="nc %h %p"' }, 'h')).toThrow('use -o ProxyJump');
  });
});

describe('command line', () => {
  it('parses flags and the implied play word', () => {
    const o = parseCli(['play', 'site', '-i', 'inv.yaml', '-l', 'gateway', '-t', 'a,b', '-e', 'x=1', '-e', '@f.yaml', '-f', '3', '-C', '-D', '--accept-new-host-keys']);
    expect(o).toMatchObject({ playbook: 'site', inventories: ['inv.yaml'], limit: 'gateway', tags: ['a', 'b'], extraVars: ['x=1', '@f.yaml'], forks: 3, check: true, diff: true, acceptNewHostKeys: true });
  });

  it('takes -i again and again, in order (files and directories merged as Ansible merges them)', () => {
    expect(parseCli(['site', '-i', 'inventory/prod/', '-i', 'extra.ini']).inventories).toEqual(['inventory/prod/', 'extra.ini']);
    expect(parseCli(['site']).inventories).toEqual([]);
  });

  it.each([
    [['site', '--nope'], "Unknown option '--nope'"],
    [['site', '-f', '0'], '--forks 0: expected a positive whole number'],
    [['site', '--timeout', 'x'], '--timeout x: expected a positive whole number'],
    [['a', 'b'], 'one playbook at a time'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(message);
  });

  it('--help lists every flag and the exit codes', () => {
    const help = helpText();
    for (const flag of ['-i, --inventory', '-l, --limit', '-t, --tags', '--skip-tags', '-e, --extra-vars', '-f, --forks', '-C, --check', '-D, --diff', '-v, --verbose', '--json', '--list-hosts', '--list-tasks', '--known-hosts', '--accept-new-host-keys', '--private-key', '-u, --user', '--timeout', '--ask-become-pass', '--playbook-dir']) {
      expect(help).toContain(flag);
    }
    for (const code of [0, 1, 2, 3, 4]) expect(help).toMatch(new RegExp(`^  ${code}  `, 'm'));
  });
});
