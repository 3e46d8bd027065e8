// The launcher's decisions (bin/play.mjs): when its build is stale, which command lines run on the build and
// which under tsx, and import.meta of a bundled module being its source file's.
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceImportMeta } from '../../bin/launcher/build.mjs';
import { route } from '../../bin/launcher/route.mjs';
import { fingerprint, listSources, shippedPlaybooks, SOURCE_DIRS, SOURCE_FILES } from '../../bin/launcher/sources.mjs';
import { parseCli } from '../../lib/args.ts';
import { playbookFile } from '../../lib/playbooks.ts';

describe('freshness: the fingerprint of the sources', () => {
  const sources = [
    { path: 'lib/cli.ts', size: 100, mtimeMs: 1_000 },
    { path: 'roles/etcd/index.ts', size: 200, mtimeMs: 2_000 },
  ];
  const fp = fingerprint('/repo', sources);

  it('is the same for the same files, sizes and mtimes', () => {
    expect(fingerprint('/repo', sources.map((s) => ({ ...s })))).toBe(fp);
  });

  it.each([
    ['a file edited (newer mtime)', [sources[0], { ...sources[1], mtimeMs: 2_001 }]],
    ['a file put back as an older copy', [{ ...sources[0], mtimeMs: 500 }, sources[1]]],
    ['a size changed, same mtime', [sources[0], { ...sources[1], size: 201 }]],
    ['a file added', [...sources, { path: 'roles/etcd/plan.ts', size: 1, mtimeMs: 1 }]],
    ['a file removed', [sources[0]]],
    ['a file renamed', [sources[0], { ...sources[1], path: 'roles/etcd/main.ts' }]],
  ])('changes when %s', (_, changed) => {
    expect(fingerprint('/repo', changed)).not.toBe(fp);
  });

  it('changes with the checkout folder (a build holds its absolute paths)', () => {
    expect(fingerprint('/elsewhere', sources)).not.toBe(fp);
  });

  it('lists every file of the source folders and the top files, sorted, and only those', () => {
    const root = mkdtempSync(join(tmpdir(), 'gw-sources-'));
    for (const dir of SOURCE_DIRS) mkdirSync(join(root, dir, 'deep'), { recursive: true });
    writeFileSync(join(root, 'roles/deep/index.ts'), 'x');
    writeFileSync(join(root, 'bin/play.mjs'), 'x');
    for (const file of SOURCE_FILES) writeFileSync(join(root, file), '{}');
    mkdirSync(join(root, 'test'));
    writeFileSync(join(root, 'test/a.test.ts'), 'x');
    utimesSync(join(root, 'bin/play.mjs'), 1_700_000_000, 1_700_000_000);
    const listed = listSources(root);
    expect(listed.map((s) => s.path)).toEqual(['bin/play.mjs', 'package-lock.json', 'package.json', 'roles/deep/index.ts', 'tsconfig.json']);
    expect(listed[0]).toEqual({ path: 'bin/play.mjs', size: 1, mtimeMs: 1_700_000_000_000 });
  });

  it('finds the shipped playbooks the way the CLI lists them', () => {
    const paths = ['playbooks/site.ts', 'playbooks/etcd.ts', 'playbooks/site.test.ts', 'playbooks/lib/helper.ts', 'roles/etcd/index.ts'];
    expect(shippedPlaybooks(paths.map((path) => ({ path, size: 1, mtimeMs: 1 })))).toEqual(['site', 'etcd']);
  });
});

describe('route: the build or tsx', () => {
  const shipped = new Map([
    [resolve('playbooks/site.ts'), '/b/playbooks/site.mjs'],
    [resolve('playbooks/etcd.ts'), '/b/playbooks/etcd.mjs'],
  ]);
  const fixture = resolve('test/fixtures/playbooks/converge.ts');
  const build = { parseCli, playbookFile, shipped, exists: (file: string) => file === fixture };
  const site = { via: 'build', playbook: { file: resolve('playbooks/site.ts'), module: '/b/playbooks/site.mjs' } };

  it.each([
    ['a shipped playbook by name', ['site', '-i', 'inv.yaml'], site],
    ['a shipped playbook after the npm "play" word', ['play', 'site', '--check'], site],
    ['a shipped playbook by its path', ['playbooks/site.ts', '--list-tasks'], site],
    ['--help, whatever else is named', ['test/fixtures/playbooks/converge.ts', '--help'], { via: 'build' }],
    ['no playbook (the CLI says which exist)', ['-i', 'inv.yaml'], { via: 'build' }],
    ['an ad-hoc command, whose pattern is no playbook', ['etcd', '-a', 'uptime'], { via: 'build' }],
    ['a bad flag (the bundled CLI reports it, exit 4)', ['site', '--bogus'], { via: 'build' }],
    ['two playbooks (bad input too)', ['site', 'etcd'], { via: 'build' }],
    ['a playbook that does not exist', ['sitee'], { via: 'build' }],
    ['a playbook in another --playbook-dir', ['--playbook-dir', 'test/fixtures/playbooks', 'converge'], { via: 'tsx' }],
    ['a path to a playbook of ours elsewhere', ['test/fixtures/playbooks/converge.ts', '--list-hosts'], { via: 'tsx' }],
    ['a shipped name in another --playbook-dir that lacks it', ['--playbook-dir', 'test/fixtures/playbooks', 'site'], { via: 'build' }],
  ])('%s', (_, argv, expected) => {
    expect(route(argv, build)).toEqual(expected);
  });
});

describe('import.meta in the build is the source file\'s', () => {
  it('replaces url, dirname and filename with the source file\'s own', () => {
    const text = 'const here = import.meta.dirname;\nif (import.meta.url === x || import.meta.filename) run();\n';
    expect(sourceImportMeta(text, '/repo/lib/cli.ts')).toBe(
      'const here = "/repo/lib";\nif ("file:///repo/lib/cli.ts" === x || "/repo/lib/cli.ts") run();\n',
    );
  });

  it('quotes a path as a string literal, and leaves other members alone', () => {
    expect(sourceImportMeta('f(import.meta.filename, import.meta.resolve)', '/a "b"/c.ts')).toBe('f("/a \\"b\\"/c.ts", import.meta.resolve)');
  });
});
