// The smoke role on scripted hosts: a console API that holds (or not) the guide's route, gateways that serve
// it (or not). Facts in (what the API and gateways answer), calls out (every one `curl -K -`, its URL and
// method in the config on stdin, never in argv).
import { describe, expect, it } from 'vitest';
import { runPlaybook } from '../../lib/runner.ts';
import { definePlaybook, defineRole, defineStep, type Vars } from '../../lib/types.ts';
import { stackVariables } from '../../vars/schema.ts';
import smoke, { SMOKE_ROUTE_ID } from '../../roles/smoke/index.ts';
import { clusterPath, controlPlane } from '../../ops/admin-api.ts';
import { READS_MARK } from '../../ops/console-session.ts';
import { fakeFleet, fakeInventory, type Responder } from '../helpers/fake-transport.ts';

const ADDR: Record<string, string> = { lab1: '10.77.0.11', lab2: '10.77.0.12', lab4: '10.77.0.14', lab5: '10.77.0.15', upstream1: '10.77.0.30' };
const ROUTE = `/apisix/admin/routes/${SMOKE_ROUTE_ID}?cluster_id=default`;
const WANTED = { uri: '/get', host: 'test.com', upstream: { type: 'roundrobin', nodes: { '10.77.0.30:80': 1 } } };

interface Stack {
  /** Control hosts whose console refuses the login. */
  loginFails?: string[];
  /** The route the console holds (undefined: none, 404), or an HTTP error for the GET. */
  route?: Record<string, unknown> | number;
  putStatus?: number;
  /** Gateways that do not serve the route (404). */
  gatewaysWithout?: string[];
}

function inventory(vars: Vars = {}) {
  const all = { smoke_route_enabled: true, dashboard_admin_password: 'Dashboard-pw', health_timeout: 1, ...vars };
  const hostVars = Object.fromEntries(Object.entries(ADDR).map(([h, a]) => [h, { ansible_host: a, ...all }]));
  return fakeInventory({ control: ['lab1', 'lab2'], gateway: ['lab4', 'lab5'], upstream: ['upstream1'] }, hostVars);
}

/** A console and gateways answering curl configs; `calls` gets `<host> <METHOD> <url>` for each. */
function scripted(stack: Stack, calls: string[]): Responder {
  return (command, host, opts) => {
    if (command.startsWith('curl -sS')) {
      // The check through every gateway in one command (curlSeqCmd): each answer in turn, as curl prints it.
      const out = command.split(' && ').map((one) => {
        const url = / -- (\S+)$/.exec(one)![1];
        calls.push(`${host} GET ${url}`);
        const gw = Object.entries(ADDR).find(([, a]) => url.startsWith(`http://${a}:80/`))?.[0];
        const served = gw && stack.route && !stack.gatewaysWithout?.includes(gw);
        return served ? '{"url":"http://test.com/get"}\n__gatewright_status__:200' : '{"error_msg":"404 Route Not Found"}\n__gatewright_status__:404';
      });
      return { stdout: out.join('') };
    }
    if (command !== 'curl -K -') return undefined;
    const config = String(opts.stdin);
    const url = /^url = "(.*)"$/m.exec(config)![1];
    const method = /^request = "(.*)"$/m.exec(config)![1];
    calls.push(`${host} ${method} ${url}`);
    const reply = (status: number, body: unknown) => ({ stdout: `${JSON.stringify(body)}\n__gatewright_status__:${status}` });
    if (url.endsWith('/apisix/admin/user/login')) {
      if (stack.loginFails?.includes(host)) return reply(401, { message: 'wrong password' });
      expect(config).toContain('Dashboard-pw'); // the password travels on stdin
      return reply(200, { data: { token: 'tok-123' } });
    }
    if (url.includes('/apisix/admin/routes/')) {
      expect(config).toContain('header = "Authorization: tok-123"');
      if (method === 'PUT') {
        stack.route = JSON.parse(JSON.parse(`"${/^data-binary = "(.*)"$/m.exec(config)![1]}"`)) as Record<string, unknown>;
        return reply(stack.putStatus ?? 200, { data: stack.route });
      }
      if (typeof stack.route === 'number') return reply(stack.route, { message: 'etcd unavailable' });
      return stack.route ? reply(200, { data: { ...stack.route, id: SMOKE_ROUTE_ID, create_time: 1 } }) : reply(404, { message: 'not found' });
    }
    const gw = Object.entries(ADDR).find(([, a]) => url.startsWith(`http://${a}:80/`))?.[0];
    if (gw && stack.route && !stack.gatewaysWithout?.includes(gw)) return reply(200, { url: 'http://test.com/get' });
    return { stdout: '{"error_msg":"404 Route Not Found"}\n__gatewright_status__:404' };
  };
}

const playbook = definePlaybook({ name: 'smoke', description: '', variables: stackVariables, plays: [{ name: 'smoke', hosts: 'control', role: smoke, runOnce: true }] });

