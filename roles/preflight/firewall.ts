// Opening exactly the ports of a host's roles in whichever firewall it runs, permanently and live: the
// public ones to all, etcd's and Prometheus' only to the stack's own hosts.
// Pure: firewall facts + wanted openings in, commands out; what is already as wanted plans nothing.
import { sh } from '../../lib/shell.ts';
import type { Host, Inventory, Vars } from '../../lib/types.ts';
import { stackVars } from '../../vars/schema.ts';
import type { FirewallInfo } from './network-facts.ts';
import type { PortClaim } from './ports.ts';

// firewalld services that already open one of our ports.
const SERVICE_PORTS: Record<string, number[]> = {
  http: [80],
  https: [443],
  'etcd-client': [2379],
  'etcd-server': [2380],
};

/**
 * A port to open: to everyone, or (`sources`) only to these addresses. etcd's client and peer ports and the
 * gateways' Prometheus port carry the stack's data and metrics: only the stack's own hosts (and what the
 * operator adds) may reach them. The public ports (gateways 80/443, the LB frontends, the consoles' 9000,
 * which the console's allow_list guards) stay open to all.
 */
export interface FirewallWant {
  port: number;
  /** IPv4/IPv6 addresses or CIDRs; absent: open to everyone. */
  sources?: string[];
}

export interface FirewallPlan {
  /** Ports that need opening (empty: nothing to do). */
  ports: number[];
  commands: string[];
  /** Said once in the step log: no firewall, rules not persistent... */
  notes: string[];
}

const isV6 = (address: string): boolean => address.includes(':');
/** iptables and ufw print a single IPv4 address as a /32 (iptables) or bare (ufw): one form to compare. */
const cidr = (address: string): string => (address.includes('/') ? address : `${address}/${isV6(address) ? 128 : 32}`);

export function planFirewall(fw: FirewallInfo, wants: (number | FirewallWant)[]): FirewallPlan {
  const list = wants.map((w) => (typeof w === 'number' ? { port: w } : w));
  if (fw.kind === 'firewalld') return planFirewalld(fw, list);
  if (fw.kind === 'ufw') return planUfw(fw, list);
  if (fw.kind === 'iptables') return planIptables(fw, list);
  return { ports: [], commands: [], notes: ['no firewall found (neither firewalld running nor iptables): nothing to open'] };
}

const sortedPorts = (ports: number[]): number[] => [...new Set(ports)].sort((a, b) => a - b);

/** firewalld's own listing of a rich rule that admits `source` to `port`. */
export const richRule = (source: string, port: number): string =>
  `rule family="${isV6(source) ? 'ipv6' : 'ipv4'}" source address="${source}" port port="${port}" protocol="tcp" accept`;

function planFirewalld(fw: Extract<FirewallInfo, { kind: 'firewalld' }>, wants: FirewallWant[]): FirewallPlan {
  type Set = { ports: string[]; services: string[]; rich: string[] };
  const openToAll = (set: Set, port: number) =>
    set.ports.includes(`${port}/tcp`) || set.services.some((s) => SERVICE_PORTS[s]?.includes(port));
  const commands: string[] = [];
  const touched: number[] = [];
  // Per configuration (permanent, then live): add what is missing first, then take away the open-to-all entries
  // of restricted ports, so no peer is cut off in between.
  for (const [set, permanent] of [[fw.permanent, true], [fw.runtime, false]] as [Set, boolean][]) {
    const base = permanent ? ['firewall-cmd', '--permanent', `--zone=${fw.zone}`] : ['firewall-cmd', `--zone=${fw.zone}`];
    const adds: string[] = [];
    const removes: string[] = [];
    for (const w of wants) {
      if (!w.sources) {
        if (!openToAll(set, w.port)) adds.push(`--add-port=${w.port}/tcp`), touched.push(w.port);
        continue;
      }
      for (const source of w.sources) {
        const rule = richRule(source, w.port);
        if (!set.rich.includes(rule)) adds.push(`--add-rich-rule=${rule}`), touched.push(w.port);
      }
      if (set.ports.includes(`${w.port}/tcp`)) removes.push(`--remove-port=${w.port}/tcp`), touched.push(w.port);
      for (const s of set.services.filter((s) => SERVICE_PORTS[s]?.includes(w.port))) removes.push(`--remove-service=${s}`), touched.push(w.port);
    }
    if (adds.length) commands.push(sh`${base} ${adds}`);
    if (removes.length) commands.push(sh`${base} ${[...new Set(removes)]}`);
  }
  return { ports: sortedPorts(touched), commands, notes: [] };
}

