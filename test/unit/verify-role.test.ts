// The verify role on scripted hosts: what it runs to stop and restore each service (the guide's commands,
// exact), that a check restores what it stopped whatever happens, and that --check runs none of it.
import { describe, expect, it } from 'vitest';
import { makeContext } from '../../lib/context.ts';
import { FactCache } from '../../lib/facts.ts';
import { makePlayShared } from '../../lib/play-shared.ts';
import { Redactor } from '../../lib/redact.ts';
import { runPlaybook } from '../../lib/runner.ts';
import { definePlaybook, type StepContext } from '../../lib/types.ts';
import { composeCommand } from '../../facts/docker.ts';
import { dashboardDir, ETCD_CONTAINER, gatewayDir } from '../../ops/layout.ts';
import { stackVariables } from '../../vars/schema.ts';
import verify from '../../roles/verify/index.ts';
import { DASHBOARD, ETCD, GATEWAY, withServiceStopped, type StackService } from '../../roles/verify/services.ts';
import { fakeFleet, fakeInventory, type Responder } from '../helpers/fake-transport.ts';

const inventory = fakeInventory({ lb: ['lb1'], etcd: ['lab1', 'lab2', 'lab3'], control: ['lab1', 'lab2'], gateway: ['lab4', 'lab5'] });

/** Hosts with `docker compose` v2; `failing` makes that exact command exit 1. */
const composeV2 = (failing?: string): Responder => (command) => {
  if (command === composeCommand.command) return { stdout: 'COMPOSE_V2=2.20.2\n' };
  if (command === failing) return { code: 1, stderr: 'Error response from daemon: boom' };
  return undefined;
};

function contexts(respond: Responder) {
  const fleet = fakeFleet(respond);
  const deps = { inventory, facts: new FactCache(), transports: fleet.factory, redactor: new Redactor(), emit: () => undefined, check: false, verbose: false };
  const ctx: StepContext = makeContext(inventory.hosts.get('lb1')!, { play: 'verify', step: 'check', origin: 'lb1', shared: makePlayShared([inventory.hosts.get('lb1')!]), defaults: verify.defaults ?? {}, resolveHost: (n) => inventory.hosts.get(n)! }, deps);
  const commands = (host: string) => fleet.transports.get(host)?.commands ?? [];
  return { ctx, commands };
}

const DP = gatewayDir({});
const CP = dashboardDir({});

describe('verify: the guide commands that stop and restore each service (exact)', () => {
  const rows: [string, StackService, string, string[]][] = [
    ['a gateway: compose down / up -d in its bundle folder', GATEWAY, 'lab4', [`cd ${DP} && docker compose down`, `cd ${DP} && docker compose up -d`]],
    ['a dashboard: compose down / up -d of its service', DASHBOARD, 'lab2', [`cd ${CP} && docker compose down`, `cd ${CP} && docker compose up -d api7-dashboard`]],
    ['an etcd member: docker stop / start of its container', ETCD, 'lab3', [`docker stop -t 30 ${ETCD_CONTAINER}`, `docker start ${ETCD_CONTAINER}`]],
  ];

  it.each(rows)('%s', async (_, service, host, [stop, start]) => {
    const { ctx, commands } = contexts(composeV2());
    let during: string[] = [];
    await withServiceStopped(ctx, host, service, async () => void (during = [...commands(host)]));
    const probe = service === ETCD ? [] : [composeCommand.command];
    expect(during).toEqual([...probe, stop]);
    expect(commands(host)).toEqual([...probe, stop, start]);
    expect(commands('lb1')).toEqual([]); // run on the service's host, not the step's
  });

  it('restores the service when the check fails meanwhile, and the check keeps its own error', async () => {
    const { ctx, commands } = contexts(composeV2());
    await expect(withServiceStopped(ctx, 'lab4', GATEWAY, async () => Promise.reject(new Error('3 of 200 requests failed')))).rejects.toThrow('3 of 200 requests failed');
    expect(commands('lab4').slice(-1)).toEqual([`cd ${DP} && docker compose up -d`]);
  });

  it('a stop that fails is an error naming the host and the command; the check does not run, the service is started again', async () => {
    const { ctx, commands } = contexts(composeV2(`docker stop -t 30 ${ETCD_CONTAINER}`));
    let ran = false;
    await expect(withServiceStopped(ctx, 'lab3', ETCD, async () => void (ran = true))).rejects.toThrow(new RegExp(`lab3: docker stop -t 30 ${ETCD_CONTAINER}`));
    expect(ran).toBe(false);
    expect(commands('lab3')).toEqual([`docker stop -t 30 ${ETCD_CONTAINER}`, `docker start ${ETCD_CONTAINER}`]);
  });

  it('no compose on the host: an error saying so, nothing stopped', async () => {
    const { ctx, commands } = contexts((command) => (command === composeCommand.command ? { stdout: 'COMPOSE_V2=\nCOMPOSE_V1=\n' } : undefined));
    await expect(withServiceStopped(ctx, 'lab4', GATEWAY, async () => undefined)).rejects.toThrow(/neither `docker compose` nor `docker-compose` is installed/);
    expect(commands('lab4').filter((c) => c !== composeCommand.command)).toEqual([]);
  });
});

describe('verify: the role', () => {
  it("lists the guide's three checks, in its order", () => {
    expect(verify.steps.map((s) => s.tags)).toEqual([['data-plane'], ['control-plane'], ['etcd']]);
  });

  it('--check skips every check and runs nothing on any host (it would stop services)', async () => {
    const fleet = fakeFleet(composeV2());
    const playbook = definePlaybook({ name: 'verify', description: '', variables: stackVariables, plays: [{ name: 'verify', hosts: 'lb', role: verify }] });
    const summary = await runPlaybook(playbook, { check: true }, { inventory, transports: fleet.factory });
    expect(summary.results.map((r) => [r.status, r.reason])).toEqual(Array(3).fill(['skipped', 'check mode: the verify playbook stops and starts services']));
    expect([...fleet.transports.values()].flatMap((t) => t.commands).filter((c) => !c.includes('gatewright.lock'))).toEqual([]);
  });
});
