// `npm run play` for real (bin/play.mjs) in a temp copy of the checkout: the first run builds, the next ones
// reuse the build until a source changes, a playbook outside the build runs under tsx, and the build's trouble
// never fails a run. GATEWRIGHT_BUILD_DEBUG=1 makes the launcher say on stderr what it did.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_DIRS, SOURCE_FILES } from '../../bin/launcher/sources.mjs';
import { helpText } from '../../lib/args.ts';
import type { CliRun } from '../helpers/cli.ts';

const repo = join(import.meta.dirname, '../..');
const INVENTORY = 'test/fixtures/inventories/yaml';
let copy: string;

const exec = promisify(execFile);

/** Runs a command in the copy: `node bin/play.mjs …` or `node node_modules/tsx/dist/cli.mjs lib/cli.ts …`. */
async function run(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const options = { cwd: copy, env: { ...process.env, SSH_AUTH_SOCK: '', GATEWRIGHT_BUILD_DEBUG: '1', ...env } };
  return exec(process.execPath, args, options).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (failed: CliRun) => failed, // a non-zero exit: execFile's error carries code, stdout and stderr
  );
}
const play = (args: string[], env?: Record<string, string>) => run(['bin/play.mjs', ...args], env);
const tsx = (args: string[]) => run(['node_modules/tsx/dist/cli.mjs', 'lib/cli.ts', ...args]);

/** The launcher's own lines (GATEWRIGHT_BUILD_DEBUG), and the rest of stderr: the CLI's. */
const launcherLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('launcher: '));
const cliStderr = (stderr: string) => stderr.split('\n').filter((l) => !l.startsWith('launcher: ')).join('\n');
const builds = () => readdirSync(join(copy, '.build'));
const stampOf = (build: string) => JSON.parse(readFileSync(join(copy, '.build', build, 'build.json'), 'utf8'));

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'gw-launcher-'));
  for (const path of [...SOURCE_DIRS, ...SOURCE_FILES, 'test/fixtures']) cpSync(join(repo, path), join(copy, path), { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'));
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe('the launcher (npm run play)', () => {
  let first: string;

  it('builds on its first run, and prints the help', async () => {
    const r = await play(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${helpText()}\n`);
    expect(launcherLines(r.stderr)).toEqual([expect.stringMatching(/^launcher: built: .*\.build\/[0-9a-f]{16} \(\d+ sources, \d+ ms\)$/), 'launcher: route: build']);
    [first] = builds();
    expect(builds()).toEqual([first]);
    expect(stampOf(first).playbooks).toEqual(expect.arrayContaining(['site', 'etcd', 'verify']));
  });

  it('reuses the build while no source changed', async () => {
    const built = stampOf(first);
    const r = await play(['--help']);
    expect(r.code).toBe(0);
    expect(launcherLines(r.stderr)).toEqual([`launcher: fresh: ${join(copy, '.build', first)}`, 'launcher: route: build']);
    expect(builds()).toEqual([first]);
    expect(stampOf(first)).toEqual(built);
  });

  it('runs a shipped playbook from the build, with the same output as under tsx', async () => {
    const args = ['site', '-i', INVENTORY, '--list-tasks'];
    const [fast, slow] = await Promise.all([play(args), tsx(args)]);
    expect(launcherLines(fast.stderr)).toContain(`launcher: route: build (${join(copy, '.build', first, 'playbooks', 'site.mjs')})`);
    expect(fast.code).toBe(0);
    expect(fast.stdout).toContain('  - haproxy running, started at boot  [lb]');
    expect(fast.stdout).toBe(slow.stdout);
    expect(cliStderr(fast.stderr)).toBe(slow.stderr);
    expect(slow.code).toBe(0);
  });

  it('builds again when a source file changes, and removes the old build', async () => {
    const later = Math.ceil(Date.now() / 1000) + 5;
    utimesSync(join(copy, 'roles/etcd/index.ts'), later, later);
    const r = await play(['etcd', '-i', INVENTORY, '--list-hosts']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^play etcd \(etcd\): etcd1\.example\.net, etcd2\.example\.net, etcd3\.example\.net\n/);
    expect(launcherLines(r.stderr)[0]).toMatch(/^launcher: built: /);
    expect(builds()).toHaveLength(1);
    expect(builds()[0]).not.toBe(first);
    expect(stampOf(builds()[0]).newestMtimeMs).toBeGreaterThanOrEqual(later * 1000);
  });

  it('runs a playbook from --playbook-dir under tsx', async () => {
    const r = await play(['--playbook-dir', 'test/fixtures/playbooks', 'converge', '-i', INVENTORY, '--list-hosts']);
    expect(launcherLines(r.stderr)).toEqual([expect.stringMatching(/^launcher: fresh: /), 'launcher: route: tsx (a playbook outside the build)']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^play base \(all\): bastion\.example\.net, etcd1\.example\.net, .*10\.0\.0\.21\nplay summary \(all, run once\): /);
  });

  it('reports a bad flag as the CLI does, exit 4', async () => {
    const r = await play(['site', '--bogus']);
    expect(r.code).toBe(4);
    expect(cliStderr(r.stderr)).toMatch(/^error: Unknown option '--bogus'.* \(see --help\)\n$/);
  });

  it('lets runs that find the sources changed at once share one build, never half of one', async () => {
    const later = Math.ceil(Date.now() / 1000) + 10;
    utimesSync(join(copy, 'lib/shell.ts'), later, later);
    const runs = await Promise.all([1, 2, 3].map(() => play(['site', '-i', INVENTORY, '--list-hosts'])));
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('play preflight (all): ');
      expect(launcherLines(r.stderr).at(-1)).toMatch(/^launcher: route: build \(/);
    }
    expect(builds()).toHaveLength(1);
  });

  it('falls back to tsx when the build cannot be written', async () => {
    const r = await play(['--help'], { GATEWRIGHT_BUILD_DIR: '/dev/null/build' });
    expect(launcherLines(r.stderr)).toEqual([expect.stringMatching(/^launcher: no build \(ENOTDIR.*\): tsx$/)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${helpText()}\n`);
  });

  it('falls back to tsx when the build fails, and uses the build again once the sources are as before', async () => {
    const [before] = builds();
    const broken = join(copy, 'playbooks/broken.ts');
    writeFileSync(broken, 'export default {{;\n');
    const r = await play(['verify', '-i', INVENTORY, '--list-hosts']);
    expect(launcherLines(r.stderr)).toEqual([expect.stringMatching(/^launcher: no build \(Build failed with 1 error/)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('play verify (lb, run once): 10.0.0.20, 10.0.0.21\n');
    expect(builds()).toEqual([before]);
    rmSync(broken);
    const fixed = await play(['verify', '-i', INVENTORY, '--list-hosts']);
    expect(launcherLines(fixed.stderr)).toEqual([`launcher: fresh: ${join(copy, '.build', before)}`, expect.stringMatching(/^launcher: route: build \(/)]);
    expect(fixed.stdout).toBe(r.stdout);
  });
});
