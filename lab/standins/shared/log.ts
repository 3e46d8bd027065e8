// One line per event on stdout, `<time> [<level>] <message>`: what `docker logs` shows and tests wait for.
export type Level = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(name: string, minimum: Level = 'info'): Logger {
  const write = (level: Level) => (message: string) => {
    if (ORDER[level] < ORDER[minimum]) return;
    process.stdout.write(`${new Date().toISOString()} [${level}] ${name}: ${message}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** An error's message without a stack: what an operator needs in one line. */
export const describeError = (err: unknown): string =>
  err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
