// APISIX's start-up rule: refuse to start when half or more of the etcd hosts are unreachable, so a
// gateway never comes up against a minority it cannot trust. Each host is asked on its own.
import { createEtcdClient, withScheme, type EtcdSettings } from '../shared/etcd-client.ts';
import { checkEtcdRead } from '../shared/etcd-check.ts';

const PROBE_TIMEOUT_MS = 3_000;

export interface ProbeResult {
  host: string;
  ok: boolean;
  auth: boolean;
  reason?: string;
}

export async function probeEtcdHosts(settings: EtcdSettings, prefix: string): Promise<ProbeResult[]> {
  return Promise.all(
    settings.endpoints.map(async (endpoint) => {
      const client = createEtcdClient({ ...settings, endpoints: [endpoint] }, PROBE_TIMEOUT_MS);
      try {
        const check = await checkEtcdRead(client, prefix, PROBE_TIMEOUT_MS);
        return check.ok ? { host: withScheme(endpoint), ok: true, auth: false } : { host: withScheme(endpoint), ...check };
      } finally {
        client.close();
      }
    }),
  );
}

/** Throws the reason to refuse starting, if any. */
export function assertEtcdMajority(results: ProbeResult[], username: string | undefined): void {
  const rejected = results.find((r) => r.auth);
  if (rejected) {
    throw new Error(`etcd authentication failed for user '${username ?? ''}' at ${rejected.host} (check etcd.user/etcd.password): ${rejected.reason}`);
  }
  const down = results.filter((r) => !r.ok);
  if (down.length * 2 >= results.length) {
    const detail = down.map((r) => `${r.host}: ${r.reason}`).join('; ');
    throw new Error(`failed to connect etcd: ${down.length} of ${results.length} hosts unreachable, refusing to start (${detail})`);
  }
}
