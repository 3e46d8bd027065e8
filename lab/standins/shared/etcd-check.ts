// A startup check: can this client read under the prefix? Says clearly whether the credentials or
// the network are at fault, because the two need different fixes.
import type { Etcd3 } from 'etcd3';
import { ETCD_CALL_TIMEOUT_MS, isEtcdAuthError, withDeadline } from './etcd-client.ts';
import { describeError } from './log.ts';

export type EtcdCheck = { ok: true } | { ok: false; auth: boolean; reason: string };

export async function checkEtcdRead(client: Etcd3, prefix: string, timeoutMs = ETCD_CALL_TIMEOUT_MS): Promise<EtcdCheck> {
  try {
    await withDeadline(client.getAll().prefix(`${prefix}/`).limit(1).keys(), timeoutMs, 'etcd read check');
    return { ok: true };
  } catch (err) {
    return { ok: false, auth: isEtcdAuthError(err), reason: describeError(err) };
  }
}
