// Command-line flags of the stand-ins: `-c <config>` for gateway and dashboard, `--port`/`--host` for upstream.
import { parseArgs } from 'node:util';

export function configPathFromArgs(argv: string[], defaultPath: string): string {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' } },
    allowPositionals: false,
  });
  return values.config ?? defaultPath;
}

export function listenFromArgs(argv: string[], defaults: { port: number; host: string }): { port: number; host: string } {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string', short: 'p' }, host: { type: 'string' } },
    allowPositionals: false,
  });
  const port = values.port === undefined ? defaults.port : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  return { port, host: values.host ?? defaults.host };
}
