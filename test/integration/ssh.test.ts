// The ssh transport against real sshd: host keys (unknown, changed, hashed), jump host, sudo, a host down.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { BECOME_PASSWORD, labInventory, labWorkspace, PASS_USER, startSshdLab, type SshdLab } from '../helpers/sshd.ts';

const PLAYBOOK = 'test/fixtures/playbooks/converge.ts';
let lab: SshdLab;

function workspace(inventoryOpts: Parameters<typeof labInventory>[1], vars: Record<string, unknown> = {}) {
  const ws = labWorkspace(lab, inventoryOpts);
  const args = [PLAYBOOK, '-i', ws.inventory, '-e', JSON.stringify({ target_dir: ws.target, ...vars }), '--runs-dir', ws.runs];
  return { ...ws, args };
}

beforeAll(async () => {
  // h13 logs at DEBUG1 so its log shows the tunnels it opens (the jump host proof).
  lab = await startSshdLab({ count: 5, first: 10, extraConfig: { h13: 'LogLevel DEBUG1' } });
});
afterAll(async () => {
  await lab?.stop();
});

describe('host keys', () => {
  it('refuses an unknown key, records it with --accept-new-host-keys, then knows it', async () => {
    const ws = workspace({ only: ['h10', 'h11'] });
    const known = join(ws.root, 'ssh', 'known_hosts'); // the directory does not exist yet either
    const refused = await runCli([...ws.args, '--known-hosts', known]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain(`host key for h10 (127.0.0.10:2222) is not in ${known}; verify it and rerun with --accept-new-host-keys`);
    expect(existsSync(join(ws.target, 'h10'))).toBe(false);

    const accepted = await runCli([...ws.args, '--known-hosts', known, '--accept-new-host-keys']);
    expect(accepted.code).toBe(0);
    const text = readFileSync(known, 'utf8');
    expect(text).toContain(`[127.0.0.10]:2222 ${lab.host('h10').publicKey}\n`);
    expect(text).toContain(`[127.0.0.11]:2222 ${lab.host('h11').publicKey}\n`);
    expect(statSync(known).mode & 0o777).toBe(0o600);

    const again = await runCli([...ws.args, '--known-hosts', known]);
    expect(again.code).toBe(0);
  });

  it('always refuses a changed key and says which file and line hold the old one', async () => {
    const ws = workspace({ only: ['h10'] });
    const known = join(ws.root, 'known_hosts');
    writeFileSync(known, `# test\n[127.0.0.10]:2222 ${lab.host('h11').publicKey}\n`);
    for (const extra of [[], ['--accept-new-host-keys']]) {
      const r = await runCli([...ws.args, '--known-hosts', known, ...extra]);
      expect(r.code).toBe(3);
      expect(r.stdout).toContain(`host key for h10 (127.0.0.10:2222) has CHANGED: ${known}:2 holds a different ssh-ed25519 key`);
    }
    expect(readFileSync(known, 'utf8').split('\n')).toHaveLength(3); // nothing appended
  });

  it('refuses, even with --accept-new-host-keys, a host known by a key of another type (a mismatch, as OpenSSH)', async () => {
    const ws = workspace({ only: ['h10'] });
    const other = join(ws.root, 'other_host_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', other]);
    const known = join(ws.root, 'known_hosts');
    const line = `[127.0.0.10]:2222 ${readFileSync(`${other}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')}\n`;
    writeFileSync(known, line);
    const r = await runCli([...ws.args, '--known-hosts', known, '--accept-new-host-keys']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`host key for h10 (127.0.0.10:2222) does not match: the host offers a ssh-ed25519 key, but ${known}:1 knows it by ecdsa-sha2-nistp256 only`);
    expect(readFileSync(known, 'utf8')).toBe(line); // nothing recorded
    expect(existsSync(join(ws.target, 'h10'))).toBe(false);
  });

  it('records a new key only after the connection authenticated: a refused login leaves known_hosts untouched', async () => {
    const ws = workspace({ only: ['h10'] });
    const stranger = join(ws.root, 'not_authorized');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const known = join(ws.root, 'known_hosts');
    const r = await runCli([...ws.args, '-e', `ansible_ssh_private_key_file=${stranger}`, '--known-hosts', known, '--accept-new-host-keys']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('authentication failed');
    expect(existsSync(known) ? readFileSync(known, 'utf8') : '').not.toContain('127.0.0.10');
    // With the right key the same flag records it.
    const ok = await runCli([...ws.args, '--known-hosts', known, '--accept-new-host-keys']);
    expect(ok.code).toBe(0);
    expect(readFileSync(known, 'utf8')).toBe(`[127.0.0.10]:2222 ${lab.host('h10').publicKey}\n`);
  });

  it('reads hashed known_hosts entries (ssh-keygen -H) and the ssh_known_hosts_file var', async () => {
    const ws = workspace({ only: ['h10', 'h11'], allVars: {} });
    const known = lab.writeKnownHosts(lab.hosts, join(ws.root, 'hashed_known_hosts'));
    execFileSync('ssh-keygen', ['-q', '-H', '-f', known]);
    expect(readFileSync(known, 'utf8')).toMatch(/^\|1\|/);
    const inv = join(ws.root, 'inventory.yaml');
    writeFileSync(inv, labInventory(lab, { only: ['h10', 'h11'], allVars: { ssh_known_hosts_file: known } }));
    const r = await runCli(ws.args);
    expect(r.stdout).toContain('PLAY RECAP');
    expect(r.code).toBe(0);
  });
});

describe('reaching hosts', () => {
  it('one host down: the others finish, exit code 3 names it', async () => {
    const ws = workspace({ only: ['h10', 'h11', 'h12'] });
    await lab.stopHost('h12');
    try {
      const r = await runCli([...ws.args, '--known-hosts', lab.knownHostsFile]);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/h12 UNREACHABLE in base: h12 \(gwtest@127\.0\.0\.12:2222\): cannot connect: .*ECONNREFUSED/);
      expect(r.stdout).toMatch(/h12 : ok=0 changed=0 unreachable=1 failed=0/);
      expect(readFileSync(join(ws.target, 'h10', 'greeting.txt'), 'utf8')).toBe('hello\n');
      expect(readFileSync(join(ws.target, 'h11', 'greeting.txt'), 'utf8')).toBe('hello\n');
    } finally {
      await lab.start(['h12']);
    }
  });

  it('does not retry an authentication failure and says so', async () => {
    const ws = workspace({ only: ['h10'] });
    const key = join(ws.root, 'stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    writeFileSync(join(ws.root, 'inventory.yaml'), labInventory(lab, { only: ['h10'], allVars: { ansible_ssh_private_key_file: key } }));
    // One client port per connection attempt that reached authentication.
    const attempts = () => new Set([...lab.log('h10').matchAll(/authenticating user gwtest [\d.]+ port (\d+)/g)].map((m) => m[1])).size;
    const before = attempts();
    const r = await runCli([...ws.args, '--known-hosts', lab.knownHostsFile]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`h10 (gwtest@127.0.0.10:2222): authentication failed (tried key ${key})`);
    expect(attempts() - before).toBe(1);
  });

  it('reaches a host through a jump host (ssh2 forwardOut), and not without it', async () => {
    const ws = workspace({ only: ['h14'], hostVars: { h14: { ansible_ssh_common_args: '-o ProxyJump=gwtest@127.0.0.13:2222' } } });
    const r = await runCli([...ws.args, '--known-hosts', lab.knownHostsFile]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(ws.target, 'h14', 'greeting.txt'), 'utf8')).toBe('hello\n');
    // The jump host's sshd opened the tunnel to the target.
    expect(lab.log('h13')).toMatch(/direct_tcpip: originator [\d.]+ port \d+, target 127\.0\.0\.14 port 2222/);
    await lab.stopHost('h13');
    try {
      const down = await runCli([...ws.args, '--known-hosts', lab.knownHostsFile]);
      expect(down.code).toBe(3);
      expect(down.stdout).toMatch(/h14 UNREACHABLE in base: jump host 127\.0\.0\.13 \(gwtest@127\.0\.0\.13:2222\): cannot connect/);
    } finally {
      await lab.start(['h13']);
    }
  });

  it('verifies the jump host key too', async () => {
    const ws = workspace({ only: ['h14'], hostVars: { h14: { ssh_jump_host: 'gwtest@127.0.0.13:2222' } } });
    const known = lab.writeKnownHosts([lab.host('h14')], join(ws.root, 'known_hosts'));
    const r = await runCli([...ws.args, '--known-hosts', known]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`host key for jump host 127.0.0.13 (127.0.0.13:2222) is not in ${known}`);
  });
});

