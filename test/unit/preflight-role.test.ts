// The preflight role on scripted hosts: facts in, findings and planned commands out. Its whole look is one
// batched read per host; a converged host is sent nothing else.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../../lib/types.ts';
import preflight, { UNNAMED_HOLDER_READS } from '../../roles/preflight/index.ts';
import { containersFact, firewallFact, listenersFact } from '../../roles/preflight/network-facts.ts';
import { dockerFact } from '../../facts/docker.ts';
import { haproxyFact, haproxyTooOld } from '../../facts/haproxy.ts';
import { machineFact, osFact, timeSyncFact } from '../../facts/os.ts';
import { selinuxFact } from '../../facts/selinux.ts';
import { batchCommands, runRole } from '../helpers/role-fleet.ts';

const DEBIAN = JSON.parse(readFileSync(new URL('./fixtures/facts/debian12.json', import.meta.url), 'utf8')) as Record<string, string>;
const GATEWAY_ID = 'c'.repeat(64);

/** What a host answers, per fact; `disk` is the df line of every data directory. */
interface HostFacts {
  os: string;
  machine: string;
  disk: string;
  time: string;
  docker: string;
  selinux: string;
  listeners: string;
  containers: string;
  firewall: string;
  /** haproxy's version and service state (read on LB hosts only). */
  haproxy: string;
}

/** A lab gateway, converged: Docker running, the bundle's gateway publishing 80/443/9091, no firewall rules. */
const CONVERGED: HostFacts = {
  os: DEBIAN.os,
  machine: DEBIAN.machine,
  disk: '/dev/vda1 40000 12000 28000 30% /',
  time: 'System clock synchronized: yes',
  docker: 'SERVER=20.10.24+dfsg1\nSYSTEMD=yes\nPID1=systemd\nENABLED=enabled\nCOMPOSE_V2=\nCOMPOSE_V1=1.29.2\n',
  selinux: 'MODE=absent\n',
  listeners: [80, 443, 9091].map((p) => `LISTEN 0 4096 0.0.0.0:${p} 0.0.0.0:* users:(("docker-proxy",pid=${900 + p},fd=4))`).join('\n'),
  containers: `${GATEWAY_ID}\tapi7-2132304-dp_api7-gateway_1\tcom.docker.compose.service=api7-gateway\t0.0.0.0:80->9080/tcp, 0.0.0.0:443->9443/tcp, 0.0.0.0:9091->9091/tcp`,
  firewall: 'KIND=iptables\nRULE=-P INPUT ACCEPT\n',
  haproxy: 'SM=systemd\nACTIVE=inactive\nENABLED=disabled\n',
};

/** Debian 12 as the lab image starts: no Docker, nothing listening but sshd, no firewall. */
const FRESH: HostFacts = { ...CONVERGED, docker: DEBIAN.docker, listeners: DEBIAN.listeners, containers: '', firewall: DEBIAN.firewall };

type Answer = Partial<ExecResult> | undefined;

/** Answers each fact command from `facts`; `override` answers first (a failed read, a changed state). */
function host(facts: HostFacts, override: (command: string) => Answer = () => undefined) {
  return (command: string): Answer => {
    const o = override(command);
    if (o) return o;
    if (command === osFact.command) return { stdout: facts.os };
    if (command === machineFact.command) return { stdout: facts.machine };
    if (command.startsWith('p=')) {
      // diskFact: one df line per data directory it names.
      const dirs = [...command.matchAll(/printf '%s\t%s\t' (\S+) "\$p"/g)].map((m) => m[1]);
      return { stdout: dirs.map((d) => `${d}\t/\t${facts.disk}\n`).join('') };
    }
    if (command === timeSyncFact.command) return { stdout: facts.time };
    if (command === dockerFact.command) return { stdout: facts.docker };
    if (command === selinuxFact.command) return { stdout: facts.selinux };
    if (command === listenersFact.command) return { stdout: facts.listeners };
    if (command === containersFact.command) return { stdout: facts.containers };
    if (command === firewallFact.command) return { stdout: facts.firewall };
    if (command === haproxyFact.command) return { stdout: facts.haproxy };
    return undefined;
  };
}

const GATEWAY = { gateway: ['g1'] };
const run = (facts: HostFacts, opts: Parameters<typeof runRole>[3] = {}, override?: (command: string) => Answer, groups: Record<string, string[]> = GATEWAY) =>
  runRole(preflight, groups, host(facts, override), { hostVars: { g1: { ansible_host: '10.0.0.14' }, e1: { ansible_host: '10.0.0.11' } }, ...opts });

