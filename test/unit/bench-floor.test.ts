// The roles' floor replays each host's first batch as a run's log holds it: the script exactly, nothing after.
import { describe, expect, it } from 'vitest';
import { firstBatch, handRead, withoutHead } from '../../bench/floor.ts';
import { batchScript } from '../../lib/fact-batch.ts';
import { takeLockCmd } from '../../lib/lock.ts';
import { fakeInventory } from '../helpers/fake-transport.ts';

const LOG = [
  '2026-11-30T21:53:50.000Z == play preflight',
  "2026-11-30T21:53:50.584Z preflight $ n=gwfacts-6c29",
  'd=$(umask 077 && mktemp -d)',
  "  ( sh -c 'echo a' ) & p0=$!",
  "printf '%s end\\n' \"$n\"",
  '    exit 0 in 1.1 s',
  '  stdout:',
  '    (output hidden: secret)',
  '2026-11-30T21:53:51.000Z etcd $ n=gwfacts-later',
  'echo later',
].join('\n');

describe('firstBatch', () => {
  it('takes the first batch script of the log, its lines as they were sent, and stops at its exit line', () => {
    expect(firstBatch(LOG)).toBe(["n=gwfacts-6c29", 'd=$(umask 077 && mktemp -d)', "  ( sh -c 'echo a' ) & p0=$!", "printf '%s end\\n' \"$n\""].join('\n'));
  });

  it("leaves out the batch's head: replayed, the run lock's take would lock the host for a run that has ended", () => {
    const script = batchScript(['echo a'], 'gwfacts-6c29', { head: takeLockCmd('gatewright site run by me@here (pid 1) since 2026-12-01T00:00:00.000Z') });
    const log = `2026-11-30T21:53:50.584Z preflight $ ${script}\n    exit 0 in 1.1 s`;
    expect(firstBatch(log)).toBe(batchScript(['echo a'], 'gwfacts-6c29'));
    expect(() => withoutHead("n=x\nprintf '%s head out\\n' \"$n\"; echo")).toThrow(/without the check/);
  });

  it('a log without a batch (a host that read nothing): undefined, and that host reads nothing in the floor', () => {
    expect(firstBatch('2026-11-30T21:53:50.000Z == play preflight\n2026-11-30T21:53:50.100Z preflight $ uname -r\n    exit 0 in 0.1 s')).toBeUndefined();
  });
});

describe('handRead', () => {
  // The lab's groups.
  const inventory = fakeInventory({ etcd: ['lab1', 'lab2', 'lab3'], control: ['lab1', 'lab2'], gateway: ['lab4', 'lab5'], lb: ['lb1'], upstream: ['upstream1'] });
  const parts = (host: string) => handRead(inventory, host).split('\n');
  const has = (host: string, ...words: string[]) => words.every((w) => parts(host).some((p) => p.includes(w)));

  it('reads on every host what a converged check looks at: system, time, SELinux, ports, firewall, the engine', () => {
    for (const host of inventory.hosts.keys()) expect(has(host, '/etc/os-release', 'timedatectl', 'getenforce', 'ss -ltnpH', 'iptables -S INPUT', 'docker ps -a', 'docker inspect'), host).toBe(true);
  });

  it('adds by group: images, bundles and configs on stack hosts, the cluster once, the auth probe per member, health, HAProxy', () => {
    expect(has('lab1', 'docker image ls', 'gatewright-sha256', 'sha256sum /opt/api7', 'endpoint health', 'member list', '/v3/auth/user/list', ':9000/ping')).toBe(true);
    expect(has('lab2', '/v3/auth/user/list', ':9000/ping')).toBe(true);
    expect(has('lab2', 'endpoint health')).toBe(false);
    expect(has('lab4', '9091/apisix/prometheus/metrics', 'sha256sum /opt/api7')).toBe(true);
    expect(has('lab4', '/v3/auth/user/list')).toBe(false);
    expect(has('lb1', 'show stat', '/etc/haproxy/haproxy.cfg')).toBe(true);
    expect(has('upstream1', 'docker image ls')).toBe(false);
  });

  it('runs its parts side by side and waits for all of them', () => {
    expect(parts('lab1').at(-1)).toBe('wait');
    expect(parts('lab1').slice(0, -1).every((p) => p.endsWith(' 2>/dev/null &'))).toBe(true);
  });
});