async function run(stack: Stack, { check = false, vars = {} }: { check?: boolean; vars?: Vars } = {}) {
  const calls: string[] = [];
  const fleet = fakeFleet(scripted(stack, calls));
  const summary = await runPlaybook(playbook, { check }, { inventory: inventory(vars), transports: fleet.factory });
  const argv = [...fleet.transports.values()].flatMap((t) => t.commands);
  return { result: summary.results.find((r) => r.host === 'lab1')!, calls, argv, summary };
}

const LOGIN = (h: string) => `${h} POST http://${ADDR[h]}:9000/apisix/admin/user/login`;
// The console read: the first GET asks for all a converged site reads (ops/admin-api.ts consoleReads), in one curl.
const GET = [
  'lab1 GET http://10.77.0.11:9000/apisix/admin/clusters/default',
  'lab1 GET http://10.77.0.11:9000/apisix/admin/routes/gatewright-probe?cluster_id=default',
  `lab1 GET http://10.77.0.11:9000${ROUTE}`,
];
const PUT = `lab1 PUT http://10.77.0.11:9000${ROUTE}`;
const THROUGH = ['lab1 GET http://10.77.0.14:80/get', 'lab1 GET http://10.77.0.15:80/get'];

describe('smoke role: converged', () => {
  it('the route is there and every gateway serves it: ok, for a login, a GET, and the check read with the host\'s facts', async () => {
    const { result, calls, argv } = await run({ route: WANTED });
    expect(result).toMatchObject({ status: 'ok', changes: [] });
    // The check through every gateway is a fact: read before the steps (in a site, in the host's batch), and
    // current at the verify since nothing changed.
    expect(calls).toEqual([...THROUGH, LOGIN('lab1'), ...GET]);
    // The login and the GETs in one command: the password on its stdin, the token passed on the host.
    const session = argv.filter((c) => c.includes(READS_MARK));
    expect(session).toHaveLength(1);
    expect(session[0]).not.toMatch(/tok-123|Dashboard-pw/);
    const check = argv.filter((c) => !c.includes(READS_MARK));
    expect(check).toEqual([expect.stringMatching(/^curl -sS .*10\.77\.0\.14:80\/get && curl -sS .*10\.77\.0\.15:80\/get$/)]);
    expect(check[0]).not.toMatch(/tok-123|Dashboard-pw/);
  });
});

describe('smoke role: each drift (the route absent or different) is one PUT', () => {
  const rows: [string, Stack][] = [
    ['no route yet (fresh stack)', {}],
    ['the route points at another upstream', { route: { ...WANTED, upstream: { type: 'roundrobin', nodes: { '10.77.0.31:80': 1 } } } }],
    ['the route matches another Host', { route: { ...WANTED, host: 'other.example' } }],
  ];

  it.each(rows)('%s: --check plans it and calls no PUT', async (_, stack) => {
    const { result, calls } = await run(stack, { check: true });
    expect(result).toMatchObject({ status: 'changed', changes: [`route ${SMOKE_ROUTE_ID}: Host test.com /get -> 10.77.0.30:80 via lab1`] });
    expect(calls).toEqual([...THROUGH, LOGIN('lab1'), ...GET]);
  });

  it.each(rows)('%s: applied, then proven through every gateway', async (_, stack) => {
    const { result, calls } = await run(stack);
    expect(result).toMatchObject({ status: 'changed' });
    // The PUT is a change: the check read before it is not current, so it is asked again.
    expect(calls).toEqual([...THROUGH, LOGIN('lab1'), ...GET, PUT, ...THROUGH]);
    expect(stack.route).toEqual(WANTED);
  });

  it('the first console refuses the login: the next control host writes it', async () => {
    const { result, calls } = await run({ loginFails: ['lab1'] });
    expect(result).toMatchObject({ status: 'changed', changes: [`route ${SMOKE_ROUTE_ID}: Host test.com /get -> 10.77.0.30:80 via lab2`] });
    expect(calls.slice(2, 4)).toEqual([LOGIN('lab1'), LOGIN('lab2')]);
  });
});

describe('smoke role: skipped', () => {
  it.each([
    ['smoke_route_enabled off', { smoke_route_enabled: false }, 'smoke_route_enabled is off'],
    ['no upstream hosts', { upstream_group: 'nosuch' }, 'group nosuch has no hosts'],
  ] as const)('%s: says why and calls nothing', async (_, vars, reason) => {
    const { result, calls } = await run({}, { vars });
    expect(result).toMatchObject({ status: 'skipped', reason });
    expect(calls).toEqual([]);
  });
});

