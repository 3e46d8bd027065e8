// Health gates poll until a check passes or time runs out; the last reason goes into the error.
import { UnreachableError } from '../lib/errors.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `check` until it returns true; it returns a string saying why not yet. */
export async function waitFor(what: string, timeoutSec: number, check: () => Promise<true | string>): Promise<void> {
  const deadline = Date.now() + timeoutSec * 1000;
  let why: true | string = 'not checked';
  for (let i = 0; ; i++) {
    why = await check().catch((e: unknown) => {
      // A host whose connection is gone will not get healthy: fail now, as unreachable, so the play's next live
      // host can take over its run-once work instead of waiting out the timeout.
      if (e instanceof UnreachableError) throw e;
      return e instanceof Error ? e.message : String(e);
    });
    if (why === true) return;
    if (Date.now() > deadline) break;
    await sleep(Math.min(500 * (i + 1), 3000));
  }
  throw new Error(`${what}: not healthy after ${timeoutSec} s (last: ${why})`);
}
