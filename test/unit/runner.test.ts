import { describe, expect, it } from 'vitest';
import { UnreachableError } from '../../lib/errors.ts';
import type { RunEvent } from '../../lib/events.ts';
import { Interrupt } from '../../lib/interrupt.ts';
import { runPlaybook, type RunOptions } from '../../lib/runner.ts';
import { definePlaybook, defineRole, defineStep, type Play, type Step } from '../../lib/types.ts';
import { firstHostOfPlay } from '../../ops/topology.ts';
import { fakeFleet, fakeInventory, type Responder } from '../helpers/fake-transport.ts';

// Each step runs `echo <play>/<step>` so the order of events is visible in the commands and events.
const step = (name: string, extra: Partial<Step> = {}): Step =>
  defineStep({
    name,
    async plan(ctx) {
      await ctx.run(`echo ${name}`);
      return [];
    },
    ...extra,
  });

const play = (name: string, hosts: string, extra: Partial<Play> = {}, steps = [step(`${name}-step`)]): Play => ({
  name,
  hosts,
  role: defineRole({ name: `${name}-role`, steps }),
  ...extra,
});

const inventory = fakeInventory({ etcd: ['e1', 'e2', 'e3'], gateway: ['g1', 'g2'] });

async function run(plays: Play[], opts: RunOptions = {}, respond?: Responder, unreachable: string[] = [], interrupt?: Interrupt) {
  const fleet = fakeFleet(respond, unreachable);
  const events: RunEvent[] = [];
  const summary = await runPlaybook(definePlaybook({ name: 'test', description: '', plays }), opts, {
    inventory,
    transports: fleet.factory,
    listeners: [(e) => events.push(e)],
    close: fleet.close,
    interrupt,
  });
  const order = events.flatMap((e) => (e.type === 'node:start' ? [`start ${e.play}@${e.host}`] : e.type === 'node:end' ? [`end ${e.play}@${e.host}`] : []));
  const node = (p: string, h: string) => summary.nodes.find((n) => n.play === p && n.host === h);
  return { summary, events, order, node, fleet };
}

const failOn = (host: string, marker: string): Responder => (cmd, h) => (h === host && cmd.includes(marker) ? { code: 1, stderr: 'boom' } : undefined);

