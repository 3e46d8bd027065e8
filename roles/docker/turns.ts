// Whose turn it is to restart dockerd in the docker play: one host at a time, in inventory order as far as
// the hosts' progress allows, and no turn at all once one has failed (roles/docker/rolling.ts runs the turns).
import type { Step, StepContext } from '../../lib/types.ts';
import { around } from '../../lib/change.ts';

/** How long a host whose turn it could be waits for an earlier host still on its way through the role. */
export const ORDER_WAIT_MS = 120_000;

interface Waiter {
  host: string;
  index: number;
  go: () => void;
  /** Waited ORDER_WAIT_MS for an earlier host: goes as soon as no one holds the turn. */
  impatient: boolean;
}

/**
 * The play's restart turns. One host at a time; the next is the waiting host earliest in inventory order,
 * and a waiting host also lets an earlier one that is still working through the role (its node runs in the play
 * and has neither reached the restart step nor failed) go first, for ORDER_WAIT_MS at the most. A failure
 * stops the roll: later hosts throw without touching anything.
 */
export class RestartTurns {
  busy = false;
  failed?: string;
  readonly started = new Set<string>();
  readonly reached = new Set<string>();
  private waiting: Waiter[] = [];

  /** `running`: the host's node has started in the play, before its batched facts (ctx.play.running). */
  constructor(
    private readonly order: string[],
    private readonly running: (host: string) => boolean = () => false,
  ) {}

  /** The host is past the restart step, or left the role (failed): no later host waits for it any more. */
  reach(host: string): void {
    this.reached.add(host);
    this.dispatch();
  }

  async take(host: string): Promise<void> {
    const index = this.order.indexOf(host);
    const w: Waiter = { host, index, go: () => undefined, impatient: false };
    const turn = new Promise<void>((go) => (w.go = go));
    this.waiting.push(w);
    const timer = setTimeout(() => ((w.impatient = true), this.dispatch()), ORDER_WAIT_MS);
    // A node that ends (unreachable while reading its facts) says nothing to the turns: look again each second.
    const poll = setInterval(() => this.dispatch(), 1000);
    this.dispatch();
    await turn;
    clearTimeout(timer);
    clearInterval(poll);
  }

  release(): void {
    this.busy = false;
    this.dispatch();
  }

  /**
   * An earlier host still working towards its turn: in the role (its node runs, maybe still reading its batched
   * facts while a later host's steps, served from the memo, are already done), not past it, not queued.
   */
  private onItsWay = (w: Waiter): boolean =>
    this.order
      .slice(0, w.index)
      .some((h) => (this.started.has(h) || this.running(h)) && !this.reached.has(h) && !this.waiting.some((q) => q.host === h));

  private dispatch(): void {
    if (this.busy) return;
    this.waiting.sort((a, b) => a.index - b.index);
    const next = this.waiting.find((w) => w.impatient || !this.onItsWay(w));
    if (!next) return;
    this.waiting = this.waiting.filter((w) => w !== next);
    this.busy = true;
    next.go();
  }
}

const TURNS = 'docker:rolling-restart';

function turnsOf(ctx: StepContext): RestartTurns {
  let turns = ctx.play.state.get(TURNS) as RestartTurns | undefined;
  if (!turns) ctx.play.state.set(TURNS, (turns = new RestartTurns(ctx.play.hosts.map((h) => h.name), (h) => ctx.play.running(h))));
  return turns;
}

/**
 * Wraps a docker role step so the turns know where each host is: it started the role, and it left it
 * (a failure anywhere): hosts later in inventory order stop waiting for it.
 */
export function tracked(step: Step): Step {
  const out = <T>(ctx: StepContext, work: () => Promise<T>): Promise<T> => {
    turnsOf(ctx).started.add(ctx.host.name);
    return work().catch((e: unknown) => {
      turnsOf(ctx).reach(ctx.host.name);
      throw e;
    });
  };
  return {
    ...step,
    plan: (ctx) =>
      out(ctx, async () => (await step.plan(ctx)).map((c) => around(c, (inner) => out(ctx, inner)))),
    ...(step.verify ? { verify: (ctx: StepContext) => out(ctx, () => step.verify!(ctx)) } : {}),
  };
}

/** The host is past the restart step (nothing to restart, or restarted). */
export const pastRestart = (ctx: StepContext): void => turnsOf(ctx).reach(ctx.host.name);

/** Runs `fn` in this host's turn; refuses without running it once an earlier turn failed. */
export async function inTurn<T>(ctx: StepContext, fn: () => Promise<T>): Promise<T> {
  const turns = turnsOf(ctx);
  await turns.take(ctx.host.name);
  try {
    if (turns.failed) throw new Error(`not restarting dockerd on ${ctx.host.name}: the rolling restart stopped at ${turns.failed}, which failed; this host is left untouched`);
    return await fn().catch((e: unknown) => {
      turns.failed = ctx.host.name;
      throw e;
    });
  } finally {
    turns.release();
  }
}
