import { describe, expect, it } from 'vitest';
import { makeHost, makeInventory } from '../../lib/inventory.ts';
import { firewallWants, planFirewall, richRule, stackSources } from '../../roles/preflight/firewall.ts';
import { stackVars } from '../../vars/schema.ts';
import { claimedPorts } from '../../roles/preflight/ports.ts';
import { parseFirewall, type FirewallInfo } from '../../roles/preflight/network-facts.ts';
import { planSelinux } from '../../roles/preflight/selinux.ts';
import { mountSuffixFor, parseSelinux } from '../../facts/selinux.ts';
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

// etcd's client/peer ports and the gateways' Prometheus port admit only the stack's own hosts; the public ones stay open.
const STACK = ['10.77.0.11', '10.77.0.12', '10.77.0.20'];
const etcdWants = [{ port: 2379, sources: STACK }, { port: 2380, sources: STACK }];

describe('stack-only ports: firewalld rich rules', () => {
  it('admits each stack host by a rich rule (permanent and live), and takes back 2379 open to all', () => {
    const { firewall } = loadFacts('rocky9'); // 2379/tcp open to all, permanent only
    const plan = planFirewall(firewall, [...etcdWants, { port: 9000 }]);
    const rules = (flag: string) => [2379, 2380].flatMap((p) => STACK.map((a) => `'${flag}${richRule(a, p)}'`)).join(' ');
    expect(plan.commands).toEqual([
      `firewall-cmd --permanent --zone=public ${rules('--add-rich-rule=')} --add-port=9000/tcp`,
      'firewall-cmd --permanent --zone=public --remove-port=2379/tcp',
      `firewall-cmd --zone=public ${rules('--add-rich-rule=')} --add-port=9000/tcp`,
    ]);
    expect(plan.ports).toEqual([2379, 2380, 9000]);
    expect(richRule('10.77.0.11', 2379)).toBe('rule family="ipv4" source address="10.77.0.11" port port="2379" protocol="tcp" accept');
    expect(richRule('fd00::1', 2380)).toMatch(/^rule family="ipv6" source address="fd00::1"/);
  });

  it('the etcd-client service (2379 to all) is removed too; a rerun with the rules listed plans nothing', () => {
    const rich = [2379, 2380].flatMap((p) => STACK.map((a) => richRule(a, p)));
    const withService = parseFirewall(
      'KIND=firewalld\nZONE=public\nRUNTIME_PORTS=\nRUNTIME_SERVICES=ssh etcd-client\nPERMANENT_PORTS=\nPERMANENT_SERVICES=ssh etcd-client\n' +
        rich.map((r) => `RUNTIME_RICH=${r}\nPERMANENT_RICH=${r}`).join('\n'),
    );
    expect(planFirewall(withService, etcdWants).commands).toEqual([
      'firewall-cmd --permanent --zone=public --remove-service=etcd-client',
      'firewall-cmd --zone=public --remove-service=etcd-client',
    ]);
    const after = parseFirewall(
      'KIND=firewalld\nZONE=public\nRUNTIME_SERVICES=ssh\nPERMANENT_SERVICES=ssh\n' + rich.map((r) => `RUNTIME_RICH=${r}\nPERMANENT_RICH=${r}`).join('\n'),
    );
    expect(planFirewall(after, etcdWants)).toEqual({ ports: [], commands: [], notes: [] });
  });
});

describe('stack-only ports: ufw', () => {
  it('allows from each stack host, then deletes the allow-from-anywhere rule of that port', () => {
    const fw = parseFirewall('KIND=ufw\nALLOW=22/tcp   ALLOW   Anywhere\nALLOW=2379/tcp   ALLOW   Anywhere\nALLOW=2379/tcp (v6)   ALLOW   Anywhere (v6)\n');
    expect(planFirewall(fw, [{ port: 2379, sources: STACK }, { port: 80 }]).commands).toEqual([
      'ufw allow from 10.77.0.11 to any port 2379 proto tcp',
      'ufw allow from 10.77.0.12 to any port 2379 proto tcp',
      'ufw allow from 10.77.0.20 to any port 2379 proto tcp',
      'ufw allow 80/tcp',
      'ufw delete allow 2379/tcp',
    ]);
  });

  it('a rerun (ufw status lists the sources) plans nothing; a world-open range is said, not cut', () => {
    const fw = parseFirewall(
      'KIND=ufw\nALLOW=80/tcp   ALLOW   Anywhere\n' + STACK.map((a) => `ALLOW=2379/tcp   ALLOW   ${a}\n`).join('') + 'ALLOW=2000:3000/tcp   ALLOW   Anywhere\n',
    );
    const plan = planFirewall(fw, [{ port: 2379, sources: STACK }, { port: 80 }]);
    expect(plan.commands).toEqual([]);
    expect(plan.notes).toEqual(['ufw admits TCP 2379 from anywhere through a port list or range: left as it is, narrow it by hand']);
  });
});