describe('runner scheduling', () => {
  it("a host-scoped need waits only for that host's node", async () => {
    const slow: Responder = () => undefined;
    const { order } = await run(
      [play('docker', 'all'), play('etcd', 'etcd', { needs: [{ play: 'docker', scope: 'host' }] })],
      {},
      slow,
    );
    for (const h of ['e1', 'e2', 'e3']) expect(order.indexOf(`end docker@${h}`)).toBeLessThan(order.indexOf(`start etcd@${h}`));
  });

  it('an all-scoped need waits for every host of that play', async () => {
    const { order } = await run([play('etcd', 'etcd'), play('dashboard', 'gateway', { needs: [{ play: 'etcd', scope: 'all' }] })]);
    const lastEtcd = Math.max(...['e1', 'e2', 'e3'].map((h) => order.indexOf(`end etcd@${h}`)));
    for (const h of ['g1', 'g2']) expect(order.indexOf(`start dashboard@${h}`)).toBeGreaterThan(lastEtcd);
  });

  it('plays on different hosts with no needs run at once (no barrier per play)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const waiting = defineStep({
      name: 'wait for gateway',
      async plan(ctx) {
        await gate; // only released by the gateway play: deadlocks if plays ran one after another
        await ctx.run('true');
        return [];
      },
    });
    const releasing = defineStep({
      name: 'release',
      async plan() {
        release();
        return [];
      },
    });
    const { summary } = await run([play('etcd', 'e1', {}, [waiting]), play('gw', 'g1', {}, [releasing])]);
    expect(summary.exitCode).toBe(0);
  });

  it('runs each host at most --forks at a time', async () => {
    let running = 0;
    let peak = 0;
    const counting = defineStep({
      name: 'count',
      async plan() {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return [];
      },
    });
    await run([play('p', 'all', {}, [counting])], { forks: 2 });
    expect(peak).toBe(2);
  });

  it('serial: 1 rolls one host at a time, and stops the roll after a failure', async () => {
    const { order, node, summary } = await run([play('roll', 'etcd', { serial: 1 })], {}, failOn('e2', 'roll-step'));
    expect(order).toEqual(['start roll@e1', 'end roll@e1', 'start roll@e2', 'end roll@e2', 'end roll@e3']);
    expect(node('roll', 'e3')).toMatchObject({ status: 'skipped', reason: 'dependency failed: roll on e2 (rolling play stopped)' });
    expect(summary.exitCode).toBe(2);
  });

  it('runOnce runs on the first host only, and sees every host of the play', async () => {
    let seen: string[] = [];
    const ran: string[] = [];
    const once = defineStep({
      name: 'once',
      async plan(ctx) {
        seen = ctx.play.hosts.map((h) => h.name);
        ran.push(ctx.host.name);
        return [];
      },
    });
    const { summary, node } = await run([play('smoke', 'etcd', { runOnce: true }, [once])]);
    expect(ran).toEqual(['e1']);
    expect(node('smoke', 'e2')).toMatchObject({ status: 'skipped', reason: 'done once, by e1' });
    expect(node('smoke', 'e3')).toMatchObject({ status: 'skipped', reason: 'done once, by e1' });
    expect(seen).toEqual(['e1', 'e2', 'e3']);
    expect(summary.exitCode).toBe(0);
  });

  it('ctx.play.once runs once for the play; exclusive runs one host at a time', async () => {
    let calls = 0;
    let inside = 0;
    let peak = 0;
    const s = defineStep({
      name: 'shared',
      async plan(ctx) {
        await ctx.play.once('init', async () => void calls++);
        await ctx.play.exclusive('rolling', async () => {
          peak = Math.max(peak, ++inside);
          await new Promise((r) => setTimeout(r, 2));
          inside--;
        });
        return [];
      },
    });
    await run([play('p', 'all', {}, [s])]);
    expect(calls).toBe(1);
    expect(peak).toBe(1);
  });

  it('ctx.on(other) runs on the other host\'s connection', async () => {
    const s = defineStep({
      name: 'delegate',
      async plan(ctx) {
        await ctx.on('e1').run('etcdctl member list');
        return [];
      },
    });
    const { fleet } = await run([play('dash', 'g1', {}, [s])]);
    expect(fleet.transports.get('e1')!.commands).toEqual(['etcdctl member list']);
    expect(fleet.transports.get('g1')?.commands ?? []).toEqual([]);
  });

  it('role defaults sit under host vars', async () => {
    const seen: Record<string, unknown> = {};
    const inv2 = fakeInventory({ g: ['a'] }, { a: { port: 1 } });
    const s = defineStep({ name: 'vars', plan: async (ctx) => (Object.assign(seen, ctx.vars), []) });
    const fleet = fakeFleet();
    await runPlaybook(
      definePlaybook({ name: 't', description: '', plays: [{ name: 'p', hosts: 'g', role: defineRole({ name: 'r', defaults: { port: 9, other: 2 }, steps: [s] }) }] }),
      {},
      { inventory: inv2, transports: fleet.factory },
    );
    expect(seen).toMatchObject({ port: 1, other: 2 });
  });
});

