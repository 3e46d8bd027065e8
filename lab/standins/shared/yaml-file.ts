// Reads a YAML config file and validates it with a zod schema; errors name the file and the key path.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod/mini';
import { formatIssues } from './zod-issues.ts';

export function readYamlConfig<S extends z.ZodMiniType>(file: string, schema: S): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read config ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = parse(text) ?? {};
  } catch (err) {
    throw new Error(`${file}: invalid YAML: ${(err as Error).message}`);
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new Error(`${file}: ${formatIssues(result.error)}`);
  }
  return result.data;
}
