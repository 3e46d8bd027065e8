// The `-c <config>` flag of gateway and dashboard (as apisix and manager-api take it).
import { parseArgs } from 'node:util';

export function configPathFromArgs(argv: string[], defaultPath: string): string {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' } },
    allowPositionals: false,
  });
  return values.config ?? defaultPath;
}
