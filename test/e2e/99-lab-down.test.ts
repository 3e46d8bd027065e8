// Last e2e file, CI only (LAB_DOWN_TEST=1): `lab down` leaves no container, mount, cgroup, iptables
// rule or process of ours. Checked with the machine's own tools, not with the lab's teardown code.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { down, MACHINE, NET } from '../../lab/index.ts';
import { LAB_ID, labTopology } from '../../lab/topology.ts';

const run = (command: string) => {
  const r = spawnSync('bash', ['-c', command], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '' };
};
const lines = (text: string): string[] => text.split('\n').filter(Boolean);

describe.runIf(process.env.LAB_DOWN_TEST === '1')('lab down', () => {
  it('leaves nothing of ours behind', async () => {
    expect(existsSync(MACHINE.socket)).toBe(true); // the lab was up for this run
    // another lab on this machine (LAB_ID 0 when this is lab 1, and the reverse) must not notice
    const other = labTopology(LAB_ID === 0 ? 1 : 0);
    const otherBefore = { socket: existsSync(other.machine.socket), bridge: run(`ip link show ${other.net.bridge}`).code, rules: run(`iptables -w -S | grep -c -E -e '--comment "?${other.machine.iptablesComment}"?( |$)'`).stdout };
    await down();
    expect({ socket: existsSync(other.machine.socket), bridge: run(`ip link show ${other.net.bridge}`).code, rules: run(`iptables -w -S | grep -c -E -e '--comment "?${other.machine.iptablesComment}"?( |$)'`).stdout }).toEqual(otherBefore);
    expect(existsSync(MACHINE.socket)).toBe(false); // no engine, hence no container
    expect(lines(run(`grep -E ' (${MACHINE.runDir}|${MACHINE.dataDir})[/ ]' /proc/self/mounts`).stdout)).toEqual([]);
    expect(lines(run(`find /sys/fs/cgroup -maxdepth 3 -name ${MACHINE.cgroupParent}`).stdout)).toEqual([]);
    // whole words: lab 1's comment gatewright-lab1 and bridge labbr1 are not lab 0's
    expect(lines(run(`iptables -w -S | grep -E -e '--comment "?${MACHINE.iptablesComment}"?( |$)'`).stdout)).toEqual([]);
    expect(lines(run(`iptables -w -S | grep -w -e ${NET.bridge}`).stdout)).toEqual([]);
    expect(run(`ip link show ${NET.bridge}`).code).not.toBe(0);
    // processes started from our directories (dockerd, containerd, shims) or living in our cgroups
    expect(lines(run(`grep -l -s -e '[/]${MACHINE.runDir.slice(1)}/' -e '[/]${MACHINE.dataDir.slice(1)}/' /proc/[0-9]*/cmdline`).stdout)).toEqual([]);
    expect(lines(run(`grep -l -s /${MACHINE.cgroupParent}/ /proc/[0-9]*/cgroup`).stdout)).toEqual([]);
  });
});
