// ctx.warn: a step says something the operator should know though nothing failed; the run keeps each message
// once (not once per host), the recap prints it and --json carries it. Secrets in a warning are redacted.
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../lib/events.ts';
import { jsonReport, warningLines } from '../../lib/report.ts';
import { runPlaybook } from '../../lib/runner.ts';
import { definePlaybook, defineRole, defineStep } from '../../lib/types.ts';
import { fakeFleet, fakeInventory } from '../helpers/fake-transport.ts';

const inventory = fakeInventory({ etcd: ['e1', 'e2', 'e3'] }, { e1: { db_password: 's3cret-pw' } });

async function runWarning(message: (host: string) => string) {
  const fleet = fakeFleet();
  const warns = defineStep({
    name: 'warns',
    async plan(ctx) {
      ctx.warn(message(ctx.host.name));
      return [];
    },
  });
  const playbook = definePlaybook({ name: 't', description: '', plays: [{ name: 'etcd', hosts: 'etcd', role: defineRole({ name: 'r', steps: [warns] }) }] });
  return runPlaybook(playbook, {}, { inventory, transports: fleet.factory, close: fleet.close });
}

describe('run warnings', () => {
  it('the same warning from every host is kept once, with the first host that gave it', async () => {
    const summary = await runWarning(() => 'etcd auth is off');
    expect(summary.warnings).toHaveLength(1);
    expect(summary.warnings![0]).toMatchObject({ play: 'etcd', message: 'etcd auth is off' });
    expect(['e1', 'e2', 'e3']).toContain(summary.warnings![0].host);
    expect(summary.exitCode).toBe(0);
  });

  it('different warnings are all kept, in the recap and the --json report', async () => {
    const summary = await runWarning((h) => `disk almost full on ${h}`);
    expect(summary.warnings!.map((w) => w.message).sort()).toEqual(['disk almost full on e1', 'disk almost full on e2', 'disk almost full on e3']);
    const lines = warningLines(summary);
    expect(lines[0]).toBe('WARNINGS (3)');
    expect(lines).toContain('e2 in etcd: disk almost full on e2');
    expect((jsonReport(summary) as { warnings: unknown[] }).warnings).toHaveLength(3);
  });

  it('secrets in a warning are redacted', async () => {
    const summary = await runWarning(() => 'password s3cret-pw is weak');
    expect(JSON.stringify(summary)).not.toContain('s3cret-pw');
    expect(warningLines(summary)[1]).toMatch(/password \S+ is weak/);
  });

  it('prints nothing when there is nothing to say', () => {
    expect(warningLines({ warnings: [] } as unknown as RunSummary)).toEqual([]);
    expect(warningLines({} as RunSummary)).toEqual([]);
  });
});

describe('warnings on screen', () => {
  it('the line-per-event output prints them between the errors and the recap', async () => {
    const { plainRenderer } = await import('../../lib/render.ts');
    const summary = await runWarning(() => 'etcd auth is off');
    const lines: string[] = [];
    plainRenderer({ verbose: false, diff: false, write: (l) => lines.push(l) })({ type: 'run:end', summary });
    const at = lines.indexOf('WARNINGS (1)');
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toMatch(/^e\d in etcd: etcd auth is off$/);
    expect(lines[at + 2]).toBe('PLAY RECAP');
  });
});

describe('an interrupted run says so', () => {
  it('in the recap and in --json', async () => {
    const { recapLines } = await import('../../lib/report.ts');
    const summary: RunSummary = { ...(await runWarning(() => 'w')), interrupted: 'SIGINT', exitCode: 130 };
    expect(recapLines(summary).join('\n')).toContain('interrupted by SIGINT');
    expect(jsonReport(summary)).toMatchObject({ exitCode: 130, interrupted: 'SIGINT' });
    const calm = await runWarning(() => 'w');
    expect(recapLines(calm).join('\n')).not.toContain('interrupted');
    expect(jsonReport(calm)).not.toHaveProperty('interrupted');
  });
});