describe('preflight: one batched read, then pure checks', () => {
  it('a converged host: every step ok, and the only command is the batch of the role facts', async () => {
    const { commands, results, summary } = await run(CONVERGED);
    expect(summary.exitCode).toBe(0);
    expect(commands('g1')).toHaveLength(1);
    const facts = batchCommands(commands('g1')[0])!;
    expect(facts).toEqual([
      osFact.command,
      machineFact.command,
      expect.stringContaining("printf '%s\t%s\t' /var/lib/docker"),
      timeSyncFact.command,
      dockerFact.command,
      selinuxFact.command,
      listenersFact.command,
      containersFact.command,
      firewallFact.command,
    ]);
    expect(results('g1').filter((r) => r.status !== 'ok').map((r) => `${r.step}: ${r.status}`)).toEqual([
      'haproxy version (LB hosts, when installed): skipped',
      'SELinux permissive (preflight_selinux: permissive): skipped',
    ]);
  });

  it('a fresh host: the same one read; Docker not installed yet is no failure', async () => {
    const { commands, step, summary } = await run(FRESH, {}, undefined, { etcd: ['e1'], control: ['e1'] });
    expect(summary.exitCode).toBe(0);
    expect(commands('e1')).toEqual([expect.stringContaining('gwfacts-')]);
    // etcd's data dir is measured on an etcd host.
    expect(batchCommands(commands('e1')[0])![2]).toContain('/usr/local/etcd/etcd_data');
    expect(step('e1', 'Docker version (when installed)')).toMatchObject({ status: 'skipped', reason: 'Docker is not installed yet' });
  });

  it('a host with no port to claim reads no listeners, containers nor firewall', async () => {
    const { commands, summary } = await runRole(preflight, { upstream: ['u1'] }, host(FRESH));
    expect(summary.exitCode).toBe(0);
    expect(batchCommands(commands('u1')[0])).toHaveLength(6);
  });

  it('thresholds come from the typed variables', async () => {
    const { summary } = await run(CONVERGED, { hostVars: { g1: { ansible_host: '10.0.0.14', preflight_min_cpus: '4', preflight_min_memory_mb: 32000 } } });
    expect(summary.errors[0]?.message).toBe('g1: 2 CPUs < 4 (preflight_min_cpus); memory 24019 MB < 32000 MB (preflight_min_memory_mb)');
  });
});

describe('preflight: each drift, the commands it plans (--check)', () => {
  const planned = async (facts: HostFacts, vars: Record<string, unknown> = {}) => {
    const { step, commands } = await run(facts, { check: true, hostVars: { g1: { ansible_host: '10.0.0.14', ...vars } } });
    expect(commands('g1')).toHaveLength(1); // --check reads, and plans from what it read
    return (name: string) => step('g1', name);
  };

  it.each([
    [
      'iptables closed by default: the gateway ports to all, Prometheus to the stack only',
      { firewall: 'KIND=iptables\nRULE=-P INPUT DROP\nRULE=-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n' },
      [
        '$ iptables -I INPUT -p tcp -m tcp --dport 80 -m comment --comment gatewright -j ACCEPT',
        '$ iptables -I INPUT -p tcp -m tcp --dport 443 -m comment --comment gatewright -j ACCEPT',
        '$ iptables -I INPUT -s 10.0.0.14/32 -p tcp -m tcp --dport 9091 -m comment --comment gatewright -j ACCEPT',
      ],
    ],
    [
      'firewalld with 80 open only: permanent and live, rich rule for 9091',
      { firewall: 'KIND=firewalld\nZONE=public\nRUNTIME_PORTS=80/tcp\nRUNTIME_SERVICES=ssh\nPERMANENT_PORTS=80/tcp\nPERMANENT_SERVICES=ssh\n' },
      [
        `$ firewall-cmd --permanent --zone=public --add-port=443/tcp '--add-rich-rule=rule family="ipv4" source address="10.0.0.14" port port="9091" protocol="tcp" accept'`,
        `$ firewall-cmd --zone=public --add-port=443/tcp '--add-rich-rule=rule family="ipv4" source address="10.0.0.14" port port="9091" protocol="tcp" accept'`,
      ],
    ],
  ])('%s', async (_name, drift, commands) => {
    const step = await planned({ ...CONVERGED, ...drift });
    expect(step('firewall opens the ports of the host roles')).toMatchObject({ status: 'changed', planned: commands });
  });

  it('SELinux enforcing with preflight_selinux: permissive: setenforce 0 and the boot config', async () => {
    const step = await planned({ ...CONVERGED, selinux: 'MODE=Enforcing\nSELINUX=enforcing\n' }, { preflight_selinux: 'permissive' });
    expect(step('SELinux permissive (preflight_selinux: permissive)')).toMatchObject({
      status: 'changed',
      planned: ['$ setenforce 0', "$ sed -i 's/^SELINUX=enforcing/SELINUX=permissive/' /etc/selinux/config"],
    });
    expect(step('SELinux mode')).toMatchObject({ status: 'ok' });
  });

  it('preflight_open_firewall: false reads no firewall and plans nothing', async () => {
    const { commands, step } = await run({ ...CONVERGED, firewall: 'KIND=iptables\nRULE=-P INPUT DROP\n' }, { hostVars: { g1: { ansible_host: '10.0.0.14', preflight_open_firewall: 'false' } } });
    expect(batchCommands(commands('g1')[0])).not.toContain(firewallFact.command);
    expect(step('g1', 'firewall opens the ports of the host roles')).toMatchObject({ status: 'skipped', reason: 'preflight_open_firewall is false' });
  });

  it('applied, the change is proven by a fresh read of what it changed', async () => {
    let enforcing = true;
    const { commands, step } = await run(
      { ...CONVERGED, selinux: 'MODE=Enforcing\nSELINUX=enforcing\n' },
      { hostVars: { g1: { ansible_host: '10.0.0.14', preflight_selinux: 'permissive' } } },
      (c) => {
        if (c === 'setenforce 0') enforcing = false;
        return c === selinuxFact.command && !enforcing ? { stdout: 'MODE=Permissive\nSELINUX=permissive\n' } : undefined;
      },
    );
    expect(commands('g1').slice(1)).toEqual(['setenforce 0', "sed -i 's/^SELINUX=enforcing/SELINUX=permissive/' /etc/selinux/config", selinuxFact.command]);
    expect(step('g1', 'SELinux permissive (preflight_selinux: permissive)')).toMatchObject({ status: 'changed' });
  });
});

