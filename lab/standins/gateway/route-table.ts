// The routes the gateway serves, in memory (so it keeps serving while etcd is away), and matching a
// request to one of them by method, Host and URI.
import type { Route } from '../shared/route.ts';
import { WeightedRoundRobin } from './balancer.ts';

export interface Match {
  route: Route;
  /** The route URI pattern that matched, for metrics. */
  uri: string;
  balancer: WeightedRoundRobin;
}

interface Entry {
  route: Route;
  balancer: WeightedRoundRobin;
}

const uriMatches = (pattern: string, path: string): boolean =>
  pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;

const hostMatches = (pattern: string, host: string): boolean =>
  pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern;

/** Higher wins: explicit priority, then a named host, then an exact URI, then a longer URI. */
const specificity = (route: Route, uri: string): number[] => [route.priority, route.hosts.length > 0 ? 1 : 0, uri.endsWith('*') ? 0 : 1, uri.length];

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** `Host` header value without port, lower case (`[::1]:80` → `::1`). */
export function hostOnly(header: string | undefined): string {
  const value = (header ?? '').toLowerCase();
  const bracketed = /^\[([^\]]*)\]/.exec(value);
  if (bracketed) return bracketed[1];
  return value.replace(/:\d+$/, '');
}

export class RouteTable {
  private readonly entries = new Map<string, Entry>();

  get size(): number {
    return this.entries.size;
  }

  set(route: Route): void {
    this.entries.set(route.id, { route, balancer: new WeightedRoundRobin(route.nodes) });
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  replaceAll(routes: Route[]): void {
    this.entries.clear();
    for (const route of routes) this.set(route);
  }

  match(method: string, hostHeader: string | undefined, path: string): Match | undefined {
    const host = hostOnly(hostHeader);
    let best: (Match & { score: number[] }) | undefined;
    for (const { route, balancer } of this.entries.values()) {
      if (!route.enabled) continue;
      if (route.methods.length > 0 && !route.methods.includes(method)) continue;
      if (route.hosts.length > 0 && !route.hosts.some((h) => hostMatches(h, host))) continue;
      for (const uri of route.uris) {
        if (!uriMatches(uri, path)) continue;
        const score = specificity(route, uri);
        if (!best || compare(score, best.score) > 0) best = { route, uri, balancer, score };
      }
    }
    return best && { route: best.route, uri: best.uri, balancer: best.balancer };
  }
}
