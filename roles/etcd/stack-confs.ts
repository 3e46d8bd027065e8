// The etcd endpoints the rest of the stack is configured with: `conf.etcd.endpoints` of the dashboards' conf.yaml
// and `etcd.host` of the gateways' config.yaml, in every bundle folder (api7-*-cp, api7-*-dp: another version's
// too) on the control and gateway hosts. Read only before a bootstrap: the etcd play runs before the dashboard
// and gateway plays rewrite these keys, so a stack still pointed at a cluster outside the etcd group (the group
// replaced outright) would be repointed at a new, empty cluster.
import { parse } from 'yaml';
import { sh } from '../../lib/shell.ts';
import { defineFact, type Fact, type StepContext } from '../../lib/types.ts';
import { DASHBOARD_CONF, GATEWAY_CONF, GROUPS } from '../../ops/layout.ts';
import { etcdMembers } from '../../ops/topology.ts';
import { stackVars } from '../../vars/schema.ts';

export interface StackConf {
  /** The conf file, on its host. */
  file: string;
  /** The etcd endpoints it names, as written. */
  endpoints: string[];
}

/** Each conf found, base64 on one line after its path's mark; `confs=done` proves the read was whole. */
export const stackConfsCmd = (installDir: string): string =>
  [
    'set -e',
    sh`for f in ${installDir}/api7-*-cp/${DASHBOARD_CONF} ${installDir}/api7-*-dp/${GATEWAY_CONF}; do`,
    `  if [ -f "$f" ]; then b=$(base64 -w0 < "$f"); printf 'conf %s %s\\n' "$b" "$f"; elif [ -e "$f" ]; then printf 'odd %s\\n' "$f"; fi`,
    'done',
    'echo confs=done',
  ].join('\n');

/** The endpoints a conf names: conf.etcd.endpoints (dashboard), etcd.host or deployment.etcd.host (gateway). */
export function confEndpoints(file: string, text: string): string[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid YAML (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  const at = (...path: string[]): unknown => path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), doc);
  const value = file.endsWith(DASHBOARD_CONF) ? at('conf', 'etcd', 'endpoints') : (at('etcd', 'host') ?? at('deployment', 'etcd', 'host'));
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((e) => typeof e === 'string')) throw new Error(`${file}: its etcd endpoints are not a list of addresses`);
  return list as string[];
}

/** Parses stackConfsCmd's output; a read cut short or a file that is not a regular one throws (unknown). */
export function parseStackConfs(stdout: string): StackConf[] {
  const lines = stdout.split('\n').filter(Boolean);
  if (!lines.includes('confs=done')) throw new Error(`the read of the bundles' confs was cut short (got: ${stdout.trim().slice(-120) || 'nothing'})`);
  const odd = lines.find((l) => l.startsWith('odd '));
  if (odd) throw new Error(`${odd.slice(4)} is not a regular file`);
  return lines
    .filter((l) => l.startsWith('conf '))
    .map((l) => {
      const [, b64, file] = /^conf (\S+) (.+)$/.exec(l) ?? [];
      if (!file) throw new Error(`odd line in the read of the bundles' confs: ${l.slice(0, 80)}`);
      return { file, endpoints: confEndpoints(file, Buffer.from(b64, 'base64').toString('utf8')) };
    });
}

/** A host's bundle confs, read as root; secret: they hold etcd's and the console's passwords. */
export const stackConfsFact = (installDir: string): Fact<StackConf[]> =>
  defineFact({
    name: `etcd endpoints in the bundles' confs under ${installDir}`,
    command: stackConfsCmd(installDir),
    become: true,
    secret: true,
    parse(r) {
      if (r.code !== 0) throw new Error(`reading the bundles' confs failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
      return parseStackConfs(r.stdout);
    },
  });

/** One control or gateway host's confs, or why they could not be read. */
export type HostConfs = { host: string; confs: StackConf[] } | { host: string; error: string };

/** Every control and gateway host's confs, read now (unknown is a row with its error, never "no conf"). */
export async function readStackConfs(ctx: StepContext): Promise<HostConfs[]> {
  const groups = [GROUPS.control, GROUPS.gateway].filter((g) => ctx.inventory.groups.has(g));
  const hosts = [...new Set(groups.flatMap((g) => ctx.inventory.group(g).map((h) => h.name)))];
  return Promise.all(
    hosts.map(async (host): Promise<HostConfs> => {
      const on = ctx.on(host);
      try {
        return { host, confs: await on.fact(stackConfsFact(stackVars(on).api7_install_dir)) };
      } catch (e) {
        return { host, error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
      }
    }),
  );
}

/** host:port, lowercased, without scheme or slash; no port means etcd's 2379. */
export function endpointKey(endpoint: string): string {
  const bare = endpoint.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  return /:\d+$/.test(bare) ? bare : `${bare}:2379`;
}

/** The vendors ship 127.0.0.1:2379; a conf pointed at a cluster names its members' addresses. */
const isLoopback = (key: string): boolean => /^(127\.|localhost:|\[::1\]:)/.test(key);

/** What the stack's confs show beyond the etcd group: endpoints outside it (each with where), and unread hosts. */
export interface StackView {
  unread: { host: string; error: string }[];
  outside: { endpoint: string; where: string[] }[];
}

/** The endpoints the confs name that are neither the etcd group's members nor loopback. */
export function stackView(reads: HostConfs[], group: string[]): StackView {
  const ours = new Set(group.map(endpointKey));
  const outside = new Map<string, { endpoint: string; where: string[] }>();
  for (const r of reads) {
    if (!('confs' in r)) continue;
    for (const c of r.confs) {
      for (const e of c.endpoints) {
        const key = endpointKey(e);
        if (ours.has(key) || isLoopback(key)) continue;
        const o = outside.get(key) ?? { endpoint: e, where: [] };
        o.where.push(`${c.file} on ${r.host}`);
        outside.set(key, o);
      }
    }
  }
  return { unread: reads.flatMap((r) => ('error' in r ? [{ host: r.host, error: r.error }] : [])), outside: [...outside.values()] };
}

/** host:port of every member of the etcd group, as the confs would name them. */
export const groupEndpoints = (ctx: StepContext): string[] =>
  etcdMembers(ctx.inventory, ctx.vars).map((m) => `${m.address}:${stackVars(ctx).etcd_client_port}`);