describe('failure semantics', () => {
  const site = [
    play('docker', 'all', {}, [step('install docker'), step('start docker')]),
    play('etcd', 'etcd', { needs: [{ play: 'docker', scope: 'host' }] }),
    play('dashboard', 'gateway', { needs: [{ play: 'etcd', scope: 'all' }] }),
  ];

  it("a failed host stops its own later steps and plays, and what depends on it; others go on", async () => {
    const { summary, node, fleet } = await run(site, {}, failOn('e2', 'install docker'));
    expect(fleet.transports.get('e2')!.commands).toEqual(['echo install docker']); // not "start docker"
    expect(node('docker', 'e2')).toMatchObject({ status: 'failed' });
    expect(node('etcd', 'e2')).toMatchObject({ status: 'skipped', reason: 'dependency failed: docker on e2' });
    expect(node('etcd', 'e1')).toMatchObject({ status: 'ok' });
    expect(node('dashboard', 'g1')).toMatchObject({ status: 'skipped', reason: 'dependency failed: docker on e2' });
    expect(node('docker', 'g2')).toMatchObject({ status: 'ok' });
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0]).toMatchObject({ host: 'e2', play: 'docker', step: 'install docker' });
    expect(summary.errors[0].message).toContain('command failed on e2 (exit 1): echo install docker');
    expect(summary.exitCode).toBe(2);
    expect([...fleet.transports.values()].every((t) => t.closed)).toBe(true);
  });

  it('an unreachable host is its own status (exit 3) and skips its dependents', async () => {
    const { summary, node } = await run(site, {}, undefined, ['e3']);
    expect(node('docker', 'e3')).toMatchObject({ status: 'unreachable' });
    expect(summary.hosts.e3).toMatchObject({ unreachable: 1, failed: 0 });
    // The reason names the root cause, not the skipped node in between.
    expect(node('etcd', 'e3')).toMatchObject({ status: 'skipped', reason: 'dependency failed: docker on e3' });
    expect(node('dashboard', 'g2')).toMatchObject({ status: 'skipped', reason: 'dependency failed: docker on e3' });
    expect(summary.exitCode).toBe(3);
  });

  it("under a need of scope 'alive', an unreachable host holds nothing back; a failed one still does", async () => {
    const alive = [site[0], site[1], play('dashboard', 'gateway', { needs: [{ play: 'etcd', scope: 'alive' }] })];
    const gone = await run(alive, {}, undefined, ['e3']);
    expect(gone.node('etcd', 'e3')).toMatchObject({ status: 'skipped', reason: 'dependency failed: docker on e3' });
    expect(gone.node('dashboard', 'g1')).toMatchObject({ status: 'ok' });
    expect(gone.node('dashboard', 'g2')).toMatchObject({ status: 'ok' });
    expect(gone.summary.exitCode).toBe(3);

    const failed = await run(alive, {}, failOn('e2', 'install docker'));
    expect(failed.node('dashboard', 'g1')).toMatchObject({ status: 'skipped', reason: 'dependency failed: docker on e2' });
    expect(failed.summary.exitCode).toBe(2);
  });

  it('failed and unreachable together exit 2', async () => {
    const { summary } = await run(site, {}, failOn('g1', 'install'), ['e3']);
    expect(summary.exitCode).toBe(2);
    expect(summary.errors.map((e) => e.host).sort()).toEqual(['e3', 'g1']);
  });

  it('a step throwing a plain error fails with its message; a connection dying mid-run makes the host unreachable', async () => {
    const throwing = defineStep({ name: 'throws', plan: async () => Promise.reject(new TypeError('cannot read x of undefined')) });
    const { node, summary } = await run([play('p', 'e1', {}, [throwing]), play('q', 'e2')]);
    expect(node('q', 'e2')).toMatchObject({ status: 'ok' });
    expect(node('p', 'e1')).toMatchObject({ status: 'failed' });
    expect(summary.results.find((r) => r.step === 'throws')).toMatchObject({ status: 'failed', reason: 'cannot read x of undefined' });

    const fleet = fakeFleet();
    const kill = defineStep({
      name: 'kill',
      async plan(ctx) {
        fleet.transports.get(ctx.host.name)!.dead = true;
        await ctx.run('true');
        return [];
      },
    });
    const res = await runPlaybook(definePlaybook({ name: 't', description: '', plays: [play('p', 'e1', {}, [kill]), play('after', 'e1')] }), {}, { inventory, transports: fleet.factory });
    expect(res.nodes.find((n) => n.play === 'p')).toMatchObject({ status: 'unreachable' });
    expect(res.hosts.e1).toMatchObject({ unreachable: 1, failed: 0 });
    expect(res.nodes.find((n) => n.play === 'after')).toMatchObject({ status: 'skipped', reason: 'dependency failed: p on e1' });
    expect(res.exitCode).toBe(3);
  });
});

