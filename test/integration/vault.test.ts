// Secrets kept with ansible-vault are read as they are: inline `!vault` values and whole files, made by the
// real `ansible-vault` (Debian's ansible-core), formats 1.1 and 1.2 (vault ids), passwords from a file, a
// script or ANSIBLE_VAULT_PASSWORD_FILE; a missing or wrong password is bad input naming the file.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../lib/inventory.ts';
import { Keyring, vaultPasswords } from '../../lib/vault.ts';

const root = join(import.meta.dirname, '../..');
const SECRET = 'etcd-Root:pw/#1';
const DEV_SECRET = 'console-Dev-pw-42';
let dir: string;

function vault(args: string[]): string {
  return execFileSync('ansible-vault', args, { encoding: 'utf8', cwd: dir, env: { ...process.env, ANSIBLE_NOCOLOR: '1' } });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-vault-'));
  writeFileSync(join(dir, 'pw'), 'default-vault-pw\n', { mode: 0o600 });
  writeFileSync(join(dir, 'pw-dev'), 'dev-vault-pw\n', { mode: 0o600 });
  writeFileSync(join(dir, 'pw-script'), '#!/bin/sh\necho default-vault-pw\n', { mode: 0o700 });
  mkdirSync(join(dir, 'inv/group_vars'), { recursive: true });
  mkdirSync(join(dir, 'inv/host_vars'), { recursive: true });
  // The inventory itself, INI, vaulted whole (1.1, default id).
  writeFileSync(join(dir, 'inv/hosts'), '[etcd]\nlab1 ansible_host=10.0.0.11\nlab2 ansible_host=10.0.0.12\n');
  vault(['encrypt', '--vault-password-file', 'pw', 'inv/hosts']);
  // An inline value (1.1) in a plain group_vars file.
  const inline = vault(['encrypt_string', '--vault-password-file', 'pw', SECRET, '--name', 'etcd_root_password']);
  writeFileSync(join(dir, 'inv/group_vars/all.yml'), `etcd_auth_enabled: true\n${inline}`);
  // A whole host_vars file under vault id dev (1.2).
  writeFileSync(join(dir, 'inv/host_vars/lab2.yml'), `dashboard_admin_password: ${DEV_SECRET}\n`);
  vault(['encrypt', '--vault-id', 'dev@pw-dev', 'inv/host_vars/lab2.yml']);
});

const keyring = async (o: Partial<Parameters<typeof vaultPasswords>[0]>) =>
  new Keyring(await vaultPasswords({ passwordFiles: [], ids: [], ...o }));

describe('ansible-vault', () => {
  it('the files really are encrypted, in both formats', () => {
    expect(readFileSync(join(dir, 'inv/hosts'), 'utf8')).toMatch(/^\$ANSIBLE_VAULT;1\.1;AES256\n/);
    expect(readFileSync(join(dir, 'inv/host_vars/lab2.yml'), 'utf8')).toMatch(/^\$ANSIBLE_VAULT;1\.2;AES256;dev\n/);
    expect(readFileSync(join(dir, 'inv/group_vars/all.yml'), 'utf8')).toContain('!vault |');
  });

  it('decrypts the vaulted inventory, inline values and a vault-id file; every plaintext is a secret', async () => {
    const k = await keyring({ passwordFiles: [join(dir, 'pw')], ids: [`dev@${join(dir, 'pw-dev')}`] });
    const inv = loadInventory(join(dir, 'inv'), { keyring: k });
    expect([...inv.hosts.keys()]).toEqual(['lab1', 'lab2']);
    expect(inv.hosts.get('lab1')!.vars).toMatchObject({ etcd_root_password: SECRET, etcd_auth_enabled: true, ansible_host: '10.0.0.11' });
    expect(inv.hosts.get('lab2')!.vars.dashboard_admin_password).toBe(DEV_SECRET);
    expect(k.revealed).toEqual(expect.arrayContaining([SECRET, DEV_SECRET, '10.0.0.11']));
  });

  it('takes the password from an executable script and from ANSIBLE_VAULT_PASSWORD_FILE', async () => {
    const fromScript = await keyring({ passwordFiles: [join(dir, 'pw-script')], ids: [`dev@${join(dir, 'pw-dev')}`] });
    expect(loadInventory(join(dir, 'inv'), { keyring: fromScript }).hosts.get('lab1')!.vars.etcd_root_password).toBe(SECRET);
    const fromEnv = await keyring({ envFile: join(dir, 'pw') });
    expect(fromEnv.decrypt(readFileSync(join(dir, 'inv/hosts'), 'utf8'), 'hosts')).toContain('[etcd]');
  });

  it('without a password, or with a wrong one, says which file (and line) it cannot open', async () => {
    expect(() => loadInventory(join(dir, 'inv'))).toThrow(/inv\/hosts is encrypted with ansible-vault: give --vault-password-file/);
    const wrong = join(dir, 'pw-wrong');
    writeFileSync(wrong, 'nope\n');
    expect(() => loadInventory(join(dir, 'inv'), { keyring: new Keyring([{ password: 'nope', source: wrong }]) })).toThrow(/inv\/hosts: no vault password opens it; tried .*pw-wrong/);
    // The default password opens the inventory and the inline value, not the dev file.
    const onlyDefault = await keyring({ passwordFiles: [join(dir, 'pw')] });
    expect(() => loadInventory(join(dir, 'inv'), { keyring: onlyDefault })).toThrow(/host_vars\/lab2\.yml: no vault password opens it \(vault id dev\)/);
  });

  it('an inline value it cannot open names the file and line', async () => {
    const plain = join(dir, 'plain');
    mkdirSync(join(plain, 'group_vars'), { recursive: true });
    writeFileSync(join(plain, 'hosts.yaml'), 'all:\n  hosts:\n    lab1:\n');
    writeFileSync(join(plain, 'group_vars/all.yml'), readFileSync(join(dir, 'inv/group_vars/all.yml')));
    expect(() => loadInventory(join(plain, 'hosts.yaml'))).toThrow(/group_vars\/all\.yml:2:\d+: .*a !vault value is encrypted with ansible-vault/);
  });

  it('the CLI: --vault-password-file and --vault-id open it; without them exit 4 naming the file', () => {
    const cli = (...args: string[]) => spawnSync('npx', ['tsx', 'lib/cli.ts', 'converge', '--playbook-dir', 'test/fixtures/playbooks', '-i', join(dir, 'inv'), '--list-hosts', ...args], { cwd: root, encoding: 'utf8' });
    const ok = cli('--vault-password-file', join(dir, 'pw'), '--vault-id', `dev@${join(dir, 'pw-dev')}`);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('lab1');
    expect(ok.stdout).not.toContain(SECRET);
    const none = cli();
    expect(none.status).toBe(4);
    expect(none.stderr).toMatch(/inv\/hosts is encrypted with ansible-vault/);
  });
});
