// Who listens on which TCP port, which containers run, and which firewall guards the host.
import { apiAnswer, engineGetCmd } from '../../facts/engine-api.ts';
import { defineFact } from '../../lib/types.ts';

// ---------------------------------------------------------------- listeners

export interface Holder {
  process: string;
  pid: number;
  /** Docker container id when the process runs in one (from /proc/<pid>/cgroup). */
  containerId?: string;
}

export interface Listener {
  address: string;
  port: number;
  holders: Holder[];
}

export interface ListenerInfo {
  /** false when `ss` is missing (no iproute2): ports cannot be checked. */
  available: boolean;
  listeners: Listener[];
}

// ss prints the holders; each holder's cgroup tells whether it lives in a container (and which).
export const listenersFact = defineFact<ListenerInfo>({
  name: 'listeners',
  become: true,
  command: [
    'command -v ss >/dev/null 2>&1 || { echo NO_SS; exit 0; }',
    // One listing, kept: a failed `ss` is a failed read (exit 1), never "no port in use".
    'out=$(ss -ltnpH) || exit 1',
    'printf \'%s\\n\' "$out"',
    "for p in $(printf '%s\\n' \"$out\" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do echo \"CGROUP $p $(tr '\\n' ' ' </proc/$p/cgroup 2>/dev/null)\"; done",
  ].join('; '),
  parse(read) {
    if (read.code !== 0) throw new Error(`cannot list the listening ports (ss, exit ${read.code}): ${read.stderr.trim()}`);
    return parseListeners(read.stdout);
  },
});

export function parseListeners(text: string): ListenerInfo {
  if (/^NO_SS$/m.test(text)) return { available: false, listeners: [] };
  const containerOf = new Map<number, string>();
  for (const m of text.matchAll(/^CGROUP (\d+) (.*)$/gm)) {
    const id = m[2].match(/[0-9a-f]{64}/)?.[0];
    if (id) containerOf.set(Number(m[1]), id);
  }
  const listeners: Listener[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols[0] !== 'LISTEN' || cols.length < 4) continue;
    const local = cols[3];
    const sep = local.lastIndexOf(':');
    const holders = [...line.matchAll(/\("([^"]+)",pid=(\d+)/g)].map((m) => ({
      process: m[1],
      pid: Number(m[2]),
      containerId: containerOf.get(Number(m[2])),
    }));
    listeners.push({ address: local.slice(0, sep), port: Number(local.slice(sep + 1)), holders });
  }
  return { available: true, listeners };
}

// ---------------------------------------------------------------- containers

export interface Container {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** Host ports it publishes (docker-proxy holds them). */
  published: number[];
}

/** The running containers (as `docker ps`): over the engine's API where it can, else the CLI. */
export const containersFact = defineFact<Container[]>({
  name: 'containers',
  become: true,
  command: engineGetCmd('/containers/json', `docker ps --no-trunc --format '{{.ID}}\t{{.Names}}\t{{.Labels}}\t{{.Ports}}' 2>/dev/null || true`),
  parse: ({ stdout }) => parseContainers(stdout),
});

/** `GET /containers/json` as the API answers it (the fields read here). */
interface ApiContainer {
  Id: string;
  Names?: string[] | null;
  Labels?: Record<string, string> | null;
  Ports?: { PublicPort?: number }[] | null;
}

/** The API's answer (engine-api.ts), or the CLI's: a tab-separated line per container. */
export function parseContainers(text: string): Container[] {
  const api = apiAnswer(text) as ApiContainer[] | undefined;
  if (api) {
    return api.map((c) => ({
      id: c.Id,
      name: (c.Names?.[0] ?? '').replace(/^\//, ''),
      labels: c.Labels ?? {},
      published: (c.Ports ?? []).flatMap((p) => (p.PublicPort ? [p.PublicPort] : [])),
    }));
  }
  return text
    .split('\n')
    .filter((line) => line.includes('\t'))
    .map((line) => {
      const [id, name, labels = '', ports = ''] = line.split('\t');
      const labelPairs = labels
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('=') as [string, string?]);
      return {
        id,
        name,
        labels: Object.fromEntries(labelPairs.map(([k, v]) => [k, v ?? ''])),
        published: [...ports.matchAll(/:(\d+)->/g)].map((m) => Number(m[1])),
      };
    });
}

