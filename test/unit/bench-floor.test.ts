// The roles' floor replays each host's first batch as a run's log holds it: the script exactly, nothing after.
import { describe, expect, it } from 'vitest';
import { firstBatch } from '../../bench/floor.ts';

const LOG = [
  '2026-11-30T21:53:50.000Z == play preflight',
  "2026-11-30T21:53:50.584Z preflight $ n=gwfacts-6c29",
  'd=$(umask 077 && mktemp -d)',
  "  ( sh -c 'echo a' ) & p0=$!",
  "printf '%s end\\n' \"$n\"",
  '    exit 0 in 1.1 s',
  '  stdout:',
  '    (output hidden: secret)',
  '2026-11-30T21:53:51.000Z etcd $ n=gwfacts-later',
  'echo later',
].join('\n');

describe('firstBatch', () => {
  it('takes the first batch script of the log, its lines as they were sent, and stops at its exit line', () => {
    expect(firstBatch(LOG)).toBe(["n=gwfacts-6c29", 'd=$(umask 077 && mktemp -d)', "  ( sh -c 'echo a' ) & p0=$!", "printf '%s end\\n' \"$n\""].join('\n'));
  });

  it('a log without a batch (a host that read nothing): undefined, and that host reads nothing in the floor', () => {
    expect(firstBatch('2026-11-30T21:53:50.000Z == play preflight\n2026-11-30T21:53:50.100Z preflight $ uname -r\n    exit 0 in 0.1 s')).toBeUndefined();
  });
});