interface UfwRule {
  ports: number[];
  /** The rule exactly as `ufw delete allow` takes it back ("2379/tcp"), when it is one port. */
  single?: string;
  /** "Anywhere" or an address / CIDR. */
  from: string;
}

/** `ufw status` lines: "80/tcp   ALLOW   Anywhere", "2379/tcp   ALLOW   10.0.0.5", "80,443/tcp (v6)   ALLOW   Anywhere (v6)". */
function parseUfwRule(line: string): UfwRule | undefined {
  const [to, from] = line.split(/\s+ALLOW(?:\s+IN)?\s+/).map((x) => x.trim().replace(/\s*\(v6\)$/, ''));
  const [list, proto = 'tcp'] = to.split('/');
  if (proto !== 'tcp' || !/^[\d,:]+$/.test(list) || from === undefined) return undefined;
  return { ports: portList(list), single: /^\d+$/.test(list) ? to : undefined, from };
}

// `ufw allow` is permanent and live at once.
function planUfw(fw: Extract<FirewallInfo, { kind: 'ufw' }>, wants: FirewallWant[]): FirewallPlan {
  const rules = fw.allowed.map(parseUfwRule).filter((r): r is UfwRule => r !== undefined);
  const admits = (port: number, from: string) => rules.some((r) => r.ports.includes(port) && (r.from === from || cidr(r.from) === cidr(from)));
  const adds: string[] = [];
  const removes: string[] = [];
  const notes: string[] = [];
  const touched: number[] = [];
  for (const w of wants) {
    if (!w.sources) {
      if (!admits(w.port, 'Anywhere')) adds.push(sh`ufw allow ${`${w.port}/tcp`}`), touched.push(w.port);
      continue;
    }
    for (const source of w.sources.filter((s) => !admits(w.port, s))) {
      adds.push(sh`ufw allow from ${source} to any port ${w.port} proto tcp`), touched.push(w.port);
    }
    for (const r of rules.filter((r) => r.from === 'Anywhere' && r.ports.includes(w.port))) {
      if (r.single) removes.push(sh`ufw delete allow ${r.single}`), touched.push(w.port);
      else notes.push(`ufw admits TCP ${w.port} from anywhere through a port list or range: left as it is, narrow it by hand`);
    }
  }
  return { ports: sortedPorts(touched), commands: [...adds, ...new Set(removes)], notes: [...new Set(notes)] };
}

const IPTABLES_COMMENT = 'gatewright';

