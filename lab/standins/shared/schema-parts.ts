// Schema pieces the config and route schemas share. zod/mini rather than zod: the classic API costs
// each stand-in about 10 MB of resident memory for nothing we use.
import { z } from 'zod/mini';

export const port = z.int().check(z.gte(0), z.lte(65535));
export const nonEmpty = z.string().check(z.minLength(1));
/** An optional string where `""` and `null` mean "not set" (YAML configs write `user: ""`). */
export const optionalText = z.pipe(
  z.nullish(z.string()),
  z.transform((v) => v || undefined),
);
