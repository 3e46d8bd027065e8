// Where the console keeps its objects in etcd (docs/STANDINS.md): clusters at `<prefix>/clusters/<id>`,
// routes at `<prefix>/<cluster_id>/routes/<id>` (edition api7) or `<prefix>/routes/<id>` (edition apisix).
// Every call is bounded: without quorum etcd never answers a write, and the console must say so.
import type { Etcd3 } from 'etcd3';
import { ETCD_CALL_TIMEOUT_MS, withDeadline } from '../shared/etcd-client.ts';

export type StoredObject = Record<string, unknown>;

export class EtcdStore {
  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly timeoutMs = ETCD_CALL_TIMEOUT_MS,
  ) {}

  clusterKey(id: string): string {
    return `${this.prefix}/clusters/${id}`;
  }

  routesDir(clusterId?: string): string {
    return clusterId ? `${this.prefix}/${clusterId}/routes/` : `${this.prefix}/routes/`;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const text = await withDeadline(this.client.get(key).string(), this.timeoutMs, `get ${key}`);
    return text === null ? undefined : (JSON.parse(text) as StoredObject);
  }

  async put(key: string, value: StoredObject): Promise<void> {
    await withDeadline(this.client.put(key).value(JSON.stringify(value)).exec(), this.timeoutMs, `put ${key}`);
  }

  /** True when the key existed. */
  async delete(key: string): Promise<boolean> {
    const res = await withDeadline(this.client.delete().key(key).exec(), this.timeoutMs, `delete ${key}`);
    return Number(res.deleted) > 0;
  }

  /** Every JSON object stored under a directory, in key order; values that are not JSON objects are skipped. */
  async list(dir: string): Promise<StoredObject[]> {
    const all = await withDeadline(this.client.getAll().prefix(dir).sort('Key', 'Ascend').strings(), this.timeoutMs, `list ${dir}`);
    return Object.values(all).flatMap((text) => {
      try {
        const value = JSON.parse(text) as unknown;
        return value && typeof value === 'object' && !Array.isArray(value) ? [value as StoredObject] : [];
      } catch {
        return [];
      }
    });
  }
}
