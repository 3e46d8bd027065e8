// Load balancers: HAProxy in front of the control plane (dashboards, port 9000) and the data plane
// (gateways, 80 and 443 passed through), with health checks, retries and an admin socket for rolling changes.
// Converged, a host costs one batched read (the facts below, `show stat` among them): with nothing changed
// since, the last two steps look at that read; after a change they read the socket again.
import { ensureFile, fileFact } from '../../lib/files.ts';
import { settlingReads } from '../../lib/facts.ts';
import { defineRole, defineStep, type Change } from '../../lib/types.ts';
import { stackVars } from '../../vars/schema.ts';
import { haproxyConnectAnyFact, haproxyFact } from '../../facts/haproxy.ts';
import { osFact } from '../../facts/os.ts';
import { BACKENDS_OF_GROUP } from '../../ops/layout.ts';
import { serverStatsFact } from '../../ops/lb-drain.ts';
import { leftOutOfRotation, outOfRotationAs, runtimeCommand, restoreServerWeight, setServerState, type ServerStat } from '../../ops/lb-runtime.ts';
import { waitFor } from '../../ops/retry.ts';
import { allowConnectAny, installHaproxy, startHaproxy } from './commands.ts';
import { installConfig, reloadConfig, wantedConfig } from './config.ts';

export default defineRole({
  name: 'lb',
  facts: (ctx) => [haproxyFact, haproxyConnectAnyFact, fileFact(stackVars(ctx).lb_config_file, true), serverStatsFact(stackVars(ctx).lb_admin_socket)],
  steps: [
    defineStep({
      name: 'haproxy package',
      async plan(ctx) {
        if ((await ctx.fact(haproxyFact)).version) return [];
        const { packageManager, prettyName } = await ctx.fact(osFact);
        if (!packageManager) throw new Error(`${prettyName}: no apt-get, dnf or yum to install haproxy with`);
        return [{ summary: `install haproxy (${packageManager})`, commands: [{ command: installHaproxy(packageManager), become: true, timeoutMs: 600_000 }] }];
      },
      async verify(ctx) {
        const known = await ctx.fact(haproxyFact);
        if (known.version) return;
        // Just installed: read again what the package changed (it may have started the service and written its own haproxy.cfg).
        const { version } = await ctx.fact(haproxyFact, { fresh: true });
        if (!version) throw new Error('haproxy is still not installed');
        await ctx.fact(fileFact(stackVars(ctx).lb_config_file, true), { fresh: true });
        ctx.log(`haproxy ${version}`);
      },
    }),

    defineStep({
      name: 'SELinux lets haproxy reach the backends',
      when: async (ctx) => (await ctx.fact(haproxyConnectAnyFact)).mode === 'Enforcing' || 'SELinux is not enforcing',
      async plan(ctx) {
        if ((await ctx.fact(haproxyConnectAnyFact)).connectAny) return [];
        return [{ summary: allowConnectAny, commands: [allowConnectAny] }];
      },
    }),

    defineStep({
      name: 'haproxy.cfg (checked by haproxy -c, reload on change)',
      async plan(ctx) {
        const path = stackVars(ctx).lb_config_file;
        const content = await wantedConfig(ctx);
        const file = await ensureFile(ctx, { path, content, mode: 0o644, owner: 'root:root', become: true });
        if (file.length === 0) return [];
        // Any difference, content or attributes, goes through validation: the candidate replaces the file only when haproxy accepts it.
        const summary = file.map((c) => c.summary).join('; ') + ' (validated with haproxy -c first)';
        const diff = file.map((c) => c.diff).filter(Boolean).join('\n') || undefined;
        const haproxy = await ctx.fact(haproxyFact);
        return [installConfig(ctx, path, content, summary, diff), ...(haproxy.running ? [reloadConfig(ctx, haproxy.serviceManager)] : [])];
      },
    }),

    // A rolling change puts its server back in a `finally`, and on Ctrl-C; a controller killed mid-change cannot.
    // Whatever is left drained or in maintenance is drift: back to ready, where the health checks decide again.
    defineStep({
      name: 'no server left drained or in maintenance',
      async plan(ctx) {
        if (!(await ctx.fact(haproxyFact)).running) return []; // started next, every server ready
        const socket = stackVars(ctx).lb_admin_socket;
        return readyAgain(socket, await ctx.fact(serverStatsFact(socket), { current: true }));
      },
    }),

    defineStep({
      name: 'haproxy running, started at boot',
      async plan(ctx) {
        const haproxy = await ctx.fact(haproxyFact);
        if (haproxy.running && haproxy.enabled) return [];
        return [{ summary: haproxy.running ? 'enable haproxy at boot' : 'start haproxy', commands: [startHaproxy(haproxy.serviceManager)] }];
      },
      // Every backend server passes its health check: the LB can serve the whole stack. The first look is the
      // last read when nothing changed since; only while something is not up yet is it read again.
      async verify(ctx) {
        const v = stackVars(ctx);
        const stats = settlingReads((opts) => ctx.fact(serverStatsFact(v.lb_admin_socket), opts));
        let lost: string[] = [];
        await waitFor(`${ctx.host.name}: haproxy backends`, v.lb_ready_timeout_s, async () => {
          const ready = backendsReady(await stats(), (server) => ctx.unreachable(server));
          if (typeof ready === 'string') return ready;
          lost = ready.lost;
          return true;
        });
        if (lost.length) ctx.warn(`${ctx.host.name} serves without ${lost.join(', ')}: unreachable in this run, marked down by the health checks`);
      },
    }),
  ],
});

/**
 * `set server ... state ready` and its configured weight back, for each of our servers left drained, in
 * maintenance or at a weight of 0.
 */
function readyAgain(socket: string, stats: ServerStat[]): Change[] {
  return leftOutOfRotation(stats, Object.values(BACKENDS_OF_GROUP).flat()).map((s) => ({
    summary: `ready ${s.backend}/${s.server} (was ${outOfRotationAs(s)})`,
    commands: [runtimeCommand(socket, [setServerState(s.backend, s.server, 'ready'), restoreServerWeight(s.backend, s.server)])],
  }));
}

/**
 * Every server up (or drained: its checks pass), but for servers on hosts found unreachable in this run while
 * their backend keeps one up: a known loss the health checks took out, `lost` (named in a warning, not waited for).
 */
export function backendsReady(stats: ServerStat[], unreachable: (server: string) => boolean): { lost: string[] } | string {
  const up = (s: ServerStat) => /^(UP|DRAIN)/.test(s.status);
  const excused = (s: ServerStat) => unreachable(s.server) && stats.some((o) => o.backend === s.backend && up(o));
  const down = stats.filter((s) => !up(s));
  const waiting = down.filter((s) => !excused(s));
  if (waiting.length) return waiting.map((s) => `${s.backend}/${s.server} ${s.status} (${s.check})`).join(', ');
  return { lost: down.map((s) => `${s.backend}/${s.server}`) };
}