describe('selection', () => {
  const plays = [
    play('docker', 'all'),
    play('etcd', 'etcd', { needs: [{ play: 'docker', scope: 'host' }] }),
    play('gateway', 'gateway', { needs: [{ play: 'etcd', scope: 'all' }], tags: ['dp'] }, [step('config', { tags: ['config'] }), step('restart')]),
  ];

  it('--limit runs only those hosts and treats needs outside the selection as satisfied', async () => {
    const { summary, fleet } = await run(plays, { limit: 'g1' });
    expect(summary.nodes.map((n) => `${n.play}@${n.host}`).sort()).toEqual(['docker@g1', 'gateway@g1']);
    expect(fleet.connects.every((h) => h === 'g1')).toBe(true);
    expect(summary.exitCode).toBe(0);
  });

  it('--tags picks plays by name, role or tag and steps by tag; --skip-tags removes them', async () => {
    const a = await run(plays, { tags: ['gateway'] });
    expect(new Set(a.summary.nodes.map((n) => n.play))).toEqual(new Set(['gateway']));
    const b = await run(plays, { tags: ['config'] });
    expect(b.summary.results.map((r) => r.step)).toEqual(['config', 'config']);
    const c = await run(plays, { tags: ['dp'], skipTags: ['config'] });
    expect(c.summary.results.map((r) => r.step)).toEqual(['restart', 'restart']);
    const d = await run(plays, { tags: ['etcd-role'] });
    expect(new Set(d.summary.nodes.map((n) => n.play))).toEqual(new Set(['etcd']));
  });

  it('an unknown group in --limit or in a play is an error, not a no-op', async () => {
    await expect(run(plays, { limit: 'gatway' })).rejects.toThrow('unknown host or group "gatway"');
    await expect(run([play('x', 'nosuch')])).rejects.toThrow('playbook test, play x: unknown host or group "nosuch"');
  });

  it('needs must name an earlier play of the playbook', async () => {
    await expect(run([play('a', 'all', { needs: [{ play: 'b', scope: 'all' }] }), play('b', 'all')])).rejects.toThrow('needs "b", which comes later');
    await expect(run([play('a', 'all', { needs: [{ play: 'zz', scope: 'host' }] })])).rejects.toThrow('which is not a play of this playbook');
  });
});

