// Ansible Vault: files and inline `!vault` values encrypted with ansible-vault (format 1.1 and 1.2 with vault
// ids), decrypted with the passwords the user gives, the way ansible does. The crypto is the ansible-vault
// package's; what is ours is where passwords come from and that every decrypted value is a secret.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { Vault } from 'ansible-vault';
import { InputError } from './errors.ts';

export const VAULT_HEADER = '$ANSIBLE_VAULT;';

export const isVaulted = (text: string): boolean => text.trimStart().startsWith(VAULT_HEADER);

export interface VaultPassword {
  /** The vault id (`--vault-id dev@file`); undefined for the default one. */
  id?: string;
  password: string;
  /** Where it came from, for messages (never the password). */
  source: string;
}

/** Decrypts with the passwords given, and remembers every plaintext so outputs can redact it. */
export class Keyring {
  /** Every decrypted value or file content, in the order revealed: all of it is secret. */
  readonly revealed: string[] = [];

  constructor(readonly passwords: readonly VaultPassword[] = []) {}

  /** `where` names the file (and line) for the message when no password opens it. */
  decrypt(vaulted: string, where: string): string {
    const text = vaulted.trim();
    const header = text.split(/\r?\n/, 1)[0];
    const [, version, cipher, id] = header.split(';');
    if (!/^1\.[12]$/.test(version ?? '') || cipher !== 'AES256') {
      throw new InputError(`${where}: unsupported vault format "${header}" (ansible-vault 1.1 or 1.2, AES256)`);
    }
    if (!this.passwords.length) {
      throw new InputError(`${where} is encrypted with ansible-vault: give --vault-password-file FILE, --vault-id [ID@]FILE, --ask-vault-pass, or ANSIBLE_VAULT_PASSWORD_FILE`);
    }
    // The password of the header's vault id first, then every other one (as ansible does by default).
    const ordered = [...this.passwords.filter((p) => id !== undefined && p.id === id), ...this.passwords.filter((p) => id === undefined || p.id !== id)];
    for (const p of ordered) {
      const plain = tryDecrypt(text, p.password);
      if (plain !== undefined) {
        this.revealed.push(plain);
        return plain;
      }
    }
    const tried = this.passwords.map((p) => p.source).join(', ');
    throw new InputError(`${where}: no vault password opens it${id ? ` (vault id ${id})` : ''}; tried ${tried}`);
  }

  /** Every scalar of data read from a vaulted file: each is as secret as the file. */
  revealLeaves(data: unknown): void {
    if (Array.isArray(data)) data.forEach((d) => this.revealLeaves(d));
    else if (data && typeof data === 'object') Object.values(data).forEach((d) => this.revealLeaves(d));
    else if (typeof data === 'string' || typeof data === 'number') this.revealed.push(String(data));
  }

  /** A file's text, decrypted when the whole file is vaulted. */
  readFile(file: string): string {
    const text = readFileSync(file, 'utf8');
    return isVaulted(text) ? this.decrypt(text, file) : text;
  }
}

function tryDecrypt(text: string, password: string): string | undefined {
  try {
    return new Vault({ password }).decryptSync(text, undefined);
  } catch {
    return undefined; // wrong password: the HMAC does not match
  }
}

export interface VaultOptions {
  /** --vault-password-file, in order. */
  passwordFiles: readonly string[];
  /** --vault-id [ID@]SOURCE: SOURCE is a file, an executable, or `prompt`. */
  ids: readonly string[];
  /** --ask-vault-pass: the prompt's answer. */
  asked?: string;
  /** ANSIBLE_VAULT_PASSWORD_FILE, as ansible reads it. */
  envFile?: string;
  prompt?: (question: string) => Promise<string>;
}

/**
 * The passwords from every source given. A password file holds the password; an executable one prints it
 * (ansible's contract for vault password scripts).
 */
export async function vaultPasswords(o: VaultOptions): Promise<VaultPassword[]> {
  const out: VaultPassword[] = [];
  if (o.asked !== undefined) out.push({ password: o.asked, source: '--ask-vault-pass' });
  for (const file of o.passwordFiles) out.push({ password: passwordFrom(file, '--vault-password-file'), source: file });
  for (const spec of o.ids) {
    const at = spec.indexOf('@');
    const id = at > 0 ? spec.slice(0, at) : undefined;
    const source = at > 0 ? spec.slice(at + 1) : spec;
    if (source === 'prompt') {
      if (!o.prompt) throw new InputError(`--vault-id ${spec}: no terminal to ask on`);
      out.push({ id, password: await o.prompt(`Vault password${id ? ` (${id})` : ''}: `), source: `--vault-id ${spec}` });
    } else {
      out.push({ id, password: passwordFrom(source, `--vault-id ${spec}`), source: `--vault-id ${spec}` });
    }
  }
  if (!out.length && o.envFile) out.push({ password: passwordFrom(o.envFile, 'ANSIBLE_VAULT_PASSWORD_FILE'), source: o.envFile });
  return out;
}

function passwordFrom(file: string, flag: string): string {
  if (!existsSync(file) || !statSync(file).isFile()) throw new InputError(`${flag} ${file}: no such file`);
  let text: string;
  if (isExecutable(file)) {
    try {
      text = execFileSync(file, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    } catch (e) {
      throw new InputError(`${flag} ${file}: the password script failed (${(e as Error).message.split('\n')[0]})`);
    }
  } else {
    text = readFileSync(file, 'utf8');
  }
  // As ansible reads them: a file's whole content stripped, a script's output without its line ending.
  const password = isExecutable(file) ? text.replace(/[\r\n]+$/, '') : text.trim();
  if (!password) throw new InputError(`${flag} ${file}: the password is empty`);
  return password;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