describe('preflight: failures name the host and what could not be read; unknown is never fine', () => {
  it('a port held by another program fails the host with every problem listed', async () => {
    const listeners = `${CONVERGED.listeners}\nLISTEN 0 511 0.0.0.0:8080 0.0.0.0:* users:(("nginx",pid=77,fd=6))`.replace('"docker-proxy",pid=980', '"nginx",pid=77');
    const { summary, step } = await run({ ...CONVERGED, listeners, containers: '' });
    expect(step('g1', 'host meets the requirements')).toMatchObject({ status: 'failed' });
    expect(summary.errors[0].message).toBe(
      'g1: port 80 (gateway_http_port) is in use by nginx (pid 77); port 443 (gateway_https_port) is in use by docker-proxy (pid 1343); port 9091 (gateway_prometheus_port) is in use by docker-proxy (pid 9991)',
    );
  });

  // ss shows a listener without its process while one starts or exits (dockerd bringing containers back at boot).
  const unnamed443 = CONVERGED.listeners.replace(/users:\(\("docker-proxy",pid=1343,fd=4\)\)/, '');
  it('a port whose holder ss cannot name yet is read again, fresh: named by then, it is ours and the host passes', async () => {
    let listenerReads = 0;
    const settling = (c: string): Answer => (c === listenersFact.command && ++listenerReads <= 2 ? { stdout: unnamed443 } : undefined);
    const { summary, commands, step } = await run(CONVERGED, {}, settling);
    expect(unnamed443).not.toContain('pid=1343');
    expect(summary.exitCode).toBe(0);
    expect(step('g1', 'ports of the host roles are free')).toMatchObject({ status: 'ok' });
    // The batch, then two fresh reads of the listeners and the containers each (the second names the holder).
    expect(commands('g1').filter((c) => c === listenersFact.command)).toHaveLength(2);
    expect(commands('g1').filter((c) => c === containersFact.command)).toHaveLength(2);
  });

  it('a holder that stays unnamed fails the host after the reads again, saying so', async () => {
    const { summary, commands } = await run(CONVERGED, {}, (c) => (c === listenersFact.command ? { stdout: unnamed443 } : undefined));
    expect(summary.errors[0].message).toBe('g1: port 443 (gateway_https_port) is in use by unknown process');
    expect(commands('g1').filter((c) => c === listenersFact.command)).toHaveLength(UNNAMED_HOLDER_READS);
  });

  it.each([
    ['ss fails (not "no port in use")', listenersFact.command, 'ports of the host roles are free: could not check (cannot list the listening ports (ss, exit 1): Cannot open netlink socket)'],
    ['the kernel/CPU/memory read fails (not "0 CPUs")', machineFact.command, 'architecture: could not check (cannot read kernel, CPUs and memory (exit 1): Cannot open netlink socket)'],
    ['the Docker probe fails (not "not installed")', dockerFact.command, 'Docker version (when installed): could not check (cannot read the Docker engine (exit 1): Cannot open netlink socket)'],
  ])('%s', async (_name, failing, message) => {
    const { summary } = await run(CONVERGED, {}, (c) => (c === failing ? { code: 1, stderr: 'Cannot open netlink socket' } : undefined));
    expect(summary.exitCode).toBe(2);
    const error = summary.errors.find((e) => e.host === 'g1')!;
    expect(error.message).toMatch(/^g1: /);
    expect(error.message).toContain(message);
  });

  it('a free-space read that says nothing about a directory is an error, not enough space', async () => {
    const { summary } = await run(CONVERGED, {}, (c) => (c.startsWith('p=') ? { stdout: '' } : undefined));
    expect(summary.errors[0].message).toMatch(/^g1: free disk under the data directories: could not check \(cannot read free space under \/var\/lib\/docker, \/opt\/api7 \(exit 0\)/);
  });

  it('a batch that fails as a whole (sudo refused) is read fact by fact, and a read that fails there fails the host', async () => {
    const { summary, commands } = await run(CONVERGED, {}, (c) => (c.includes('gwfacts-') || c === osFact.command ? { code: 1, stderr: 'sudo: a password is required' } : undefined));
    expect(commands('g1')[0]).toContain('gwfacts-');
    expect(commands('g1')).toContain(osFact.command);
    expect(summary.errors[0].message).toMatch(
      /^g1: operating system and package manager: could not check \(cannot read the operating system \(\/etc\/os-release\) \(exit 1\): sudo: a password is required\)/,
    );
  });
});

describe("preflight: an LB host's haproxy meets the LB config's floor before anything is deployed", () => {
  const HAPROXY_STEP = 'haproxy version (LB hosts, when installed)';
  const installed = (version: string) => `VERSION=HAProxy version ${version} 2016/12/25\nSM=systemd\nACTIVE=active\nENABLED=enabled\n`;
  const lb = (haproxy: string) => runRole(preflight, { lb: ['l1'] }, host({ ...FRESH, haproxy }), { hostVars: { l1: { ansible_host: '10.0.0.20' } } });

  it("reads haproxy in the LB host's one batch (and only there: a gateway's batch above has no haproxy)", async () => {
    const { commands } = await lb(installed('1.5.18'));
    expect(commands('l1')).toHaveLength(1);
    expect(batchCommands(commands('l1')[0])).toContain(haproxyFact.command);
  });

  it.each([
    ['1.5.18', 'haproxy 1.5.18 (config level 1.5)'],
    ['1.8.27-4.el8', 'haproxy 1.8.27-4.el8 (config level 1.8)'],
    ['2.6.12-1+deb12u4', 'haproxy 2.6.12-1+deb12u4 (config level modern)'],
  ])('haproxy %s passes, and says the level its config will have', async (version, info) => {
    const { summary, step } = await lb(installed(version));
    expect(summary.exitCode).toBe(0);
    expect(step('l1', HAPROXY_STEP)).toMatchObject({ status: 'ok', data: { info } });
  });

  it('haproxy not installed yet is no failure: the lb role installs it', async () => {
    const { summary, step } = await lb('SM=systemd\nACTIVE=inactive\nENABLED=disabled\n');
    expect(summary.exitCode).toBe(0);
    expect(step('l1', HAPROXY_STEP)).toMatchObject({ status: 'skipped', reason: 'haproxy is not installed yet (the lb role installs it)' });
  });

  it("an haproxy older than 1.5 fails the host with the lb role's own refusal: the version needed and how to get it", async () => {
    const { summary } = await lb(installed('1.4.24'));
    expect(summary.exitCode).toBe(2);
    expect(summary.errors.map((e) => e.message)).toEqual([`l1: ${haproxyTooOld('1.4.24')}`]);
    expect(haproxyTooOld('1.4.24')).toMatch(/needs haproxy 1\.5 or later .*yum\/dnf install haproxy/);
  });

  it('a version it cannot read fails the host too (unknown is never fine)', async () => {
    const { summary } = await lb(installed('dev'));
    expect(summary.errors[0].message).toBe('l1: cannot read the haproxy version "dev"');
  });
});
