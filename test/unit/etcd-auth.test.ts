// etcd root password rotation: the stored password is read from the host's env file, etcd is asked which of
// the two passwords it holds, and `user passwd` runs (new password on stdin) only when the stored one still
// works. An unreadable file or an etcd that answers neither way changes nothing.
import { describe, expect, it } from 'vitest';
import { FactCache } from '../../lib/facts.ts';
import { readFileCommand } from '../../lib/files.ts';
import { makeContext } from '../../lib/context.ts';
import { makePlayShared } from '../../lib/play-shared.ts';
import { Redactor } from '../../lib/redact.ts';
import type { StepContext } from '../../lib/types.ts';
import type { RunEvent } from '../../lib/events.ts';
import { AUTH_OFF_WARNING, authChanges, parseCredentialsFile, probeOutcome, rotationAction, rotationChanges } from '../../roles/etcd/auth.ts';
import { FakeTransport, fakeInventory, type Responder } from '../helpers/fake-transport.ts';
import { applyChange } from '../../lib/change.ts';

const OLD = 'old:pw/1';
const NEW = 'new:pw#2';
const ENV = '/usr/local/etcd/etcdctl.env';
const vars = { etcd_data_dir: '/usr/local/etcd/etcd_data', etcd_auth_enabled: true, etcd_root_password: NEW };
const inventory = fakeInventory({ etcd: ['e1', 'e2', 'e3'] }, { e1: { ansible_host: '10.0.0.1' }, e2: { ansible_host: '10.0.0.2' }, e3: { ansible_host: '10.0.0.3' } });

/** etcd as the script says: which password it holds (or auth off), what the env file holds. */
function lab(opts: { etcdHas: string | 'auth-off'; file?: string | 'unreadable'; passwdFails?: boolean; vars?: Record<string, unknown> }) {
  let etcdHas = opts.etcdHas;
  const files = new Map<string, string>();
  const respond: Responder = (cmd) => {
    if (cmd.startsWith('if [ -f')) {
      if (opts.file === 'unreadable') return { code: 1, stderr: 'sudo: a password is required' };
      return { stdout: opts.file === undefined ? 'missing\n' : `600 root root\nETCDCTL_USER=root:${opts.file}\n` };
    }
    const file = /--env-file (\S+)/.exec(cmd)?.[1].replace(/'/g, '');
    const given = file === `${ENV}.next` ? parseCredentialsFile(files.get(file) ?? '') : file === ENV ? opts.file : undefined;
    if (/ user passwd root /.test(cmd)) {
      if (opts.passwdFails || given !== etcdHas) return { code: 1, stderr: 'etcdserver: authentication failed, invalid user ID or password' };
      return undefined; // the new password comes on stdin; see passwdTo below
    }
    if (/ user list$/.test(cmd) && !file) {
      return etcdHas === 'auth-off' ? { stdout: 'root\n' } : { code: 1, stderr: 'Error: etcdserver: user name is empty' };
    }
    if (/ user get root$/.test(cmd)) {
      if (etcdHas === 'auth-off') return { code: 1, stderr: 'etcdserver: authentication is not enabled' };
      return given === etcdHas ? { stdout: 'User: root\nRoles: root\n' } : { code: 1, stderr: 'etcdserver: authentication failed, invalid user ID or password' };
    }
    return undefined;
  };
  const t = new FakeTransport('e1', respond);
  const realPut = t.put.bind(t);
  t.put = async (path, content, o) => {
    files.set(path, String(content));
    return realPut(path, content, o);
  };
  const realExec = t.exec.bind(t);
  t.exec = async (cmd, o) => {
    const r = await realExec(cmd, o);
    if (r.ok && / user passwd root /.test(cmd)) etcdHas = String(o?.stdin).trim();
    return r;
  };
  const redactor = new Redactor();
  const events: RunEvent[] = [];
  const ctx: StepContext = makeContext(
    inventory.hosts.get('e1')!,
    { play: 'etcd', step: 'etcd root password (rotation)', origin: 'e1', shared: makePlayShared([...inventory.hosts.values()]), defaults: { ...vars, ...opts.vars }, resolveHost: (n) => inventory.hosts.get(n)! },
    { inventory, facts: new FactCache(), transports: async () => t, redactor, emit: (e) => void events.push(e), check: false, verbose: false },
  );
  return { ctx, t, etcd: () => etcdHas, redactor, events };
}

const passwdCmds = (t: FakeTransport) => t.commands.filter((c) => / user passwd root /.test(c));

describe('etcd root password rotation', () => {
  it('plans nothing while the stored password is the wanted one, or no env file exists yet', async () => {
    expect(await rotationChanges(lab({ etcdHas: NEW, file: NEW }).ctx)).toEqual([]);
    const fresh = lab({ etcdHas: 'auth-off' });
    expect(await rotationChanges(fresh.ctx)).toEqual([]);
    expect(fresh.t.commands).toEqual([readFileCommand(ENV)]);
  });

  it('changes the password with the stored credentials, new password on stdin, then proves it', async () => {
    const { ctx, t, etcd, redactor } = lab({ etcdHas: OLD, file: OLD });
    const changes = await rotationChanges(ctx);
    expect(changes.map((c) => c.summary)).toEqual(['rotate the etcd root password (etcd_root_password differs from the one stored on the host)']);
    // The stored password is a secret too: it must not show in the logs of this or any later step.
    expect(redactor.redact(`x ${OLD} y`)).not.toContain(OLD);
    await applyChange(ctx, changes[0]);
    expect(etcd()).toBe(NEW);
    expect(t.puts).toEqual([{ path: `${ENV}.next`, content: `ETCDCTL_USER=root:${NEW}\n`, opts: { mode: 0o600, become: true } }]);
    expect(passwdCmds(t)).toEqual([
      `docker exec -i --env-file ${ENV} etcd etcdctl --endpoints=http://10.0.0.1:2379 user passwd root --interactive=false`,
    ]);
    // Neither password in any argv; the temporary file is removed.
    for (const c of t.commands) for (const pw of [OLD, NEW]) expect(c).not.toContain(pw);
    expect(t.commands.at(-1)).toBe(`rm -f -- ${ENV}.next`);
  });

  it('after a run that stopped past user passwd (etcd already has the new one) only the files change', async () => {
    const { ctx, t, etcd } = lab({ etcdHas: NEW, file: OLD });
    const [change] = await rotationChanges(ctx);
    await applyChange(ctx, change);
    expect(passwdCmds(t)).toEqual([]);
    expect(etcd()).toBe(NEW);
  });

  it('with auth off in etcd there is nothing to change there (the auth step enables it with the new one)', async () => {
    const { ctx, t } = lab({ etcdHas: 'auth-off', file: OLD });
    await applyChange(ctx, (await rotationChanges(ctx))[0]);
    expect(passwdCmds(t)).toEqual([]);
  });

  it('refuses when etcd accepts neither password, and changes nothing', async () => {
    const { ctx, t, etcd } = lab({ etcdHas: 'third', file: OLD });
    const [change] = await rotationChanges(ctx);
    await expect(applyChange(ctx, change)).rejects.toThrow(/refuses both the root password stored on the hosts and etcd_root_password/);
    expect(passwdCmds(t)).toEqual([]);
    expect(etcd()).toBe('third');
    expect(t.commands.at(-1)).toBe(`rm -f -- ${ENV}.next`);
  });

  it('fails when user passwd fails, leaving the stored password in place', async () => {
    const { ctx, etcd } = lab({ etcdHas: OLD, file: OLD, passwdFails: true });
    await expect(applyChange(ctx, (await rotationChanges(ctx))[0])).rejects.toThrow(/user passwd root on e1 failed/);
    expect(etcd()).toBe(OLD);
  });

  it('an unreadable env file is an error, never "no file"', async () => {
    await expect(rotationChanges(lab({ etcdHas: OLD, file: 'unreadable' }).ctx)).rejects.toThrow(/cannot read \/usr\/local\/etcd\/etcdctl.env on e1/);
  });
});

describe('etcd auth off', () => {
  const warnings = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));

  it('is said as a warning by the auth step, and nothing changes while etcd has auth off too', async () => {
    const { ctx, events } = lab({ etcdHas: 'auth-off', vars: { etcd_auth_enabled: false } });
    expect(await authChanges(ctx)).toEqual([]);
    expect(warnings(events)).toEqual([AUTH_OFF_WARNING]);
  });

  it('with auth on in etcd the step disables it, still warning', async () => {
    const { ctx, events } = lab({ etcdHas: OLD, vars: { etcd_auth_enabled: false } });
    expect((await authChanges(ctx)).map((c) => c.summary)).toEqual(['disable etcd auth (etcd_auth_enabled is off), with the root credentials stored on the host']);
    expect(warnings(events)).toEqual([AUTH_OFF_WARNING]);
  });

  it('no warning while auth is wanted', async () => {
    const { ctx, events } = lab({ etcdHas: NEW, file: NEW });
    expect(await authChanges(ctx)).toEqual([]);
    expect(warnings(events)).toEqual([]);
  });
});

