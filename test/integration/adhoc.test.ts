// Ad-hoc commands against real sshd, as `ansible <pattern> -a` runs them: every selected host in parallel, the
// same host-key and sudo rules, Ansible's output lines, the runner's exit codes, secrets hidden.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { labWorkspace, PASS_USER, startSshdLab, type SshdLab } from '../helpers/sshd.ts';

let lab: SshdLab;
const TOKEN = 'adhoc-Token-kept-Secret-9';

beforeAll(async () => {
  lab = await startSshdLab({ count: 3, first: 20 });
});
afterAll(async () => {
  await lab?.stop();
});

function adhoc(pattern: string, command: string, ...flags: string[]) {
  const ws = labWorkspace(lab, { groups: { web: ['h20', 'h21'] }, allVars: { api_token: TOKEN } });
  return runCli([pattern, '-a', command, '-i', ws.inventory, '--known-hosts', lab.knownHostsFile, '--runs-dir', ws.runs, ...flags]).then((r) => ({ ...r, ws }));
}

const blocks = (stdout: string) => stdout.trim().split('\n');

describe('ad-hoc commands', () => {
  it('run on every host of the pattern, as the login user, with output under an Ansible-style line', async () => {
    const r = await adhoc('web', 'id -un; echo done');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const h of ['h20', 'h21']) expect(r.stdout).toContain(`${h} | CHANGED | rc=0 >>\ngwtest\ndone`);
    expect(r.stdout).not.toContain('h22');
    expect(r.ws.logs()).toContain('adhoc $ id -un');
  });

  it('-b becomes root; --become-user another user', async () => {
    const root = await adhoc('h20', 'id -un', '-b');
    expect(blocks(root.stdout)).toEqual(['h20 | CHANGED | rc=0 >>', 'root']);
    const other = await adhoc('h20', 'id -un', '-b', '--become-user', PASS_USER);
    expect(blocks(other.stdout)).toEqual(['h20 | CHANGED | rc=0 >>', PASS_USER]);
  });

  it('a failing host says FAILED with its code and the run exits 2; the others still run', async () => {
    // The hosts share this machine: the server address in SSH_CONNECTION tells h21 apart.
    const r = await adhoc('all', 'case "$SSH_CONNECTION" in *" 127.0.0.21 "*) echo broken >&2; exit 3;; esac; echo fine');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('h21 | FAILED | rc=3 >>\nbroken');
    for (const h of ['h20', 'h22']) expect(r.stdout).toContain(`${h} | CHANGED | rc=0 >>\nfine`);
  });

  it('an unreachable host is UNREACHABLE and exit 3; an unknown pattern is exit 4', async () => {
    await lab.stopHost('h22');
    try {
      const r = await adhoc('all', 'true');
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/h22 \| UNREACHABLE! =>\n.*ECONNREFUSED/);
      expect(r.stdout).toContain('h20 | CHANGED | rc=0 >>');
    } finally {
      await lab.start(['h22']);
    }
    const bad = await adhoc('nope', 'true');
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('unknown host or group "nope"');
  });

  it('never shows a secret the command prints', async () => {
    const r = await adhoc('h21', `echo ${TOKEN}`);
    expect(r.code).toBe(0);
    expect(r.stdout + r.ws.logs()).not.toContain(TOKEN);
    expect(r.stdout).toContain('********');
  });
});
