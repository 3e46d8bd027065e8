// Graceful stop on SIGTERM/SIGINT: stop accepting, let in-flight requests finish, exit within a bound.
import type { Server } from 'node:http';
import type { Logger } from './log.ts';

export function closeOnSignals(servers: Server[], log: Logger, options: { graceMs?: number; cleanup?: () => Promise<void> | void } = {}): void {
  const graceMs = options.graceMs ?? 5_000;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received, shutting down (in-flight requests get up to ${graceMs} ms)`);
    const closed = servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive connections with no request in flight would hold close() open.
          server.closeIdleConnections();
        }),
    );
    const force = setTimeout(() => {
      log.warn('grace period over, closing the remaining connections');
      for (const server of servers) server.closeAllConnections();
    }, graceMs);
    force.unref();
    void Promise.all(closed)
      .then(() => options.cleanup?.())
      .catch((err) => log.warn(`cleanup failed: ${String(err)}`))
      .finally(() => {
        log.info('stopped');
        process.exit(0);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
