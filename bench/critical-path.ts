// Pure: the longest chain of node durations through the run's dependency graph.
import type { Node } from '../lib/plan.ts';

/** The longest chain of node durations through the dependency graph: the wall time the graph allows. */
export function criticalPath(nodes: Node[], durationOf: (node: Node) => number): { totalMs: number; path: Node[] } {
  const best = new Map<Node, { totalMs: number; path: Node[] }>();
  const visit = (node: Node): { totalMs: number; path: Node[] } => {
    const known = best.get(node);
    if (known) return known;
    const before = node.deps.map(visit).reduce((a, b) => (b.totalMs > a.totalMs ? b : a), { totalMs: 0, path: [] as Node[] });
    const result = { totalMs: before.totalMs + durationOf(node), path: [...before.path, node] };
    best.set(node, result);
    return result;
  };
  return nodes.map(visit).reduce((a, b) => (b.totalMs > a.totalMs ? b : a), { totalMs: 0, path: [] });
}
