// etcd safety on the shared lab (issue 9, items 1-3), after 30-lb-verify. Each case breaks one thing the way
// real fleets do and puts the lab back (etcd playbook, then 0 changed); afterAll reruns site if a case could not.
//  a) dockerd hung (SIGSTOP) on lab2 during a spec change: the run fails naming lab2 and changes nothing
//  b) etcd_data_dir changed and back: every member's data moves, a canary key survives, never < 2 healthy
//  c) an etcd image whose etcd exits: the rolling change stops after the first member, 2/3 stay healthy
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { freezeDocker, sshOptions, thawDocker } from '../../lab/index.ts';
import { cliRunner, DASHBOARD_PASSWORD, etcdctl, ip, onHost, type Report } from './helpers.ts';

const play = cliRunner('40', ['-e', `dashboard_admin_password=${DASHBOARD_PASSWORD}`]);
const etcdPlay = (...flags: string[]) => play('etcd', ...flags);

const ETCD_HOSTS = ['lab1', 'lab2', 'lab3'];
const DEFAULT_DIR = '/usr/local/etcd/etcd_data';
const E2E_ROOT = '/var/lib/gw-etcd-e2e';
const E2E_DIR = `${E2E_ROOT}/etcd_data`;
const BROKEN_IMAGE = 'gatewright/etcd:e2e-broken';

const changed = (r: Report) => r.results.filter((x) => x.status === 'changed').map((x) => `${x.host} ${x.play} › ${x.step}`);
const memberStep = (r: Report, host: string) => r.results.find((x) => x.host === host && x.play === 'etcd' && x.step === 'etcd member');
const own = (host: string) => ({ endpoints: `http://${ip(host)}:2379` });
const inspect = (host: string, format: string) => onHost(host, `sudo docker inspect -f '${format}' etcd`).out;
const dataMount = (host: string) => inspect(host, '{{range .Mounts}}{{if eq .Destination "/etcd_data"}}{{.Source}}{{end}}{{end}}');
const memberIds = () => etcdctl('lab1', 'member list').out.split('\n').map((l) => l.split(', ').slice(0, 3).join(', ')).sort();
const healthyCount = (from: string) => (etcdctl(from, 'endpoint health').out.match(/ is healthy: /g) ?? []).length;

/** A case that leaves the lab changed sets this until it has put it back; afterAll then reruns site. */
let dirty = false;

async function expectConverged(): Promise<void> {
  const again = await etcdPlay();
  expect(again.exitCode, JSON.stringify(again.errors)).toBe(0);
  expect(changed(again)).toEqual([]);
  expect(healthyCount('lab1')).toBe(3);
}

/**
 * How many of the three members answer /health, sampled from lab4 (a stack host, not an etcd member, so a
 * member being restarted does not take the sampler down) about every 0.5 s until `stop`.
 */