describe('run-once work goes to the first host still alive', () => {
  // `prepare` runs before the run-once step on every host; `route` is the run-once step (firstHostOfPlay).
  const route = (did: string[], extra: Partial<Step> = {}) =>
    defineStep({
      name: 'route',
      when: firstHostOfPlay,
      async plan(ctx) {
        did.push(ctx.host.name);
        await ctx.run('put route');
        return [];
      },
      ...extra,
    });
  const gw = (did: string[], extra: Partial<Step> = {}) => play('gw', 'gateway', {}, [step('prepare'), route(did, extra), step('health')]);

  it('the first host does it; the other waits for it and skips naming it', async () => {
    const did: string[] = [];
    const { summary, order } = await run([gw(did)]);
    expect(did).toEqual(['g1']);
    expect(summary.results.find((r) => r.host === 'g2' && r.step === 'route')).toMatchObject({ status: 'skipped', reason: 'done once, by g1' });
    expect(summary.results.filter((r) => r.step === 'health').map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(order).toContain('end gw@g2');
  });

  it.each([
    ['fails before the step', failOn('g1', 'prepare'), [], 'failed', 2],
    ['is unreachable', undefined, ['g1'], 'unreachable', 3],
  ] as const)('the leader moves on to the second host when the first %s', async (_, respond, unreachable, status, exitCode) => {
    const did: string[] = [];
    const { summary, node } = await run([gw(did)], {}, respond, [...unreachable]);
    expect(did).toEqual(['g2']);
    expect(node('gw', 'g1')).toMatchObject({ status });
    expect(node('gw', 'g2')).toMatchObject({ status: 'ok' });
    expect(summary.exitCode).toBe(exitCode);
  });

  it('a host dying in the middle of the run-once step hands it to the next, which does it again', async () => {
    const did: string[] = [];
    const fleet = fakeFleet();
    const dies = route(did, {
      async plan(ctx) {
        did.push(ctx.host.name);
        if (ctx.host.name === 'g1') fleet.transports.get('g1')!.dead = true;
        await ctx.run('put route');
        return [];
      },
    });
    const summary = await runPlaybook(definePlaybook({ name: 't', description: '', plays: [play('gw', 'gateway', {}, [step('prepare'), dies, step('health')])] }), {}, { inventory, transports: fleet.factory });
    expect(did).toEqual(['g1', 'g2']);
    expect(fleet.transports.get('g2')!.commands).toEqual(['echo prepare', 'put route', 'echo health']);
    expect(summary.nodes.find((n) => n.host === 'g1')).toMatchObject({ status: 'unreachable' });
    expect(summary.nodes.find((n) => n.host === 'g2')).toMatchObject({ status: 'ok' });
  });

  it('a runOnce play runs on the second host when the first is unreachable', async () => {
    const ran: string[] = [];
    const smoke = defineStep({ name: 'smoke', plan: async (ctx) => (ran.push(ctx.host.name), []) });
    const { node } = await run([play('smoke', 'etcd', { runOnce: true }, [smoke])], {}, undefined, ['e1']);
    expect(ran).toEqual(['e2']);
    expect(node('smoke', 'e1')).toMatchObject({ status: 'unreachable' });
    expect(node('smoke', 'e3')).toMatchObject({ status: 'skipped', reason: 'done once, by e2' });
  });

  it('waits only for hosts already running: with --forks 1 nothing deadlocks', async () => {
    const did: string[] = [];
    const { summary } = await run([gw(did)], { forks: 1 });
    expect(did).toHaveLength(1);
    expect(summary.exitCode).toBe(0);
  });

  it('ctx.play.once is run again by a waiting host when the host running it lost its connection', async () => {
    const fleet = fakeFleet();
    const by: string[] = [];
    const survey = defineStep({
      name: 'survey',
      async plan(ctx) {
        await ctx.play.once('survey', async () => {
          by.push(ctx.host.name);
          if (ctx.host.name === 'g1') throw new UnreachableError('g1', 'connection to g1 lost');
          await new Promise((r) => setTimeout(r, 1));
        });
        return [];
      },
    });
    const summary = await runPlaybook(definePlaybook({ name: 't', description: '', plays: [play('gw', 'gateway', {}, [survey])] }), {}, { inventory, transports: fleet.factory });
    expect(by).toEqual(['g1', 'g2']);
    expect(summary.nodes.find((n) => n.host === 'g2')).toMatchObject({ status: 'ok' });
  });
});

describe('interrupts', () => {
  it('once interrupted no step or node starts; the run exits 130 and puts back what a step left held', async () => {
    const interrupt = new Interrupt();
    const restored: string[] = [];
    const ctrlC = defineStep({
      name: 'drain and ctrl-c',
      async plan(ctx) {
        // Holds a server down and, as Ctrl-C arrives, never gets to put it back itself.
        await ctx.hold(`${ctx.host.name} drained`, () => ctx.run('drain'), async () => void restored.push(ctx.host.name));
        interrupt.request('SIGINT');
        return [];
      },
    });
    const { summary, node, fleet } = await run([play('gw', 'g1', {}, [ctrlC, step('after')]), play('later', 'g1')], {}, undefined, [], interrupt);
    expect(fleet.transports.get('g1')!.commands).toEqual(['drain']);
    expect(node('gw', 'g1')).toMatchObject({ status: 'skipped', reason: 'interrupted (SIGINT) before step "after"' });
    expect(node('later', 'g1')).toMatchObject({ status: 'skipped', reason: 'interrupted (SIGINT): not started' });
    expect(restored).toEqual(['g1']);
    expect(summary).toMatchObject({ interrupted: 'SIGINT', exitCode: 130 });
  });

  it('a host waiting for the leader does not take over run-once work after the interrupt', async () => {
    const interrupt = new Interrupt();
    const did: string[] = [];
    const route = defineStep({
      name: 'route',
      when: firstHostOfPlay,
      async plan(ctx) {
        did.push(ctx.host.name);
        interrupt.request('SIGINT');
        throw new Error('console refused'); // the leader fails: g2 would take over, but the run is stopping
      },
    });
    const { summary } = await run([play('gw', 'gateway', {}, [step('prepare'), route])], {}, undefined, [], interrupt);
    expect(did).toEqual(['g1']);
    expect(summary.results.find((r) => r.host === 'g2' && r.step === 'route')).toMatchObject({ status: 'skipped', reason: 'interrupted (SIGINT): not taking over run-once work' });
    expect(summary.exitCode).toBe(130);
  });

  it('a run interrupted before it starts runs nothing and exits 128 + the signal (SIGTERM: 143)', async () => {
    const interrupt = new Interrupt();
    interrupt.request('SIGTERM');
    const { summary } = await run([play('p', 'e1')], {}, undefined, [], interrupt);
    expect(summary.exitCode).toBe(143);
    expect(summary.results).toEqual([]);
  });
});