describe('stack-only ports: iptables', () => {
  const fw = (extra: string[]): FirewallInfo =>
    parseFirewall(['KIND=iptables', 'SAVE_FILE=/etc/iptables/rules.v4', 'RULE=-P INPUT DROP', ...extra.map((r) => `RULE=${r}`)].join('\n'));

  it('one ACCEPT per stack host (as /32), our earlier open-to-all rule deleted, then saved', () => {
    const plan = planFirewall(fw(['-A INPUT -p tcp -m tcp --dport 2379 -m comment --comment gatewright -j ACCEPT']), [{ port: 2379, sources: STACK }]);
    expect(plan.commands).toEqual([
      ...STACK.map((a) => `iptables -I INPUT -s ${a}/32 -p tcp -m tcp --dport 2379 -m comment --comment gatewright -j ACCEPT`),
      'iptables -D INPUT -p tcp -m tcp --dport 2379 -m comment --comment gatewright -j ACCEPT',
      'iptables-save > /etc/iptables/rules.v4',
    ]);
  });

  it('a rerun plans nothing; an open-to-all rule not ours is left and said', () => {
    const ours = STACK.map((a) => `-A INPUT -s ${a}/32 -p tcp -m tcp --dport 9091 -m comment --comment gatewright -j ACCEPT`);
    const plan = planFirewall(fw([...ours, '-A INPUT -p tcp -m tcp --dport 9091 -j ACCEPT']), [{ port: 9091, sources: STACK }]);
    expect(plan.commands).toEqual([]);
    expect(plan.notes).toEqual(['iptables admits TCP 9091 from anywhere by a rule gatewright did not add: left as it is (-A INPUT -p tcp -m tcp --dport 9091 -j ACCEPT)']);
  });

  it('an INPUT chain that accepts everything cannot restrict: it says so', () => {
    const plan = planFirewall(parseFirewall('KIND=iptables\nRULE=-P INPUT ACCEPT\n'), [{ port: 2379, sources: STACK }]);
    expect(plan.commands).toEqual([]);
    expect(plan.notes.join('\n')).toMatch(/TCP 2379 is open to all, not only to the stack's hosts/);
  });
});

describe('who may reach the stack-only ports', () => {
  const inventory = (vars: Record<string, Record<string, unknown>>) => {
    const spec: [string, string[]][] = [['lab1', ['etcd', 'control']], ['lab4', ['gateway']], ['lb1', ['lb']]];
    const hosts = new Map(spec.map(([n, g]) => [n, makeHost(n, g, vars[n] ?? {}, 'ops')]));
    return makeInventory('x.yaml', hosts, new Map([['all', spec.map(([n]) => n)], ['etcd', ['lab1']], ['gateway', ['lab4']], ['lb', ['lb1']]]));
  };
  const inv = inventory({ lab1: { ansible_host: '10.0.0.11', etcd_address: '192.168.0.11' }, lab4: { ansible_host: '10.0.0.14' }, lb1: { ansible_host: '10.0.0.20' } });

  it("every inventory host's address, its etcd_address, and preflight_firewall_sources", () => {
    expect(stackSources(inv, { preflight_firewall_sources: ['10.9.0.0/24'] })).toEqual(['10.0.0.11', '192.168.0.11', '10.0.0.14', '10.0.0.20', '10.9.0.0/24']);
  });

  it('a host known by name only is an error naming it', () => {
    const named = inventory({ lab1: { ansible_host: '10.0.0.11' }, lab4: { ansible_host: 'gw4.example.com' }, lb1: { ansible_host: '10.0.0.20' } });
    expect(() => stackSources(named, {})).toThrow(/gw4\.example\.com \(lab4\) is not an IP address/);
  });

  it('etcd and Prometheus ports get the sources; gateway 80/443, the console 9000 and the LB frontends stay open to all', () => {
    const wants = firewallWants(claimedPorts(['etcd', 'control', 'gateway', 'lb'], stackVars({ vars: {} })), () => ['10.0.0.11']);
    expect(wants.filter((w) => w.sources).map((w) => w.port)).toEqual([2379, 2380, 9091]);
    expect(wants.filter((w) => !w.sources).map((w) => w.port)).toEqual([9000, 80, 443, 8404]);
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