function sampleHealth(): { stop: () => Promise<number[]> } {
  const urls = ETCD_HOSTS.map((h) => `http://${ip(h)}:2379/health`).join(' ');
  // Bounded: 2400 samples at most, and the loop ends with the SSH session (its next echo fails).
  const script = `i=0; while [ $i -lt 2400 ]; do n=0; for u in ${urls}; do if curl -s -m 1 "$u" | grep -q '"health":"true"'; then n=$((n+1)); fi; done; echo "sample $n"; sleep 0.5; i=$((i+1)); done`;
  const child = spawn('ssh', [...sshOptions(), `ops@${ip('lab4')}`, script], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((ok) => child.on('close', () => ok()));
  return {
    async stop() {
      child.kill('SIGTERM');
      await closed;
      return [...out.matchAll(/^sample (\d)$/gm)].map((m) => Number(m[1]));
    },
  };
}

afterAll(async () => {
  etcdctl('lab1', 'del --prefix /gatewright-e2e/canary-40');
  for (const h of ETCD_HOSTS) {
    // The image is removed once no container uses it; the e2e data dir only once it holds no member.
    onHost(h, `sudo docker rmi ${BROKEN_IMAGE} >/dev/null 2>&1; [ -d ${E2E_DIR}/member ] || sudo rm -rf ${E2E_ROOT}`);
  }
  if (!dirty) return;
  const r = await play('site');
  expect(r.exitCode, JSON.stringify(r.errors)).toBe(0);
});

describe('etcd safety under real faults (issue 9)', () => {
  it('a) a hung dockerd on lab2 during an etcd spec change fails the run naming lab2 and removes, wipes and restarts nothing', async () => {
    expect(etcdctl('lab1', 'put /gatewright-e2e/canary-40a kept-a').code).toBe(0);
    const members = memberIds();
    expect(members).toHaveLength(3);
    const started = ETCD_HOSTS.map((h) => inspect(h, '{{.State.StartedAt}}'));

    dirty = true;
    await freezeDocker('lab2');
    // A new cluster token is a spec change: lab1 and lab3 would be recreated if lab2's state were not unknown.
    const r = await etcdPlay('-e', 'etcd_cluster_token=gw-e2e-frozen', '-e', 'command_timeout=30').finally(() => thawDocker('lab2'));
    expect(r.exitCode).toBe(2);
    expect(r.errors.some((e) => e.host === 'lab2'), JSON.stringify(r.errors)).toBe(true);
    for (const h of ['lab1', 'lab3']) {
      const step = memberStep(r, h);
      expect(step?.status, JSON.stringify(r.errors)).toBe('failed');
      expect(step?.reason).toMatch(/needs a change but the state of lab2 \(its survey .*timed out.*\) could not be read\. Nothing was changed on any member/);
    }

    // Nothing happened: same members, same containers (not restarted), the canary readable from lab2 alone.
    expect(memberIds()).toEqual(members);
    expect(ETCD_HOSTS.map((h) => inspect(h, '{{.State.StartedAt}}'))).toEqual(started);
    expect(etcdctl('lab2', 'get --print-value-only /gatewright-e2e/canary-40a', own('lab2')).out).toBe('kept-a');
    await expectConverged();
    dirty = false;
  });

  it('b) a changed etcd_data_dir moves each member\'s data one at a time (a canary survives, never fewer than 2 healthy), and back', async () => {
    expect(etcdctl('lab1', 'put /gatewright-e2e/canary-40b kept-b').code).toBe(0);
    const members = memberIds();

    for (const [dir, flags] of [[E2E_DIR, ['-e', `etcd_data_dir=${E2E_DIR}`]], [DEFAULT_DIR, []]] as const) {
      dirty = true;
      const sampler = sampleHealth();
      const r = await etcdPlay(...flags);
      const samples = await sampler.stop();
      expect(r.exitCode, JSON.stringify(r.errors)).toBe(0);
      for (const h of ETCD_HOSTS) {
        expect(memberStep(r, h)?.changes.join(' ')).toMatch(new RegExp(`move etcd member ${h}'s data from \\S+ to ${dir}, one member at a time`));
        expect(dataMount(h)).toBe(dir);
        expect(onHost(h, `sudo test -d ${dir}/member`).code).toBe(0);
      }
      // Never a new cluster: the same member IDs, the canary on every member.
      expect(memberIds()).toEqual(members);
      for (const h of ETCD_HOSTS) expect(etcdctl(h, 'get --print-value-only /gatewright-e2e/canary-40b', own(h)).out).toBe('kept-b');
      expect(samples.length, 'health samples taken while the run went').toBeGreaterThan(3);
      expect(Math.min(...samples), `healthy members per sample: ${samples.join(' ')}`).toBeGreaterThanOrEqual(2);
    }
    for (const h of ETCD_HOSTS) expect(onHost(h, `sudo test -e ${E2E_DIR}/member`).code).not.toBe(0);
    await expectConverged();
    dirty = false;
  });

  it('c) an etcd image whose etcd exits: the rolling change stops after the first member, the other two keep the old container', async () => {
    const image = inspect('lab1', '{{.Config.Image}}');
    expect(image).toMatch(/^bitnami\/etcd:/);
    for (const h of ETCD_HOSTS) {
      // The real image with an entrypoint that exits at once.
      const build = `sudo docker rm -f gw-e2e-broken-src >/dev/null 2>&1; sudo docker create --name gw-e2e-broken-src ${image} >/dev/null && sudo docker commit --change 'ENTRYPOINT ["/bin/false"]' gw-e2e-broken-src ${BROKEN_IMAGE} >/dev/null && sudo docker rm gw-e2e-broken-src >/dev/null`;
      const b = onHost(h, build);
      expect(b.code, b.out).toBe(0);
    }
    const started = Object.fromEntries(ETCD_HOSTS.map((h) => [h, inspect(h, '{{.State.StartedAt}}')]));

    dirty = true;
    const r = await etcdPlay('-e', `etcd_image=${BROKEN_IMAGE}`, '-e', 'health_timeout=20');
    expect(r.exitCode).toBe(2);
    const failedGate = ETCD_HOSTS.filter((h) => new RegExp(`^etcd member ${h}: not healthy after 20 s`).test(memberStep(r, h)?.reason ?? ''));
    expect(failedGate, JSON.stringify(r.errors)).toHaveLength(1);
    const [first] = failedGate;
    const rest = ETCD_HOSTS.filter((h) => h !== first);
    for (const h of rest) {
      expect(memberStep(r, h)?.reason).toMatch(new RegExp(`not changing etcd member ${h}: the rolling change stopped at ${first}`));
      expect(inspect(h, '{{.Config.Image}}')).toBe(image);
      expect(inspect(h, '{{.State.StartedAt}}')).toBe(started[h]);
    }
    expect(inspect(first, '{{.Config.Image}}')).toBe(BROKEN_IMAGE);
    expect(healthyCount(rest[0])).toBe(2);

    // Restore: the run without the broken image recreates the first member only.
    const back = await etcdPlay();
    expect(back.exitCode, JSON.stringify(back.errors)).toBe(0);
    expect(changed(back)).toEqual([`${first} etcd › etcd member`]);
    expect(inspect(first, '{{.Config.Image}}')).toBe(image);
    await expectConverged();
    dirty = false;
  });
});
