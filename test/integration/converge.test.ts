// The runner end to end against real sshd: converge twice, --check, --json, failures, secrets, hostile values.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { quote } from '../../lib/shell.ts';
import { labInventory, labWorkspace, startSshdLab, type SshdLab } from '../helpers/sshd.ts';

const PLAYBOOK = 'test/fixtures/playbooks/converge.ts';
const TOKEN = 'tok-Zq9-very-secret-value';
let lab: SshdLab;

/** A fresh workspace, and the flags that point a run at it. */
function workspace(extra: Record<string, unknown> = {}, inventoryOpts: Parameters<typeof labInventory>[1] = {}) {
  const ws = labWorkspace(lab, inventoryOpts);
  const vars = join(ws.root, 'vars.yaml');
  writeFileSync(vars, JSON.stringify({ target_dir: ws.target, ...extra }));
  const args = [PLAYBOOK, '-i', ws.inventory, '--known-hosts', lab.knownHostsFile, '-e', `@${vars}`, '--runs-dir', ws.runs];
  return { ...ws, args };
}

beforeAll(async () => {
  lab = await startSshdLab({ count: 3, first: 2 });
});
afterAll(async () => {
  await lab?.stop();
});

describe('converging a small playbook on three sshd hosts', () => {
  it('changes things on the first run and nothing on the second', async () => {
    const ws = workspace();
    const json1 = join(ws.root, 'first.json');
    const first = await runCli([...ws.args, '--json', json1]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(readFileSync(join(ws.target, 'h2', 'greeting.txt'), 'utf8')).toBe('hello\n');
    expect(statSync(join(ws.target, 'h3', 'greeting.txt')).mode & 0o777).toBe(0o640);
    expect(readFileSync(join(ws.target, 'hosts.txt'), 'utf8')).toBe('h2\nh3\nh4\n');
    const report1 = JSON.parse(readFileSync(json1, 'utf8'));
    expect(report1.hosts.h2.changed).toBeGreaterThan(0);

    const json2 = join(ws.root, 'second.json');
    const second = await runCli([...ws.args, '--json', json2]);
    expect(second.code).toBe(0);
    const report2 = JSON.parse(readFileSync(json2, 'utf8'));
    for (const host of ['h2', 'h3', 'h4']) expect(report2.hosts[host]).toMatchObject({ changed: 0, failed: 0, unreachable: 0 });
    expect(second.stdout).toMatch(/h2 : ok=\d+ changed=0 unreachable=0 failed=0 skipped=\d+/);
  });

  it('on a terminal the tree is drawn (listr2, loaded only there) and collapses each finished play to one line', () => {
    const ws = workspace();
    const cli = [join('node_modules', '.bin', 'tsx'), join('lib', 'cli.ts'), ...ws.args].map(quote).join(' ');
    // util-linux script(1) gives the CLI a pseudo-terminal, as a user's terminal does.
    const r = spawnSync('script', ['-qfec', `stty cols 120 rows 40; exec ${cli}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });
    const screen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(r.status, screen).toBe(0);
    expect(screen).toMatch(/✔ \S.* \(3 hosts\) [\d.]+ s, \d+ changed/);
    expect(screen).toMatch(/h2 +: ok=\d+ changed=\d+ unreachable=0 failed=0 skipped=\d+/);
  });

  it('--check plans, reports what it would change and changes nothing', async () => {
    const ws = workspace();
    const r = await runCli([...ws.args, '--check', '--diff']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`would create ${ws.target}/h2/greeting.txt`);
    expect(r.stdout).toContain('+hello'); // the diff of the file it would write
    expect(readdirSync(ws.target)).toEqual([]);
  });

  it('writes a --json report with every step result, counts, timings and the exit code', async () => {
    const ws = workspace();
    const file = join(ws.root, 'report.json');
    const r = await runCli([...ws.args, '--json', file]);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(file, 'utf8'));
    expect(report).toMatchObject({ playbook: 'converge', check: false, exitCode: 0 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(typeof report.durationMs).toBe('number');
    // As Ansible counts: ok includes the changed steps (1 unchanged + 2 changed).
    expect(report.hosts.h4).toEqual({ ok: 3, changed: 2, unreachable: 0, failed: 0, skipped: 3 });
    const steps = report.results.filter((x: { host: string; play: string }) => x.host === 'h2' && x.play === 'base');
    expect(steps.map((x: { step: string; status: string }) => `${x.step}=${x.status}`)).toEqual([
      'work directory=changed',
      'greeting file=changed',
      'echo the greeting=ok',
      'fail when asked=skipped',
      'secret file=skipped',
      'root-owned file=skipped',
    ]);
    expect(report.results.find((x: { play: string }) => x.play === 'summary')).toMatchObject({ host: 'h2', status: 'changed' });
  });

  it('a failed host stops its own later plays; the others finish; exit code 2 names the host', async () => {
    const ws = workspace({}, { hostVars: { h3: { fail_here: true } } });
    const file = join(ws.root, 'report.json');
    const r = await runCli([...ws.args, '--json', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/h3 FAILED in base › fail when asked: command failed on h3 \(exit 7\)/);
    expect(r.stdout).toContain('about to fail');
    // summary needs every base host: it is skipped because of h3; h2 and h4 still converged base.
    expect(r.stdout).toContain('summary: SKIPPED (dependency failed: base on h3)');
    expect(existsSync(join(ws.target, 'h4', 'greeting.txt'))).toBe(true);
    expect(existsSync(join(ws.target, 'h3', 'secret.conf'))).toBe(false);
    const report = JSON.parse(readFileSync(file, 'utf8'));
    expect(report.exitCode).toBe(2);
    expect(report.hosts.h3.failed).toBe(1);
    expect(report.errors).toHaveLength(1);
  });

  it('a run writes the hosts it could not converge to .runs/<stamp>/failed; --limit @that-file reruns only them', async () => {
    const failing = workspace({}, { hostVars: { h3: { fail_here: true } } });
    const r = await runCli(failing.args);
    expect(r.code).toBe(2);
    const retry = /retry the failed and unreachable hosts: --limit @(\S+)/.exec(r.stdout)?.[1];
    expect(retry, r.stdout).toMatch(/failed$/);
    expect(readFileSync(retry!, 'utf8')).toBe('h3\n');
    // Fixed (fail_here gone), the retry runs h3 alone.
    const fixed = workspace();
    const json = join(fixed.root, 'retry.json');
    const again = await runCli([...fixed.args, '--limit', `@${retry}`, '--json', json]);
    expect(again.code).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(json, 'utf8')).hosts)).toEqual(['h3']);
    expect(again.stdout).not.toContain('retry the failed');
  });

  it('a --limit that selects no host is bad input (exit 4), as in Ansible', async () => {
    const ws = workspace();
    const r = await runCli([...ws.args, '--limit', 'h2:!h2']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('--limit h2:!h2 selects no host');
    expect(readdirSync(ws.target)).toEqual([]);
  });

  it('never shows a secret: not in output, logs or the json report', async () => {
    const ws = workspace({ api_token: TOKEN });
    const file = join(ws.root, 'report.json');
    const r = await runCli([...ws.args, '--json', file, '-v', '--diff']);
    expect(r.code).toBe(0);
    expect(readFileSync(join(ws.target, 'h2', 'secret.conf'), 'utf8')).toBe(`token=${TOKEN}\n`);
    expect(r.stdout).toContain('(content hidden: secret)');
    const everything = [r.stdout, r.stderr, ws.logs(), readFileSync(file, 'utf8')].join('\n');
    expect(everything).not.toContain(TOKEN);
    expect(everything).toContain('secret file: changed');
    // A second run reads the secret file back (to compare): still hidden.
    const again = await runCli([...ws.args, '-v']);
    expect(again.code).toBe(0);
    expect(again.stdout + ws.logs()).not.toContain(TOKEN);
    expect(ws.logs()).toContain('(output hidden: secret)');
    for (const stamp of readdirSync(ws.runs)) {
      expect(statSync(join(ws.runs, stamp)).mode & 0o777).toBe(0o700);
      for (const f of readdirSync(join(ws.runs, stamp))) expect(statSync(join(ws.runs, stamp, f)).mode & 0o777).toBe(0o600);
    }
  });

  it('hostile variable values run nothing unintended', async () => {
    const ws = workspace();
    const marker = join(ws.root, 'pwned');
    const greeting = `$(touch ${marker})\`touch ${marker}\`'; touch ${marker}; echo "x`;
    const fileName = `evil name; touch ${marker.replace(/\//g, '_')} $(id).txt`;
    writeFileSync(join(ws.root, 'vars.yaml'), JSON.stringify({ target_dir: ws.target, greeting, file_name: fileName }));
    const r = await runCli(ws.args);
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(join(ws.target, 'h2', fileName), 'utf8')).toBe(`${greeting}\n`);
    expect(readdirSync(join(ws.target, 'h2')).sort()).toEqual([fileName]);
  });
});
