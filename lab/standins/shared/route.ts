// An APISIX route as stored in etcd (and as the dashboard accepts it), and its normalised form.
import { z } from 'zod/mini';
import { nonEmpty } from './schema-parts.ts';
import { formatIssues } from './zod-issues.ts';

const nodePort = z.int().check(z.gte(1), z.lte(65535));
const weight = z.int().check(z.gte(0));
const uri = z.string().check(z.startsWith('/'));

const nodeObject = z.object({ host: nonEmpty, port: nodePort, weight: z._default(weight, 1) });

const upstreamSchema = z.looseObject({
  type: z._default(z.enum(['roundrobin']), 'roundrobin'),
  // `{"10.77.0.30:80": 1}` or `[{"host": "10.77.0.30", "port": 80, "weight": 1}]`
  nodes: z.union([z.record(nonEmpty, weight), z.array(nodeObject)]),
  scheme: z.optional(z.enum(['http'])),
  pass_host: z._default(z.enum(['pass', 'node', 'rewrite']), 'pass'),
  upstream_host: z.optional(z.string()),
});

export const routeSchema = z
  .looseObject({
    id: z.optional(z.union([z.string(), z.number()])),
    uri: z.optional(uri),
    uris: z.optional(z.array(uri)),
    host: z.optional(nonEmpty),
    hosts: z.optional(z.array(nonEmpty)),
    methods: z.optional(z.array(nonEmpty)),
    priority: z._default(z.int(), 0),
    status: z._default(z.union([z.literal(0), z.literal(1)]), 1),
    upstream: upstreamSchema,
  })
  .check(z.refine((r) => r.uri !== undefined || (r.uris?.length ?? 0) > 0, { message: 'uri or uris is required' }));

export type RouteDocument = z.output<typeof routeSchema>;

export interface UpstreamNode {
  host: string;
  port: number;
  weight: number;
}

export interface Route {
  id: string;
  /** Exact paths, or prefixes written with a trailing `*`. */
  uris: string[];
  /** Lower-case host names, `*.example.com` wildcards allowed; empty = any host. */
  hosts: string[];
  /** Upper-case methods; empty = any method. */
  methods: string[];
  priority: number;
  enabled: boolean;
  nodes: UpstreamNode[];
  passHost: 'pass' | 'node' | 'rewrite';
  upstreamHost?: string;
}

/** `10.77.0.30:80`, `[::1]:8080` or a bare host (port 80). */
export function parseNodeAddress(address: string, weight: number): UpstreamNode {
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(address) ?? /^([^:]+)(?::(\d+))?$/.exec(address);
  if (!match) throw new Error(`invalid upstream node address: ${address}`);
  return { host: match[1], port: match[2] ? Number(match[2]) : 80, weight };
}

export function normaliseRoute(id: string, doc: RouteDocument): Route {
  const nodes = Array.isArray(doc.upstream.nodes)
    ? doc.upstream.nodes.map((n) => ({ host: n.host, port: n.port, weight: n.weight }))
    : Object.entries(doc.upstream.nodes).map(([address, weight]) => parseNodeAddress(address, weight));
  return {
    id,
    uris: doc.uris?.length ? doc.uris : [doc.uri as string],
    hosts: [...(doc.host ? [doc.host] : []), ...(doc.hosts ?? [])].map((h) => h.toLowerCase()),
    methods: (doc.methods ?? []).map((m) => m.toUpperCase()),
    priority: doc.priority,
    enabled: doc.status === 1,
    nodes,
    passHost: doc.upstream.pass_host,
    upstreamHost: doc.upstream.upstream_host,
  };
}

/** Parses a stored route; throws with the reason when the value is not a valid route. */
export function parseStoredRoute(id: string, json: string): Route {
  const result = routeSchema.safeParse(JSON.parse(json));
  if (!result.success) throw new Error(formatIssues(result.error));
  return normaliseRoute(id, result.data);
}