// ---------------------------------------------------------------- firewall

export type FirewallInfo =
  | {
      kind: 'firewalld';
      zone: string;
      /** Open now / after reload, as "port/proto" plus services (http, https...). */
      runtime: { ports: string[]; services: string[]; rich: string[] };
      permanent: { ports: string[]; services: string[]; rich: string[] };
    }
  | {
      kind: 'ufw';
      /** `ufw status` rule lines that ALLOW (e.g. "80/tcp ALLOW Anywhere"). */
      allowed: string[];
    }
  | {
      kind: 'iptables';
      /** `iptables -S INPUT` lines (first is the policy: "-P INPUT ACCEPT"). */
      rules: string[];
      /** Files the boot restores rules from (iptables-services, netfilter-persistent). */
      saveFiles: string[];
    }
  | { kind: 'none' };

export const firewallFact = defineFact<FirewallInfo>({
  name: 'firewall',
  become: true,
  command: [
    'if command -v firewall-cmd >/dev/null 2>&1 && [ "$(firewall-cmd --state 2>/dev/null)" = running ]; then',
    '  echo KIND=firewalld; echo "ZONE=$(firewall-cmd --get-default-zone)";',
    '  echo "RUNTIME_PORTS=$(firewall-cmd --list-ports)"; echo "RUNTIME_SERVICES=$(firewall-cmd --list-services)";',
    '  echo "PERMANENT_PORTS=$(firewall-cmd --permanent --list-ports)"; echo "PERMANENT_SERVICES=$(firewall-cmd --permanent --list-services)";',
    // Rich rules one per line (the source-restricted openings of etcd's and Prometheus' ports).
    "  firewall-cmd --list-rich-rules | sed 's/^/RUNTIME_RICH=/'; firewall-cmd --permanent --list-rich-rules | sed 's/^/PERMANENT_RICH=/';",
    // Ubuntu's ufw owns iptables when active: rules go through it, or its next reload drops them.
    'elif command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q "^Status: active"; then',
    "  echo KIND=ufw; ufw status | grep ' ALLOW' | sed 's/^/ALLOW=/';",
    'elif command -v iptables >/dev/null 2>&1 && iptables -S INPUT >/dev/null 2>&1; then',
    '  echo KIND=iptables; for f in /etc/sysconfig/iptables /etc/iptables/rules.v4; do [ -f "$f" ] && echo "SAVE_FILE=$f"; done;',
    "  iptables -S INPUT | sed 's/^/RULE=/';",
    'else echo KIND=none; fi',
  ].join('\n'),
  parse: ({ stdout }) => parseFirewall(stdout),
});

export function parseFirewall(text: string): FirewallInfo {
  const lines = text.split('\n');
  const values = (key: string) => lines.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1).trim());
  const words = (key: string) => values(key).join(' ').split(/\s+/).filter(Boolean);
  const kind = values('KIND')[0];
  if (kind === 'firewalld') {
    return {
      kind,
      zone: values('ZONE')[0] ?? 'public',
      runtime: { ports: words('RUNTIME_PORTS'), services: words('RUNTIME_SERVICES'), rich: values('RUNTIME_RICH') },
      permanent: { ports: words('PERMANENT_PORTS'), services: words('PERMANENT_SERVICES'), rich: values('PERMANENT_RICH') },
    };
  }
  if (kind === 'ufw') return { kind, allowed: values('ALLOW') };
  if (kind === 'iptables') return { kind, rules: values('RULE'), saveFiles: values('SAVE_FILE') };
  return { kind: 'none' };
}
