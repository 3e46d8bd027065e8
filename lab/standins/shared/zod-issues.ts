import type { z } from 'zod/mini';

/** `a.b: message; c: message` — the key path of every problem, for one-line errors. */
export const formatIssues = (error: z.core.$ZodError): string =>
  error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