describe("smoke role: the console API's failures are warnings, never a failed deploy", () => {
  it.each([
    ['no console answers a login (HTTP 401)', { loginFails: ['lab1', 'lab2'] }, 'ok', /no dashboard answered a login: lab1: dashboard login on lab1 failed \(HTTP 401\)/, [...THROUGH, LOGIN('lab1'), LOGIN('lab2')]],
    ['the GET fails (not "no route")', { route: 503 }, 'ok', /GET \/apisix\/admin\/routes\/gatewright-smoke\?cluster_id=default on lab1: HTTP 503/, [...THROUGH, LOGIN('lab1'), ...GET]],
    ['the PUT is refused', { putStatus: 400 }, 'changed', /PUT \/apisix\/admin\/routes\/gatewright-smoke\?cluster_id=default on lab1: HTTP 400/, [...THROUGH, LOGIN('lab1'), ...GET, PUT]],
  ] as [string, Stack, string, RegExp, string[]][])('%s: a warning naming it, the check through the gateways skipped, exit 0', async (_, stack, status, why, want) => {
    const { result, summary, calls } = await run(stack);
    expect(result).toMatchObject({ host: 'lab1', step: 'smoke route through the control plane', status });
    expect(summary.exitCode).toBe(0);
    expect(summary.warnings).toHaveLength(1);
    expect(summary.warnings![0]).toMatchObject({ play: 'smoke', host: 'lab1' });
    expect(summary.warnings![0].message).toMatch(/^smoke route through the control plane on lab1: the console API did not do it \(/);
    expect(summary.warnings![0].message).toMatch(why);
    expect(summary.warnings![0].message).toMatch(/, and its check is skipped; the deploy goes on without it$/);
    expect(calls).toEqual(want); // no request through a gateway after the failed write (the fact was read before)
  });
});

describe('smoke role: a written route a gateway does not serve fails the step', () => {
  it('names the gateway and what it answered', async () => {
    const { result, summary } = await run({ route: WANTED, gatewaysWithout: ['lab5'] });
    expect(result).toMatchObject({
      host: 'lab1', step: 'smoke route through the control plane', status: 'failed',
      reason: expect.stringMatching(/smoke route through lab5: not healthy after 1 s \(last: GET http:\/\/10\.77\.0\.15:80\/get answered 404/),
    });
    expect(summary.exitCode).not.toBe(0);
    expect(summary.warnings ?? []).toEqual([]);
  });
});

describe('smoke role: a gateway host found unreachable in this run', () => {
  it('is named in a warning and not waited for; the route is checked through the others', async () => {
    const touch = defineRole({ name: 'gw', steps: [defineStep({ name: 'touch', plan: async (ctx) => (await ctx.run('true'), []) })] });
    const site = definePlaybook({
      name: 'site',
      description: '',
      variables: stackVariables,
      plays: [
        { name: 'gateway', hosts: 'gateway', role: touch },
        { name: 'smoke', hosts: 'control', role: smoke, runOnce: true, needs: [{ play: 'gateway', scope: 'alive' }] },
      ],
    });
    const calls: string[] = [];
    const fleet = fakeFleet(scripted({ route: WANTED }, calls), ['lab4']);
    const summary = await runPlaybook(site, {}, { inventory: inventory(), transports: fleet.factory });
    expect(summary.results.find((r) => r.play === 'smoke' && r.host === 'lab1')).toMatchObject({ status: 'ok' });
    // The fact asked both at the start; with lab4 gone the verify asks the live one alone.
    expect(calls).toEqual([...THROUGH, LOGIN('lab1'), ...GET, THROUGH[1]]);
    expect(summary.warnings?.map((w) => w.message)).toEqual(['smoke route not checked through lab4: unreachable in this run']);
    expect(summary.exitCode).toBe(3);
  });
});

describe('the console read, shared by the plays of a run', () => {
  // A play before smoke that asks the console for the cluster, as the dashboard role does, and may change a file.
  const before = (change: boolean) =>
    defineRole({
      name: 'dashboard-like',
      steps: [
        defineStep({
          name: 'GET the cluster',
          async plan(ctx) {
            await (await controlPlane(ctx)).get(clusterPath('default'));
            return change ? [{ summary: 'a change', apply: async () => {} }] : [];
          },
        }),
      ],
    });
  const twoPlays = (change: boolean) =>
    definePlaybook({
      name: 'two',
      description: '',
      variables: stackVariables,
      plays: [
        { name: 'first', hosts: 'control', role: before(change), runOnce: true },
        { name: 'smoke', hosts: 'control', role: smoke, runOnce: true, needs: [{ play: 'first', scope: 'all' }] },
      ],
    });
  async function runTwo(change: boolean) {
    const calls: string[] = [];
    const fleet = fakeFleet(scripted({ route: WANTED }, calls));
    const summary = await runPlaybook(twoPlays(change), {}, { inventory: inventory(), transports: fleet.factory });
    return { calls, summary };
  }

  it('nothing changed since the first play asked: smoke takes that answer, no second GET', async () => {
    const { calls, summary } = await runTwo(false);
    expect(summary.exitCode).toBe(0);
    expect(calls).toEqual([...THROUGH, LOGIN('lab1'), ...GET]);
  });

  it('a change in between: smoke reads the console again (all of it, with a login, in one command)', async () => {
    const { calls, summary } = await runTwo(true);
    expect(summary.exitCode).toBe(0);
    // smoke's own facts are read again as its play starts (a change made them stale), then its GET, which comes
    // with a login of its own: the login and the GETs are one command (ops/console-session.ts).
    expect(calls).toEqual([...THROUGH, LOGIN('lab1'), ...GET, ...THROUGH, LOGIN('lab1'), ...GET]);
  });
});
