// Real haproxy on loopback in front of two node backends: a backend killed under a bounded load costs no
// request (retries + redispatch), and the rolling-change helper drains a server through the admin socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { rollingChange, serverStats, serverStatsFact } from '../../ops/lb-drain.ts';
import { SOCKET_CLIENTS, parseServerStats, runtimeCommand, setServerState, SHOW_SERVERS, socketInput } from '../../ops/lb-runtime.ts';
import { renderHaproxyConfig } from '../../roles/lb/templates.ts';
import { probe } from '../../roles/verify/http.ts';
import { startLoad } from '../../roles/verify/load.ts';
import { waitFor } from '../../ops/retry.ts';
import { Backend, LB_ADDRESS, localContexts, PORTS, runHaproxy, tempDir } from './haproxy-fixture.ts';

const tmp = tempDir();
const { context, model } = localContexts(tmp.dir);
const lb = context('lb1');
const gw1 = new Backend('127.0.0.31', PORTS.gateway);
const gw2 = new Backend('127.0.0.32', PORTS.gateway);
const dash = new Backend('127.0.0.33', PORTS.dashboard);
let haproxy: { stop(): Promise<void> } | undefined;

beforeAll(async () => {
  await Promise.all([gw1.start(), gw2.start(), dash.start()]);
  haproxy = await runHaproxy(lb, renderHaproxyConfig(model()));
});

afterAll(async () => {
  await haproxy?.stop();
  await Promise.all([gw1.kill(), gw2.kill(), dash.kill()]);
  tmp.remove();
});

/** A steady load through the LB's data plane: 2 clients, a request every 20 ms each, at most 15 s. */
function dataPlaneLoad() {
  const target = probe({ host: LB_ADDRESS, port: PORTS.http, path: '/get', headers: { host: 'test.com' } });
  const load = startLoad({ send: target.send, concurrency: 2, intervalMs: 20, maxRequests: 3000, maxDurationMs: 15_000 });
  return { stop: () => load.stop().finally(target.close) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('haproxy in front of two gateways', () => {
  it('answers runtime API commands through each socket client the host may have', () => {
    const socket = String(lb.vars.lb_admin_socket);
    const clients = [SOCKET_CLIENTS.perl(socket), SOCKET_CLIENTS.python3(socket)];
    for (const command of clients) {
      const out = execFileSync('/bin/sh', ['-c', command], { input: socketInput([SHOW_SERVERS]) }).toString();
      expect(parseServerStats(out).map((s) => `${s.backend}/${s.server}`)).toContain('gateways_http/gw2');
    }
  });

  it("runs the lb role's own socket commands: show stat as a fact, set server as a planned command that fails on any answer", async () => {
    const socket = String(lb.vars.lb_admin_socket);
    const status = async () => (await lb.fact(serverStatsFact(socket), { fresh: true })).find((s) => s.backend === 'gateways_http' && s.server === 'gw2')?.status;
    expect(await status()).toBe('UP');
    await lb.run(runtimeCommand(socket, [setServerState('gateways_http', 'gw2', 'drain')]));
    expect(await status()).toBe('DRAIN');
    await lb.run(runtimeCommand(socket, [setServerState('gateways_http', 'gw2', 'ready')]));
    expect(await status()).toBe('UP');
    await expect(lb.run(runtimeCommand(socket, [setServerState('gateways_http', 'nosuch', 'ready')]))).rejects.toThrow(/haproxy answered: .*No such server/);
    await expect(lb.fact(serverStatsFact(`${socket}.absent`))).rejects.toThrow(/admin socket .*\.absent did not answer/);
  });

  it('loses no request when a gateway dies under load', async () => {
    const load = dataPlaneLoad();
    await sleep(1000);
    const before = gw1.hits;
    await gw1.kill();
    await sleep(4000); // long enough for the health checks to mark it down
    const stats = await load.stop();
    const down = (await serverStats(lb)).find((s) => s.backend === 'gateways_http' && s.server === 'gw1');
    expect(before).toBeGreaterThan(0); // gw1 was serving: its death was felt
    expect(down?.status).toMatch(/^DOWN/);
    expect(stats.sent).toBeGreaterThan(50);
    expect(stats).toMatchObject({ failed: 0, errors: {} });
    await gw1.start();
    await waitFor('gw1 back UP', 20, async () => {
      const s = (await serverStats(lb)).filter((r) => r.server === 'gw1');
      return s.every((r) => r.status === 'UP') || s.map((r) => r.status).join(',');
    });
  });

  it('drains a server for a rolling change, puts it back, and stops the roll after a failure', async () => {
    const load = dataPlaneLoad();
    let hitsDuringChange = -1;
    await rollingChange(context('gw1'), 'gateway', async () => {
      const drained = (await serverStats(lb)).filter((s) => s.server === 'gw1');
      expect(drained.map((s) => s.status)).toEqual(['DRAIN', 'DRAIN']);
      const start = gw1.hits;
      await gw1.kill(); // the "upgrade": down and up again while drained
      await sleep(1500);
      await gw1.start();
      hitsDuringChange = gw1.hits - start;
    });
    const after = (await serverStats(lb)).filter((s) => s.server === 'gw1');
    const stats = await load.stop();
    expect(hitsDuringChange).toBe(0);
    expect(after.map((s) => s.status)).toEqual(['UP', 'UP']);
    expect(stats).toMatchObject({ failed: 0 });

    let touched = false;
    await expect(rollingChange(context('gw2'), 'gateway', async () => Promise.reject(new Error('image missing')))).rejects.toThrow('image missing');
    await expect(rollingChange(context('gw1'), 'gateway', async () => void (touched = true))).rejects.toThrow(
      /rolling change stopped: gw2 failed before this host; left untouched/,
    );
    expect(touched).toBe(false);
    // The failed host is back to ready: health checks, not a forgotten drain, decide whether it serves.
    expect((await serverStats(lb)).filter((s) => s.server === 'gw2').map((s) => s.status)).toEqual(['UP', 'UP']);
  });
});
