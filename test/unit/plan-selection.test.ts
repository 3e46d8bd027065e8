// Which work a run selects: --limit (none selected is bad input), --start-at-step, the retry file.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planRun } from '../../lib/plan.ts';
import { expandLimit, writeRetryFile } from '../../lib/retry-file.ts';
import { definePlaybook, defineRole, defineStep, type Play } from '../../lib/types.ts';
import { fakeInventory } from '../helpers/fake-transport.ts';

const steps = (...names: string[]) => names.map((name) => defineStep({ name, plan: async () => [] }));
const play = (name: string, hosts: string, stepNames: string[], extra: Partial<Play> = {}): Play => ({ name, hosts, role: defineRole({ name, steps: steps(...stepNames) }), ...extra });
const playbook = definePlaybook({
  name: 'site',
  description: '',
  plays: [
    play('docker', 'all', ['docker installed', 'docker running']),
    play('etcd', 'etcd', ['etcd image', 'etcd member', 'etcd healthy'], { needs: [{ play: 'docker', scope: 'host' }] }),
    play('gateway', 'gateway', ['gateway up'], { needs: [{ play: 'etcd', scope: 'all' }] }),
  ],
});
const inventory = fakeInventory({ etcd: ['e1', 'e2'], gateway: ['g1'] });
const selected = (sel: Parameters<typeof planRun>[2]) =>
  planRun(playbook, inventory, sel).plays.map((p) => `${p.play.name}: ${p.steps.map((s) => s.name).join(', ')}`);

describe('--limit', () => {
  it('a pattern that selects no host is bad input', () => {
    expect(() => planRun(playbook, inventory, { limit: 'etcd:!etcd' })).toThrow('--limit etcd:!etcd selects no host');
  });
  it('hosts that take part in no selected play are bad input too', () => {
    expect(() => planRun(playbook, inventory, { limit: 'g1', tags: ['etcd'] })).toThrow('--limit g1 leaves no host to run on in playbook site');
  });
});

describe('--start-at-step', () => {
  it('leaves out every earlier play and step; later plays run whole', () => {
    expect(selected({ startAtStep: 'etcd member' })).toEqual(['docker: ', 'etcd: etcd member, etcd healthy', 'gateway: gateway up']);
    const plan = planRun(playbook, inventory, { startAtStep: 'etcd member' });
    expect(plan.nodes.map((n) => n.id)).toEqual(['etcd@e1', 'etcd@e2', 'gateway@g1']);
  });
  it('takes wildcards, as Ansible does', () => {
    expect(selected({ startAtStep: 'gateway*' })).toEqual(['docker: ', 'etcd: ', 'gateway: gateway up']);
  });
  it('a name no step has is bad input, naming where to look', () => {
    expect(() => planRun(playbook, inventory, { startAtStep: 'nope' })).toThrow('--start-at-step "nope": no step of that name in playbook site (see --list-tasks)');
  });
});

describe('the retry file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-retry-'));
  it('lists the hosts that failed or were unreachable, and is not written when none did', () => {
    const counts = (failed: number, unreachable: number) => ({ ok: 1, changed: 0, skipped: 0, failed, unreachable });
    expect(writeRetryFile(dir, { hosts: { e1: counts(0, 0) } })).toBeUndefined();
    const file = writeRetryFile(dir, { hosts: { e1: counts(0, 0), e2: counts(1, 0), g1: counts(0, 1) } })!;
    expect(readFileSync(file, 'utf8')).toBe('e2\ng1\n');
    expect(expandLimit(`@${file}`)).toBe('e2,g1');
  });
  it('@file: a missing or empty file is bad input; other limits pass as they are', () => {
    expect(() => expandLimit(`@${join(dir, 'none')}`)).toThrow('file not found');
    writeFileSync(join(dir, 'empty'), '# nothing\n');
    expect(() => expandLimit(`@${join(dir, 'empty')}`)).toThrow('the file names no host');
    expect(expandLimit('etcd:!e1')).toBe('etcd:!e1');
  });
});

describe('a play that runs part of its role (Play.steps)', () => {
  const role = defineRole({
    name: 'gateway',
    steps: [
      defineStep({ name: 'upload', tags: ['bundle'], plan: async () => [] }),
      defineStep({ name: 'load', tags: ['bundle'], plan: async () => [] }),
      defineStep({ name: 'config', plan: async () => [] }),
      defineStep({ name: 'up', plan: async () => [] }),
    ],
  });
  const split = definePlaybook({
    name: 'split',
    description: '',
    plays: [
      play('etcd', 'etcd', ['etcd member']),
      { name: 'gateway bundle', hosts: 'gateway', role, steps: { only: ['bundle'] } },
      { name: 'gateway', hosts: 'gateway', role, steps: { except: ['bundle'] }, needs: [{ play: 'gateway bundle', scope: 'host' }, { play: 'etcd', scope: 'alive' }] },
    ],
  });

  it('only / except pick the steps by tag; --tags of the role still reaches both halves', () => {
    const names = (sel = {}) => planRun(split, inventory, sel).plays.map((p) => `${p.play.name}: ${p.steps.map((s) => s.name).join(', ')}`);
    expect(names()).toEqual(['etcd: etcd member', 'gateway bundle: upload, load', 'gateway: config, up']);
    expect(names({ tags: ['gateway'] })).toEqual(['etcd: ', 'gateway bundle: upload, load', 'gateway: config, up']);
    expect(names({ skipTags: ['bundle'] })).toEqual(['etcd: etcd member', 'gateway bundle: ', 'gateway: config, up']);
  });

  it('the bundle half waits for nothing of etcd; the service half waits for both', () => {
    const plan = planRun(split, inventory);
    const deps = (id: string) => plan.nodes.find((n) => n.id === id)!.deps.map((d) => d.id).sort();
    expect(deps('gateway bundle@g1')).toEqual([]);
    expect(deps('gateway@g1')).toEqual(['etcd@e1', 'etcd@e2', 'gateway bundle@g1']);
  });
});
