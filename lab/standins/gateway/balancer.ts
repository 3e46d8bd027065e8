// Smooth weighted round-robin (nginx's): weights 5,1,1 give a a b a c a a, never a burst of one node.
import type { UpstreamNode } from '../shared/route.ts';

export class WeightedRoundRobin {
  private readonly nodes: UpstreamNode[];
  private readonly current: number[];

  constructor(nodes: UpstreamNode[]) {
    this.nodes = nodes.filter((n) => n.weight > 0);
    this.current = this.nodes.map(() => 0);
  }

  /** The next node, or undefined when no node has a positive weight. */
  next(): UpstreamNode | undefined {
    let total = 0;
    let best = -1;
    this.nodes.forEach((node, i) => {
      this.current[i] += node.weight;
      total += node.weight;
      if (best < 0 || this.current[i] > this.current[best]) best = i;
    });
    if (best < 0) return undefined;
    this.current[best] -= total;
    return this.nodes[best];
  }
}
