import type { z } from 'zod';

/** `a.b: message; c: message` — the key path of every problem, for one-line errors. */
export const formatIssues = (error: z.ZodError): string =>
  error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
