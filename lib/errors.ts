// Error kinds the CLI maps to exit codes and the runner to statuses.

/** Bad input: inventory, flags, playbook (exit code 4). */
export class InputError extends Error {
  override name = 'InputError';
}

/** The host could not be reached or its connection died (recap: unreachable, exit code 3). */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
  constructor(
    readonly host: string,
    message: string,
    /** Worth retrying (network), as opposed to auth failures and host-key refusals. */
    readonly transient = false,
  ) {
    super(message);
  }
}

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