describe('become (sudo)', () => {
  it('passwordless sudo writes a root-owned file', async () => {
    const ws = workspace({ only: ['h10'] }, { use_become: true });
    const r = await runCli([...ws.args, '--known-hosts', lab.knownHostsFile]);
    expect(r.code).toBe(0);
    expect(statSync(join(ws.target, 'h10', 'root.txt')).uid).toBe(0);
    expect(statSync(join(ws.target, 'h10', 'greeting.txt')).uid).not.toBe(0);
  });

  it('sudo with a password from the inventory (env lookup) or GW_BECOME_PASSWORD, never shown', async () => {
    const lookup = "{{ lookup('env', 'GW_TEST_SUDO') }}";
    const ws = workspace({ only: ['h11'], user: PASS_USER, allVars: { ansible_become_password: lookup } }, { use_become: true });
    const r = await runCli([...ws.args, '--known-hosts', lab.knownHostsFile, '-v'], { GW_TEST_SUDO: BECOME_PASSWORD });
    expect(r.code).toBe(0);
    expect(statSync(join(ws.target, 'h11', 'root.txt')).uid).toBe(0);
    expect(r.stdout + ws.logs()).not.toContain(BECOME_PASSWORD);
    expect(ws.logs()).toContain('root-owned file: changed');

    const ws2 = workspace({ only: ['h11'], user: PASS_USER }, { use_become: true });
    const r2 = await runCli([...ws2.args, '--known-hosts', lab.knownHostsFile, '-v'], { GW_BECOME_PASSWORD: BECOME_PASSWORD });
    expect(r2.code).toBe(0);
    expect(statSync(join(ws2.target, 'h11', 'root.txt')).uid).toBe(0);
    expect(r2.stdout + ws2.logs()).not.toContain(BECOME_PASSWORD);
  });

  it('without the password the step fails and says how to give one', async () => {
    const ws = workspace({ only: ['h11'], user: PASS_USER }, { use_become: true });
    const r = await runCli([...ws.args, '--known-hosts', lab.knownHostsFile]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('sudo on h11 needs a password: set ansible_become_password, GW_BECOME_PASSWORD or use --ask-become-pass');
  });
});
