// One etcd v3 client factory for both stand-ins: endpoints with or without a scheme, optional user
// auth, optional client TLS, and bounded calls so a lost quorum fails a request instead of hanging it.
import { readFileSync } from 'node:fs';
import { ConsecutiveBreaker, circuitBreaker, handleWhen, retry } from 'cockatiel';
import { EtcdAuthenticationFailedError, EtcdPermissionDeniedError, Etcd3, isRecoverableError } from 'etcd3';

export interface EtcdSettings {
  /** `host:port` or `http(s)://host:port`. */
  endpoints: string[];
  username?: string;
  password?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/** Every unary etcd call (not watch streams) gives up after this long. */
export const ETCD_CALL_TIMEOUT_MS = 5_000;

export const withScheme = (endpoint: string): string =>
  (/^https?:\/\//.test(endpoint) ? endpoint : `http://${endpoint}`).replace(/\/+$/, '');

const readOptional = (file?: string): Buffer | undefined => (file ? readFileSync(file) : undefined);

export function createEtcdClient(settings: EtcdSettings, callTimeoutMs = ETCD_CALL_TIMEOUT_MS): Etcd3 {
  const hosts = settings.endpoints.map(withScheme);
  const secure = hosts.some((h) => h.startsWith('https://'));
  return new Etcd3({
    hosts,
    dialTimeout: callTimeoutMs,
    // Notice a member that vanished without closing the connection (power cut, paused host). etcd
    // tolerates client pings every 5 s or slower (--grpc-keepalive-min-time).
    grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 },
    auth: settings.username ? { username: settings.username, password: settings.password ?? '' } : undefined,
    credentials: secure
      ? {
          // grpc-js falls back to the system roots when no CA is given.
          rootCertificate: readOptional(settings.tls?.caFile) as Buffer,
          privateKey: readOptional(settings.tls?.keyFile),
          certChain: readOptional(settings.tls?.certFile),
        }
      : undefined,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    faultHandling: {
      // Short breaker and one retry on another member: a dead member is skipped quickly, and a call
      // without quorum fails within about two call timeouts at worst.
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(3) }),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 1 }),
    },
  });
}

/** Wrong user or password, or a user without rights: retrying will not help, the config must change. */
export const isEtcdAuthError = (err: unknown): boolean =>
  err instanceof EtcdAuthenticationFailedError ||
  err instanceof EtcdPermissionDeniedError ||
  /authentication failed|invalid user ID or password|user name is empty|permission denied/i.test(String((err as Error)?.message));

/** Rejects after `ms` with a message naming what timed out; the operation itself is left to finish. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from etcd within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
