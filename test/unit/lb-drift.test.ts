// A server left out of rotation (drained by an interrupted run or a dead controller, or in maintenance) is
// drift the lb play repairs: scripted `show stat` in, `set server ... state ready` out.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runPlaybook } from '../../lib/runner.ts';
import { definePlaybook, type ExecOptions } from '../../lib/types.ts';
import lb, { backendsReady } from '../../roles/lb/index.ts';
import { leftOutOfRotation, parseServerStats, type ServerStat } from '../../ops/lb-runtime.ts';
import { fakeFleet, fakeInventory } from '../helpers/fake-transport.ts';

const row = (backend: string, server: string, status: string, check = 'L7OK') => `${backend},${server},0,${status},${check},`;
const HEADER = '# pxname,svname,scur,status,check_status,check_desc';

describe('servers left out of rotation', () => {
  const stats = parseServerStats(
    [
      HEADER,
      row('gateways_http', 'lab4', 'DRAIN'),
      row('gateways_https', 'lab4', 'MAINT'),
      row('gateways_http', 'lab5', 'UP'),
      row('gateways_https', 'lab5', 'DOWN', 'L4CON'),
      row('dashboards', 'lab1', 'MAINT (via gateways_http/lab4)'),
      row('dashboards', 'lab2', 'MAINT (resolution)'),
      row('stats', 'other', 'DRAIN'),
    ].join('\n'),
  );

  it('are drained or in maintenance, in our backends; tracked and DNS maintenance are not ours to undo', () => {
    expect(leftOutOfRotation(stats, ['gateways_http', 'gateways_https', 'dashboards']).map((s) => `${s.backend}/${s.server} ${s.status}`)).toEqual([
      'gateways_http/lab4 DRAIN',
      'gateways_https/lab4 MAINT',
    ]);
  });

  // `show stat -1 4 -1` as real haproxy 1.5.0, 1.8.0 and 2.6.12 answered it, with gateways_http/gw2 set to drain and
  // gateways_https/gw1 to maint by the runtime API commands the roles send (the same at every level).
  it.each(['1.5.0', '1.8.0', '2.6.12'])("reads haproxy %s's own answer: DRAIN and MAINT by status, whatever its columns", (version) => {
    const answer = readFileSync(new URL(`./fixtures/haproxy/show-stat.${version}.csv`, import.meta.url), 'utf8');
    const stats = parseServerStats(answer);
    expect(stats).toHaveLength(5);
    expect(leftOutOfRotation(stats, ['gateways_http', 'gateways_https', 'dashboards']).map((s) => `${s.backend}/${s.server} ${s.status}`)).toEqual([
      'gateways_http/gw2 DRAIN',
      'gateways_https/gw1 MAINT',
    ]);
  });

  it('the lb play readies them (changed) and a rerun finds nothing to do', async () => {
    const state: Record<string, string> = { 'gateways_http/lab4': 'DRAIN', 'gateways_https/lab4': 'DRAIN', 'dashboards/lab1': 'UP' };
    const sent: string[] = [];
    const fleet = fakeFleet((command: string, _host: string, opts: ExecOptions) => {
      const stdin = String(opts.stdin ?? '');
      if (command.includes('VERSION=$(haproxy -v')) return { stdout: 'VERSION=HAProxy version 2.6.12 2023/04/01\nSM=systemd\nACTIVE=active\nENABLED=enabled\n' };
      if (command.startsWith('if [ -f ')) return { stdout: 'missing\n' }; // haproxy.cfg: written and validated again
      // The lb role reads `show stat` as a fact (its input in the command); the drain helpers send it on stdin.
      if (command.includes("'show stat -1 4 -1'") || stdin.startsWith('show stat')) {
        return { stdout: [HEADER, ...Object.entries(state).map(([k, st]) => row(k.split('/')[0], k.split('/')[1], st))].join('\n') };
      }
      const set = /printf '%s\\n' 'set server (\S+) state ready' 'set weight \1 100%' \|/.exec(command) ?? /^set server (\S+) state ready\n$/.exec(stdin);
      if (set) {
        sent.push(set[1]);
        state[set[1]] = 'UP';
      }
      return undefined;
    });
    const inventory = fakeInventory({ lb: ['lb1'] });
    const playbook = definePlaybook({ name: 'lb', description: '', plays: [{ name: 'lb', hosts: 'lb', role: lb }] });
    const steps = { tags: ['lb'], skipTags: [] };
    const only = (r: Awaited<ReturnType<typeof runPlaybook>>) => r.results.find((x) => x.step === 'no server left drained or in maintenance');

    const first = await runPlaybook(playbook, steps, { inventory, transports: fleet.factory });
    expect(only(first)).toMatchObject({ status: 'changed', changes: ['ready gateways_http/lab4 (was DRAIN)', 'ready gateways_https/lab4 (was DRAIN)'] });
    expect(sent).toEqual(['gateways_http/lab4', 'gateways_https/lab4']);

    const second = await runPlaybook(playbook, steps, { inventory, transports: fleet.factory });
    expect(only(second)).toMatchObject({ status: 'ok', changes: [] });
  });
});

describe('the backends wait counts out a server whose host is found unreachable, while its backend keeps one up', () => {
  const stat = (backend: string, server: string, status: string) => ({ backend, server, status, check: status === 'UP' ? 'L4OK' : 'L4TOUT' }) as ServerStat;
  const STATS = [stat('dashboards', 'lab1', 'UP'), stat('dashboards', 'lab2', 'DOWN'), stat('gateways_http', 'lab4', 'UP'), stat('gateways_http', 'lab5', 'UP')];

  it('lab2 unreachable: ready, lab2 named as lost', () => {
    expect(backendsReady(STATS, (h) => h === 'lab2')).toEqual({ lost: ['dashboards/lab2'] });
  });

  it('lab2 down on a host that answered: still waited for', () => {
    expect(backendsReady(STATS, () => false)).toBe('dashboards/lab2 DOWN (L4TOUT)');
  });

  it('a backend with no server up is never excused', () => {
    const none = [stat('dashboards', 'lab1', 'DOWN'), stat('dashboards', 'lab2', 'DOWN')];
    expect(backendsReady(none, () => true)).toBe('dashboards/lab1 DOWN (L4TOUT), dashboards/lab2 DOWN (L4TOUT)');
  });

  it('all up: ready, nothing lost', () => {
    expect(backendsReady(STATS.map((s) => ({ ...s, status: 'UP' })), () => false)).toEqual({ lost: [] });
  });
});
