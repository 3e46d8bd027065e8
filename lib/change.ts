// Applying a change planned as data: its writes, then its commands, then its `apply` (orchestration, when it has
// one). The same data prints under `--check -v`, so what a run would do is read, not guessed.
import type { Change, PlannedCommand, StepContext } from './types.ts';

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

/** A bare string runs as root (the roles' usual need); an object's `become` left out means the host's default. */
const commandOf = (c: PlannedCommand) => (typeof c === 'string' ? { command: c, become: true } : c);

/** `write <path> (mode, owner)` and `$ <command>` lines, in the order `applyChange` does them. */
export function plannedLines(change: Change): string[] {
  return [
    ...(change.writes ?? []).map((w) => `write ${w.path}${w.mode !== undefined ? ` (mode ${octal(w.mode)}${w.owner ? `, owner ${w.owner}` : ''})` : ''}${w.secret ? ' [secret content]' : ''}`),
    ...(change.commands ?? []).map((c) => {
      const { command, become, stdin } = commandOf(c);
      return `$ ${command}${become === false ? ' (as the login user)' : ''}${stdin !== undefined ? ' (stdin: hidden)' : ''}`;
    }),
    ...(change.apply && !change.writes?.length && !change.commands?.length ? ['(orchestrated: see the summary)'] : []),
  ];
}

export async function applyChange(ctx: StepContext, change: Change): Promise<void> {
  const inner = async () => {
    for (const w of change.writes ?? []) await ctx.transport.put(w.path, w.content, { mode: w.mode, owner: w.owner, become: w.become });
    for (const c of change.commands ?? []) {
      const { command, become, timeoutMs, stdin, stream } = commandOf(c);
      await ctx.run(command, { become, timeoutMs, stdin, stream });
    }
    await change.apply?.();
  };
  await (change.around ? change.around(inner) : inner());
}

/** The same change, applied inside `wrap` (outside any wrap it already had); its writes and commands still print. */
export const around = (change: Change, wrap: (inner: () => Promise<void>) => Promise<void>): Change => ({
  ...change,
  around: (inner) => wrap(() => (change.around ? change.around(inner) : inner())),
});