describe('what etcd said to a set of credentials', () => {
  const r = (code: number, stderr: string) => ({ ok: code === 0, code, stdout: '', stderr });
  it.each([
    [r(0, ''), 'accepted'],
    [r(1, 'Error: etcdserver: authentication failed, invalid user ID or password'), 'refused'],
    [r(1, 'Error: etcdserver: authentication is not enabled'), 'auth-off'],
  ] as const)('%j -> %s', (result, outcome) => expect(probeOutcome(result, 'x')).toBe(outcome));

  it('anything else (etcd down, a timeout) is no answer at all', () => {
    expect(() => probeOutcome(r(1, 'Error response from daemon: container etcd is not running'), 'etcd_root_password')).toThrow(
      /cannot tell whether etcd accepts etcd_root_password/,
    );
    expect(() => probeOutcome(r(-1, ''), 'x')).toThrow(/exit -1/);
  });

  it('runs user passwd only when the wanted password is refused and the stored one accepted', async () => {
    expect(await rotationAction('accepted', () => Promise.reject(new Error('not asked')))).toBe('rewrite');
    expect(await rotationAction('auth-off', () => Promise.reject(new Error('not asked')))).toBe('rewrite');
    expect(await rotationAction('refused', async () => 'accepted')).toBe('passwd');
    await expect(rotationAction('refused', async () => 'refused')).rejects.toThrow(/no config knows the password etcd holds/);
  });

  it('reads the password from the env file, colons and all', () => {
    expect(parseCredentialsFile('ETCDCTL_USER=root:a:b/c#d\n')).toBe('a:b/c#d');
    expect(parseCredentialsFile('OTHER=1\n')).toBeUndefined();
  });
});
