// Keeps the route table in step with `<prefix>/routes/`: list everything, then watch from the next
// revision. When the watch breaks (etcd down, member lost, compaction), list again and watch again,
// with a capped backoff. Meanwhile the table keeps what it had, so the gateway keeps serving.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { ETCD_CALL_TIMEOUT_MS, withDeadline } from '../shared/etcd-client.ts';
import { describeError, type Logger } from '../shared/log.ts';
import { parseStoredRoute, type Route } from '../shared/route.ts';
import type { RouteTable } from './route-table.ts';

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8_000;

export class RouteSync {
  /** True while the last list succeeded and its watch is alive: `apisix_etcd_reachable`. */
  reachable = false;
  private stopped = false;
  private watcher: Watcher | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly client: Etcd3,
    /** e.g. `/api7/default/routes/` */
    private readonly dir: string,
    private readonly table: RouteTable,
    private readonly log: Logger,
  ) {}

  /** Loads the routes once (success or not), then keeps them in sync in the background. */
  async start(): Promise<void> {
    let attempt = await this.listAndWatch().catch((err: unknown) => ({ error: err }));
    void (async () => {
      let backoff = FIRST_BACKOFF_MS;
      while (!this.stopped) {
        if ('broken' in attempt) {
          await attempt.broken;
          backoff = FIRST_BACKOFF_MS;
        } else {
          this.log.warn(`cannot sync routes from etcd: ${describeError(attempt.error)}; serving ${this.table.size} routes from memory`);
        }
        this.reachable = false;
        if (this.stopped) break;
        await sleep(backoff);
        if (this.stopped) break;
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        attempt = await this.listAndWatch().catch((err: unknown) => ({ error: err }));
      }
    })();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    void this.watcher?.cancel().catch(() => undefined);
  }

  /** Lists every route and starts the watch; `broken` settles when the watch breaks. */
  private async listAndWatch(): Promise<{ broken: Promise<void> }> {
    const res = await withDeadline(this.client.getAll().prefix(this.dir).exec(), ETCD_CALL_TIMEOUT_MS, `list ${this.dir}`);
    const routes = res.kvs.flatMap((kv) => this.parse(kv) ?? []);
    this.table.replaceAll(routes);
    this.log.info(`loaded ${routes.length} routes from etcd (revision ${res.header.revision})`);

    const watcher = this.client.watch().prefix(this.dir).startRevision(String(BigInt(res.header.revision) + 1n)).watcher();
    this.watcher = watcher;
    this.reachable = true;
    watcher.on('put', (kv) => {
      const route = this.parse(kv);
      if (route) this.table.set(route);
      else this.table.delete(this.idOf(kv) ?? '');
      this.log.info(`route ${this.idOf(kv)} ${route ? 'updated' : 'dropped (invalid)'}`);
    });
    watcher.on('delete', (kv) => {
      this.table.delete(this.idOf(kv) ?? '');
      this.log.info(`route ${this.idOf(kv)} deleted`);
    });
    const broken = new Promise<void>((resolve) => {
      const broke = (why: string) => (err: unknown) => {
        this.log.warn(`etcd watch on ${this.dir} ${why}: ${describeError(err)}`);
        this.wake = undefined;
        void watcher.cancel().catch(() => undefined);
        resolve();
      };
      this.wake = resolve;
      watcher.once('disconnected', broke('disconnected'));
      watcher.once('error', broke('failed'));
    });
    return { broken };
  }

  private idOf(kv: IKeyValue): string | undefined {
    const id = kv.key.toString().slice(this.dir.length);
    return id && !id.includes('/') ? id : undefined;
  }

  private parse(kv: IKeyValue): Route | undefined {
    const id = this.idOf(kv);
    if (!id) return undefined;
    try {
      return parseStoredRoute(id, kv.value.toString());
    } catch (err) {
      this.log.warn(`ignoring route ${id}: ${describeError(err)}`);
      return undefined;
    }
  }
}
