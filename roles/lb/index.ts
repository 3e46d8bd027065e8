// Load balancers: HAProxy in front of the control plane (dashboards, port 9000) and the data plane
// (gateways, 80 and 443 passed through), with health checks, retries and an admin socket for rolling changes.
import { defineRole, defineStep } from '../../lib/types.ts';
import { waitFor } from '../../ops/retry.ts';
import { osFact } from '../../facts/os.ts';
import { selinuxFact } from '../../facts/selinux.ts';
import { installHaproxy, startHaproxy } from './commands.ts';
import { planHaproxyConfig } from './config.ts';
import { runtimeApi, serverStats } from '../../ops/lb-drain.ts';
import { haproxyFact } from '../../facts/haproxy.ts';
import { LB_DEFAULTS } from '../../ops/defaults.ts';
import { BACKENDS_OF_GROUP } from '../../ops/layout.ts';
import { leftOutOfRotation, setServerState, socketErrors } from '../../ops/lb-runtime.ts';

const installed = defineStep({
  name: 'haproxy package',
  async plan(ctx) {
    if ((await ctx.fact(haproxyFact)).version) return [];
    const { packageManager, prettyName } = await ctx.fact(osFact);
    if (!packageManager) throw new Error(`${prettyName}: no apt-get, dnf or yum to install haproxy with`);
    return [
      {
        summary: `install haproxy (${packageManager})`,
        apply: async () => void (await ctx.run(installHaproxy(packageManager), { become: true, timeoutMs: 600_000 })),
      },
    ];
  },
  async verify(ctx) {
    const { version } = await ctx.fact(haproxyFact, { fresh: true });
    if (!version) throw new Error('haproxy is still not installed');
    ctx.log(`haproxy ${version}`);
  },
});

// RHEL's policy lets haproxy connect only to its own ports; the dashboards and gateways listen elsewhere.
const selinux = defineStep({
  name: 'SELinux lets haproxy reach the backends',
  async when(ctx) {
    return (await ctx.fact(selinuxFact)).mode === 'Enforcing' || 'SELinux is not enforcing';
  },
  async plan(ctx) {
    const r = await ctx.run('getsebool haproxy_connect_any', { become: true, nothrow: true });
    if (/--> on/.test(r.stdout)) return [];
    return [
      {
        summary: 'setsebool -P haproxy_connect_any 1',
        apply: async () => void (await ctx.run('setsebool -P haproxy_connect_any 1', { become: true })),
      },
    ];
  },
});

const config = defineStep({ name: 'haproxy.cfg (checked by haproxy -c, reload on change)', plan: planHaproxyConfig });

// A rolling change puts its server back in a `finally`, and on Ctrl-C; a controller killed mid-change cannot.
// Whatever is left drained or in maintenance is drift: back to ready, where the health checks decide again.
const inRotation = defineStep({
  name: 'no server left drained or in maintenance',
  async plan(ctx) {
    if (!(await ctx.fact(haproxyFact)).running) return []; // started next, every server ready
    const backends = Object.values(BACKENDS_OF_GROUP).flat();
    const left = leftOutOfRotation(await serverStats(ctx), backends);
    return left.map((s) => ({
      summary: `ready ${s.backend}/${s.server} (was ${s.status})`,
      async apply() {
        const errors = socketErrors(await runtimeApi(ctx, [setServerState(s.backend, s.server, 'ready')]));
        if (errors.length) throw new Error(`haproxy refused "ready" for ${s.backend}/${s.server}: ${errors.join('; ')}`);
      },
    }));
  },
});

const running = defineStep({
  name: 'haproxy running, started at boot',
  async plan(ctx) {
    const haproxy = await ctx.fact(haproxyFact, { fresh: true });
    if (haproxy.running && haproxy.enabled) return [];
    return [
      {
        summary: haproxy.running ? 'enable haproxy at boot' : 'start haproxy',
        apply: async () => void (await ctx.run(startHaproxy(haproxy.serviceManager), { become: true })),
      },
    ];
  },
  // Every backend server passes its health check: the LB can serve the whole stack.
  async verify(ctx) {
    await waitFor(`${ctx.host.name}: haproxy backends`, Number(ctx.vars.lb_ready_timeout_s), async () => {
      const down = (await serverStats(ctx)).filter((s) => !/^(UP|DRAIN)/.test(s.status));
      return down.length === 0 || down.map((s) => `${s.backend}/${s.server} ${s.status} (${s.check})`).join(', ');
    });
  },
});

export default defineRole({
  name: 'lb',
  defaults: { ...LB_DEFAULTS },
  steps: [installed, selinux, config, inRotation, running],
});
