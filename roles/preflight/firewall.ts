// Opening exactly the ports of a host's roles in whichever firewall it runs, permanently and live.
// Pure: firewall facts + ports in, commands out; what is already open plans nothing.
import { sh } from '../../lib/shell.ts';
import type { FirewallInfo } from './network-facts.ts';

// firewalld services that already open one of our ports.
const SERVICE_PORTS: Record<string, number[]> = {
  http: [80],
  https: [443],
  'etcd-client': [2379],
  'etcd-server': [2380],
};

export interface FirewallPlan {
  /** Ports that need opening (empty: nothing to do). */
  ports: number[];
  commands: string[];
  /** Said once in the step log: no firewall, rules not persistent... */
  notes: string[];
}

export function planFirewall(fw: FirewallInfo, ports: number[]): FirewallPlan {
  if (fw.kind === 'firewalld') return planFirewalld(fw, ports);
  if (fw.kind === 'ufw') return planUfw(fw, ports);
  if (fw.kind === 'iptables') return planIptables(fw, ports);
  return { ports: [], commands: [], notes: ['no firewall found (neither firewalld running nor iptables): nothing to open'] };
}

function planFirewalld(fw: Extract<FirewallInfo, { kind: 'firewalld' }>, ports: number[]): FirewallPlan {
  const openIn = (set: { ports: string[]; services: string[] }, port: number) =>
    set.ports.includes(`${port}/tcp`) || set.services.some((s) => SERVICE_PORTS[s]?.includes(port));
  const permanent = ports.filter((p) => !openIn(fw.permanent, p));
  const runtime = ports.filter((p) => !openIn(fw.runtime, p));
  const flags = (list: number[]) => list.map((p) => `--add-port=${p}/tcp`);
  const commands: string[] = [];
  if (permanent.length) commands.push(sh`firewall-cmd --permanent --zone=${fw.zone} ${flags(permanent)}`);
  if (runtime.length) commands.push(sh`firewall-cmd --zone=${fw.zone} ${flags(runtime)}`);
  return { ports: [...new Set([...permanent, ...runtime])].sort((a, b) => a - b), commands, notes: [] };
}

// `ufw allow` is permanent and live at once.
function planUfw(fw: Extract<FirewallInfo, { kind: 'ufw' }>, ports: number[]): FirewallPlan {
  const allowed = fw.allowed.flatMap((line) => {
    const to = line.trim().split(/\s+/)[0]; // "80/tcp", "8000:8100/tcp", "80,443/tcp", "9000"
    const [list, proto = 'tcp'] = to.split('/');
    return proto === 'tcp' && /^[\d,:]+$/.test(list) ? portList(list) : [];
  });
  const missing = ports.filter((p) => !allowed.includes(p));
  return { ports: missing, commands: missing.map((p) => sh`ufw allow ${`${p}/tcp`}`), notes: [] };
}

const IPTABLES_COMMENT = 'gatewright';

function planIptables(fw: Extract<FirewallInfo, { kind: 'iptables' }>, ports: number[]): FirewallPlan {
  const policy = fw.rules.find((r) => r.startsWith('-P INPUT'))?.split(/\s+/)[2] ?? 'ACCEPT';
  const blocks = fw.rules.some((r) => /^-A INPUT\b.*-j (DROP|REJECT)\b/.test(r));
  if (policy === 'ACCEPT' && !blocks) {
    return { ports: [], commands: [], notes: ['iptables INPUT accepts everything: nothing to open'] };
  }
  const accepted = (port: number) =>
    fw.rules.some((r) => /^-A INPUT\b/.test(r) && /-j ACCEPT\b/.test(r) && dports(r).includes(port) && !/\s-[si]\s/.test(r));
  const missing = ports.filter((p) => !accepted(p));
  // Inserted at the top so they come before the chain's REJECT/DROP rules.
  const commands = missing.map(
    (p) => sh`iptables -I INPUT -p tcp -m tcp --dport ${p} -m comment --comment ${IPTABLES_COMMENT} -j ACCEPT`,
  );
  const notes: string[] = [];
  if (missing.length && fw.saveFiles.length) commands.push(...fw.saveFiles.map((f) => sh`iptables-save > ${f}`));
  if (missing.length && !fw.saveFiles.length) {
    notes.push('iptables rules are live only: no /etc/sysconfig/iptables or /etc/iptables/rules.v4 to persist them');
  }
  return { ports: missing, commands, notes };
}

/** Ports a rule names with --dport N, --dport A:B or --dports A,B. */
function dports(rule: string): number[] {
  const m = rule.match(/--dports? (\S+)/);
  return m ? portList(m[1]) : [];
}

/** "80,443" or "8000:8002" -> [80, 443] / [8000, 8001, 8002]. */
function portList(text: string): number[] {
  return text.split(',').flatMap((part) => {
    const [from, to] = part.split(':').map(Number);
    return to ? Array.from({ length: to - from + 1 }, (_, i) => from + i) : [from];
  });
}