function planIptables(fw: Extract<FirewallInfo, { kind: 'iptables' }>, wants: FirewallWant[]): FirewallPlan {
  const policy = fw.rules.find((r) => r.startsWith('-P INPUT'))?.split(/\s+/)[2] ?? 'ACCEPT';
  const blocks = fw.rules.some((r) => /^-A INPUT\b.*-j (DROP|REJECT)\b/.test(r));
  const notes: string[] = [];
  const accepts = fw.rules.filter((r) => /^-A INPUT\b/.test(r) && /-j ACCEPT\b/.test(r));
  const from = (r: string) => /\s-s (\S+)/.exec(r)?.[1];
  const openToAll = (port: number) => accepts.some((r) => dports(r).includes(port) && !/\s-[si]\s/.test(r));
  const admits = (port: number, source: string) => accepts.some((r) => dports(r).includes(port) && from(r) === cidr(source) && !/\s-i\s/.test(r));
  const closedByDefault = policy !== 'ACCEPT' || blocks;
  const adds: string[] = [];
  const removes: string[] = [];
  const touched: number[] = [];
  for (const w of wants) {
    if (!w.sources) {
      if (closedByDefault && !openToAll(w.port)) adds.push(sh`iptables -I INPUT -p tcp -m tcp --dport ${w.port} -m comment --comment ${IPTABLES_COMMENT} -j ACCEPT`), touched.push(w.port);
      continue;
    }
    if (!closedByDefault) {
      notes.push(`iptables INPUT accepts everything: TCP ${w.port} is open to all, not only to the stack's hosts (add a REJECT or a firewall to restrict it)`);
      continue;
    }
    const v6 = w.sources.filter(isV6);
    if (v6.length) notes.push(`iptables: IPv6 sources (${v6.join(', ')}) are not opened (ip6tables is not managed)`);
    for (const source of w.sources.filter((s) => !isV6(s) && !admits(w.port, s))) {
      adds.push(sh`iptables -I INPUT -s ${cidr(source)} -p tcp -m tcp --dport ${w.port} -m comment --comment ${IPTABLES_COMMENT} -j ACCEPT`), touched.push(w.port);
    }
    // Ours (the comment) from anywhere, as earlier versions added it: taken back. Others' rules are left, said.
    for (const r of accepts.filter((r) => dports(r).includes(w.port) && !/\s-[si]\s/.test(r))) {
      if (r.includes(`--comment ${IPTABLES_COMMENT}`)) removes.push(sh`iptables ${r.replace(/^-A /, '-D ').split(/\s+/)}`), touched.push(w.port);
      else notes.push(`iptables admits TCP ${w.port} from anywhere by a rule gatewright did not add: left as it is (${r})`);
    }
  }
  if (!closedByDefault && !adds.length) return { ports: [], commands: [], notes: ['iptables INPUT accepts everything: nothing to open', ...new Set(notes)] };
  const commands = [...adds, ...removes];
  if (commands.length && fw.saveFiles.length) commands.push(...fw.saveFiles.map((f) => sh`iptables-save > ${f}`));
  if (commands.length && !fw.saveFiles.length) notes.push('iptables rules are live only: no /etc/sysconfig/iptables or /etc/iptables/rules.v4 to persist them');
  return { ports: sortedPorts(touched), commands, notes: [...new Set(notes)] };
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

/** The ports only the stack's hosts may reach: etcd's client and peer ports, the gateways' Prometheus port. */
export const STACK_ONLY_PORTS = ['etcd_client_port', 'etcd_peer_port', 'gateway_prometheus_port'];

const IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)(?:\/\d{1,3})?$/;

/**
 * Who may reach the stack-only ports: every inventory host (its address, and its etcd_address when set: the
 * peers talk from there) and `preflight_firewall_sources` (a Prometheus server, a backup host). Firewalls
 * admit addresses, not names: a host known by name only is an error naming it.
 */
export function stackSources(inventory: Inventory, vars: Vars): string[] {
  const extras = stackVars({ vars }).preflight_firewall_sources;
  const of = (h: Host) => {
    const etcdAddress = stackVars({ vars: h.vars }).etcd_address;
    return [h.address, ...(etcdAddress ? [etcdAddress] : [])];
  };
  const sources = [...new Set([...[...inventory.hosts.values()].flatMap(of), ...extras])];
  const names = sources.filter((s) => !IP.test(s));
  if (names.length) {
    const who = [...inventory.hosts.values()].filter((h) => of(h).some((a) => names.includes(a))).map((h) => h.name);
    throw new Error(
      `the firewall admits etcd's and Prometheus' ports only from the stack's hosts, by address: ${names.join(', ')} ` +
        `${who.length ? `(${who.join(', ')}) ` : ''}is not an IP address. Give ansible_host (or etcd_address) as an IP, or set preflight_open_firewall: false`,
    );
  }
  return sources;
}

/** What to open for a host's claimed ports: stack-only ones for `sources`, the rest for all. */
export const firewallWants = (claims: PortClaim[], sources: () => string[]): FirewallWant[] =>
  claims.map((c) => (STACK_ONLY_PORTS.includes(c.variable) ? { port: c.port, sources: sources() } : { port: c.port }));
