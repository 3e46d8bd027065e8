// `ansible_become_method: su` against real sshd and the real su (util-linux, PAM): su asks its password on a
// terminal, which script(1) gives it on the host; the command's own stdout, stderr, stdin and exit code stay apart.
// The login user (gwtest) becomes gwpass, whose password the test knows; becoming root works the same way with
// root's password, which a test machine should not have to hand out.
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { BECOME_PASSWORD, labWorkspace, PASS_USER, startSshdLab, type SshdLab } from '../helpers/sshd.ts';

let lab: SshdLab;

beforeAll(async () => {
  lab = await startSshdLab({ count: 1, first: 70 });
});
afterAll(async () => {
  await lab?.stop();
});

function su(command: string, password: string | undefined, ...flags: string[]) {
  const vars = { ansible_become_method: 'su', ...(password === undefined ? {} : { ansible_become_password: password }) };
  const ws = labWorkspace(lab, { allVars: vars });
  return runCli(['all', '-a', command, '-b', '--become-user', PASS_USER, '-i', ws.inventory, '--known-hosts', lab.knownHostsFile, '--runs-dir', ws.runs, ...flags]).then((r) => ({ ...r, ws }));
}

describe('become with su', () => {
  it('runs the command as the target user, its output and exit code its own, the password never shown', async () => {
    const r = await su(`id -un; printf '%s\\n' 'two  spaces' "quote'd"; echo on-stderr >&2; exit 3`, BECOME_PASSWORD, '-v');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`h70 | FAILED | rc=3 >>\n${PASS_USER}\ntwo  spaces\nquote'd`);
    expect(r.stdout).toContain('on-stderr');
    expect(r.stdout).not.toContain('Password');
    expect(r.stdout + r.stderr + r.ws.logs()).not.toContain(BECOME_PASSWORD);
  });

  it('a wrong password is a clear failure naming su and the user, and runs nothing', async () => {
    rmSync('/tmp/gw-su-should-not-exist', { force: true });
    const r = await su('touch /tmp/gw-su-should-not-exist; id -un', 'not-the-password');
    expect(existsSync('/tmp/gw-su-should-not-exist')).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(new RegExp(`su to ${PASS_USER} failed: .*Authentication failure`));
    expect(r.stdout).not.toContain(`\n${PASS_USER}\n`);
  });

  it('without a password it says which variable to set, before running anything', async () => {
    const r = await su('id -un', undefined);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`su to ${PASS_USER} on h70 needs that user's password: set ansible_become_password`);
  });
});
