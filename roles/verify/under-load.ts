// Each check runs under a steady load sent from the controller through the LB: the figures (sent, failed,
// longest gap) are reported with the step, and a single failed request fails the check.
import type { StepContext } from '../../lib/types.ts';
import { waitFor } from '../../ops/retry.ts';
import { probe, type HttpRequest } from './http.ts';
import { formatStats, startLoad, type LoadStats } from './load.ts';

/** Two clients, one request every 50 ms each (about 40 per second); never more than 5 minutes or 20000. */
export const LOAD = { concurrency: 2, intervalMs: 50, maxRequests: 20_000, maxDurationMs: 300_000, warmupMs: 2000 };

export interface Target {
  /** Says what is asked, e.g. "GET /get Host test.com via lb1:80". */
  name: string;
  request: HttpRequest;
  accept?(body: string): boolean;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `disruption` under load on `target`; reports the figures; throws when a request failed. */
export async function underLoad(ctx: StepContext, target: Target, disruption: () => Promise<void>): Promise<LoadStats> {
  const client = probe(target.request, target.accept);
  // The target must answer before anything is stopped: otherwise the check would measure a broken stack.
  await waitFor(`${target.name} before the check`, 30, () => client.send().then(() => true as const));
  const load = startLoad({ send: client.send, ...LOAD });
  let stats: LoadStats | undefined;
  try {
    await sleep(LOAD.warmupMs);
    await disruption();
    await sleep(LOAD.warmupMs);
  } finally {
    stats = await load.stop();
    client.close();
    ctx.report?.('load', `${target.name}: ${formatStats(stats)}`);
    ctx.report?.('figures', stats);
    ctx.log(`${target.name}: ${formatStats(stats)}`);
  }
  if (stats.failed > 0) throw new Error(`${stats.failed} of ${stats.sent} requests failed: ${target.name}: ${formatStats(stats)}`);
  if (stats.boundReached) throw new Error(`the load ran out (${stats.boundReached} bound) before the check was over: ${formatStats(stats)}`);
  return stats;
}
