// A container's wanted spec, hashed into a label: equal label = nothing to restart.
import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal specs hash equal whatever order they were built in. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

/** Short, stable hash of a spec (16 hex digits are plenty to tell two specs apart). */
export const fingerprint = (spec: unknown): string => sha256(stableJson(spec)).slice(0, 16);

/** Labels every container we start carries: the role finds its own by them (Kamal-style). */
export const LABEL_ROLE = 'io.gatewright.role';
export const LABEL_SPEC = 'io.gatewright.spec';
