import { describe, expect, it } from 'vitest';
import { planFirewall } from '../../roles/preflight/firewall.ts';
import { parseFirewall, type FirewallInfo } from '../../roles/preflight/network-facts.ts';
import { mountSuffixFor, planSelinux } from '../../roles/preflight/selinux.ts';
import { parseSelinux } from '../../roles/preflight/facts.ts';
import { loadFacts } from './fixtures/facts/load.ts';

describe('firewalld', () => {
  it('opens the missing ports permanently and live, in one command each', () => {
    const { firewall } = loadFacts('rocky9'); // 2379/tcp permanent only
    expect(planFirewall(firewall, [2379, 2380, 9000])).toEqual({
      ports: [2379, 2380, 9000],
      commands: [
        'firewall-cmd --permanent --zone=public --add-port=2380/tcp --add-port=9000/tcp',
        'firewall-cmd --zone=public --add-port=2379/tcp --add-port=2380/tcp --add-port=9000/tcp',
      ],
      notes: [],
    });
  });

  it('counts services (http, https) as open; a rerun after opening plans nothing', () => {
    const after = parseFirewall(
      'KIND=firewalld\nZONE=public\nRUNTIME_PORTS=9091/tcp\nRUNTIME_SERVICES=ssh http https\n' +
        'PERMANENT_PORTS=9091/tcp\nPERMANENT_SERVICES=ssh http https\n',
    );
    expect(planFirewall(after, [80, 443, 9091]).commands).toEqual([]);
  });
});

describe('ufw', () => {
  it('allows each missing port; a rerun plans nothing', () => {
    const { firewall } = loadFacts('ubuntu2204');
    expect(planFirewall(firewall, [80, 443, 9091]).commands).toEqual(['ufw allow 80/tcp', 'ufw allow 443/tcp', 'ufw allow 9091/tcp']);
    const after = parseFirewall('KIND=ufw\nALLOW=22/tcp ALLOW Anywhere\nALLOW=80,443/tcp ALLOW Anywhere\nALLOW=9000:9100/tcp ALLOW Anywhere\n');
    expect(planFirewall(after, [80, 443, 9091]).commands).toEqual([]);
  });
});

describe('iptables', () => {
  const closed = (extra: string[] = []): FirewallInfo =>
    parseFirewall(
      [
        'KIND=iptables',
        'SAVE_FILE=/etc/sysconfig/iptables',
        'RULE=-P INPUT ACCEPT',
        'RULE=-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT',
        'RULE=-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT',
        ...extra,
        'RULE=-A INPUT -j REJECT --reject-with icmp-host-prohibited',
      ].join('\n'),
    );

  it('inserts ACCEPT rules before the REJECT and saves them for the next boot', () => {
    expect(planFirewall(closed(), [2379, 2380]).commands).toEqual([
      'iptables -I INPUT -p tcp -m tcp --dport 2379 -m comment --comment gatewright -j ACCEPT',
      'iptables -I INPUT -p tcp -m tcp --dport 2380 -m comment --comment gatewright -j ACCEPT',
      'iptables-save > /etc/sysconfig/iptables',
    ]);
  });

  it('a rerun (rules present, also as a multiport list) plans nothing', () => {
    const after = closed([
      'RULE=-A INPUT -p tcp -m tcp --dport 2379 -m comment --comment gatewright -j ACCEPT',
      'RULE=-A INPUT -p tcp -m multiport --dports 2380,9000 -j ACCEPT',
    ]);
    expect(planFirewall(after, [2379, 2380, 9000]).commands).toEqual([]);
  });

  it('a rule for one source address does not count as open', () => {
    const after = closed(['RULE=-A INPUT -s 10.0.0.5/32 -p tcp -m tcp --dport 2379 -j ACCEPT']);
    expect(planFirewall(after, [2379]).ports).toEqual([2379]);
  });

  it('an INPUT chain that accepts everything needs nothing (Docker hosts without a firewall)', () => {
    const open = parseFirewall('KIND=iptables\nRULE=-P INPUT ACCEPT\n');
    expect(planFirewall(open, [80, 443])).toMatchObject({ ports: [], commands: [] });
  });

  it('without a save file the rules are live only, and it says so', () => {
    const policyDrop = parseFirewall('KIND=iptables\nRULE=-P INPUT DROP\n');
    const plan = planFirewall(policyDrop, [80]);
    expect(plan.commands).toEqual(['iptables -I INPUT -p tcp -m tcp --dport 80 -m comment --comment gatewright -j ACCEPT']);
    expect(plan.notes[0]).toMatch(/live only/);
  });
});

describe('no firewall', () => {
  it('says so and plans nothing', () => {
    const plan = planFirewall(loadFacts('debian12').firewall, [2379]);
    expect(plan.commands).toEqual([]);
    expect(plan.notes).toEqual(['no firewall found (neither firewalld running nor iptables): nothing to open']);
  });
});

describe('SELinux', () => {
  it('keeps enforcing by default and asks for :Z mounts', () => {
    const s = loadFacts('rocky9').selinux;
    expect(planSelinux(s, 'keep')).toEqual([]);
    expect(mountSuffixFor(s)).toBe(':Z');
  });

  it('permissive: now and at boot; a rerun plans nothing; no :Z then', () => {
    expect(planSelinux(parseSelinux('MODE=Enforcing\nSELINUX=enforcing\n'), 'permissive')).toEqual([
      'setenforce 0',
      "sed -i 's/^SELINUX=enforcing/SELINUX=permissive/' /etc/selinux/config",
    ]);
    const after = parseSelinux('MODE=Permissive\nSELINUX=permissive\n');
    expect(planSelinux(after, 'permissive')).toEqual([]);
    expect(mountSuffixFor(after)).toBe('');
  });

  it('leaves hosts without SELinux alone', () => {
    expect(planSelinux(parseSelinux('MODE=absent\n'), 'permissive')).toEqual([]);
    expect(planSelinux(parseSelinux('MODE=Disabled\nSELINUX=disabled\n'), 'permissive')).toEqual([]);
  });
});
