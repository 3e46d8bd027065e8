import type { z } from 'zod/mini';

/** `a.b: message; c.d: unknown key` — the key path of every problem, for one-line errors. */
export const formatIssues = (error: z.core.$ZodError): string =>
  error.issues
    .flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) => `${[...i.path, k].join('.')}: unknown key (misspelt, or not a key of this file's format)`)
        : [`${i.path.join('.') || '(root)'}: ${i.message}`],
    )
    .join('; ');
