// Which bastion a host is reached through: `ssh_jump_host: user@host:port`, or Ansible's
// `ansible_ssh_common_args: '-o ProxyJump=user@bastion:port'` (also `-J …` and the classic
// `-o ProxyCommand="ssh -W %h:%p -q user@bastion"`).
import { InputError } from './errors.ts';
import type { Vars } from './types.ts';

export interface JumpSpec {
  user?: string;
  host: string;
  port: number;
}

export function parseJumpSpec(spec: string, where = 'jump host'): JumpSpec {
  if (spec.includes(',')) throw new InputError(`${where} "${spec}": only one jump host is supported`);
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:\s@]+)(?::(\d+))?$/.exec(spec.replace(/^ssh:\/\//, ''));
  if (!m) throw new InputError(`${where} "${spec}": expected [user@]host[:port]`);
  const port = m[3] ? Number(m[3]) : 22;
  if (port < 1 || port > 65535) throw new InputError(`${where} "${spec}": bad port`);
  return { user: m[1], host: m[2].replace(/^\[|\]$/g, ''), port };
}

/** Split a command line the way a shell would for plain quotes (enough for ssh option strings). */
function words(line: string): string[] {
  return [...line.matchAll(/(?:"[^"]*"|'[^']*'|[^\s"']+)+/g)].map((m) => m[0].replace(/"([^"]*)"|'([^']*)'/g, '$1$2'));
}

export function jumpFromVars(vars: Vars, hostName: string): JumpSpec | undefined {
  if (typeof vars.ssh_jump_host === 'string') return parseJumpSpec(vars.ssh_jump_host, `${hostName}: ssh_jump_host`);
  const args = vars.ansible_ssh_common_args;
  if (typeof args !== 'string' || !args.trim()) return undefined;
  const where = `${hostName}: ansible_ssh_common_args`;
  const w = words(args);
  for (let i = 0; i < w.length; i++) {
    const opt = w[i] === '-o' ? w[i + 1] ?? '' : w[i].startsWith('-o') ? w[i].slice(2) : '';
    if (w[i] === '-J' && w[i + 1]) return parseJumpSpec(w[i + 1], where);
    const [key, ...rest] = opt.split('=');
    const value = rest.join('=').trim();
    if (/^proxyjump$/i.test(key)) return parseJumpSpec(value, where);
    if (/^proxycommand$/i.test(key)) return fromProxyCommand(value, where);
  }
  return undefined;
}

function fromProxyCommand(command: string, where: string): JumpSpec {
  const w = words(command);
  if (w[0] !== 'ssh' || !w.includes('-W')) {
    throw new InputError(`${where}: ProxyCommand "${command}" is not supported; use -o ProxyJump=user@host:port`);
  }
  let port: number | undefined;
  let target: string | undefined;
  for (let i = 1; i < w.length; i++) {
    if (w[i] === '-W' || w[i] === '-i' || w[i] === '-o') i++;
    else if (w[i] === '-p') port = Number(w[++i]);
    else if (!w[i].startsWith('-')) target = w[i];
  }
  if (!target) throw new InputError(`${where}: no host in ProxyCommand "${command}"`);
  const spec = parseJumpSpec(target, where);
  return port ? { ...spec, port } : spec;
}
