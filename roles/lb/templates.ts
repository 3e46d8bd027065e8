// haproxy.cfg for the stack: control plane (dashboards) and data plane (gateways, TLS passed through).
// Pure renderer, golden-tested; `haproxy -c` on the host has the last word before it is put in place.
import { type LbModel, type LbServer } from './model.ts';
import { BACKENDS } from '../../ops/layout.ts';
import type { HaproxyLevel } from '../../facts/haproxy.ts';

// Retry only when the server itself failed to answer (refused, reset, empty or garbled response), never on an
// HTTP status: a 503 may be a gateway's rate limit, and retrying it elsewhere would double the load.
// Layer-7 retries resend the request, so only idempotent GET/HEAD get them; connection failures are always
// retried (the request never reached a server). `redispatch 1` sends every retry to another server.
const RETRIES = ['retry-on conn-failure empty-response junk-response', 'http-request disable-l7-retry if !METH_GET'];

// A gateway answers any HTTP status to a host no route serves (404 "Route Not Found" from a live APISIX,
// a 2xx-4xx from a catch-all route). 5xx, a refused connection or silence is a gateway that cannot serve.
// The check needs no route and works on the bare data port, which every gateway exposes to the LB
// (the Prometheus port listens on 127.0.0.1 by default).
const GATEWAY_CHECK = [
  'option httpchk',
  'http-check send meth GET uri /gatewright-health ver HTTP/1.1 hdr Host gatewright-health.invalid',
  'http-check expect rstatus ^[234]',
];

const DASHBOARD_CHECK = ['option httpchk', 'http-check send meth GET uri /ping', 'http-check expect string pong'];

// Before 2.2 the check request is written in `option httpchk`'s own line (the Host header after an escaped CRLF).
const GATEWAY_CHECK_OLD = [
  'option httpchk GET /gatewright-health HTTP/1.1\\r\\nHost:\\ gatewright-health.invalid',
  'http-check expect rstatus ^[234]',
];
const DASHBOARD_CHECK_OLD = ['option httpchk GET /ping', 'http-check expect string pong'];

// Checks every 2 s, every 0.5 s once a connection error was seen on live traffic; 2 misses mark a server down and
// cut its sessions so clients of a dead server reconnect instead of hanging. 1.5 takes `observe` on a server line
// only (its manual: "Supported in default-server: No"; a real 1.5.0 refuses it), so there each server carries it.
const OBSERVE = 'observe layer4';
const defaultServer = (level: HaproxyLevel): string =>
  `default-server inter 2s fastinter 500ms downinter 1s rise 2 fall 2${level === '1.5' ? '' : ` ${OBSERVE}`} ` +
  'error-limit 1 on-error fastinter on-marked-down shutdown-sessions';

const serverLine = (level: HaproxyLevel) => (s: LbServer): string =>
  `server ${s.name} ${s.address}:${s.port} check${s.checkPort && s.checkPort !== s.port ? ` port ${s.checkPort}` : ''}` +
  (level === '1.5' ? ` ${OBSERVE}` : '');

const section = (head: string, lines: string[]): string => [head, ...lines.map((l) => `    ${l}`)].join('\n');

export function renderHaproxyConfig(m: LbModel, level: HaproxyLevel = 'modern'): string {
  const modern = level === 'modern';
  const gatewayCheck = modern ? GATEWAY_CHECK : GATEWAY_CHECK_OLD;
  const dashboardCheck = modern ? DASHBOARD_CHECK : DASHBOARD_CHECK_OLD;
  const retries = modern ? RETRIES : [];
  const server = serverLine(level);
  const sections = [
    section('global', [
      'log /dev/log local0',
      'log /dev/log local1 notice',
      'chroot /var/lib/haproxy',
      'user haproxy',
      'group haproxy',
      'daemon',
      'maxconn 4096',
      // Admin level for drain/ready during rolling changes; root only (mode 660, owned by root).
      `stats socket ${m.adminSocket} mode 660 level admin${level === '1.5' ? '' : ' expose-fd listeners'}`,
      'stats timeout 30s',
    ]),
    section('defaults', [
      'log global',
      'mode http',
      'option httplog',
      'option dontlognull',
      'timeout connect 2s',
      'timeout client 30s',
      'timeout server 30s',
      'timeout http-request 10s',
      'timeout http-keep-alive 10s',
      'timeout queue 5s',
      'timeout check 2s',
      'retries 3',
      level === '1.5' ? 'option redispatch' : 'option redispatch 1',
      defaultServer(level),
    ]),
    section('frontend control_plane', [`bind ${m.controlBind}`, `default_backend ${BACKENDS.dashboards}`]),
    // The console keeps a login per dashboard: one client stays on one dashboard while it is up.
    section(`backend ${BACKENDS.dashboards}`, [
      'balance source',
      'hash-type consistent',
      ...dashboardCheck,
      ...retries,
      ...m.dashboards.map(server),
    ]),
    section('frontend data_plane_http', [
      `bind ${m.httpBind}`,
      'option forwardfor',
      `default_backend ${BACKENDS.gatewaysHttp}`,
    ]),
    section(`backend ${BACKENDS.gatewaysHttp}`, [
      'balance roundrobin',
      ...gatewayCheck,
      ...retries,
      ...m.gatewaysHttp.map(server),
    ]),
    // TLS passes through untouched (the gateways hold the certificates); health is checked on the HTTP port.
    section('frontend data_plane_https', [
      'mode tcp',
      'option tcplog',
      `bind ${m.httpsBind}`,
      `default_backend ${BACKENDS.gatewaysHttps}`,
    ]),
    section(`backend ${BACKENDS.gatewaysHttps}`, [
      'mode tcp',
      'balance roundrobin',
      ...gatewayCheck,
      ...m.gatewaysHttps.map(server),
    ]),
  ];
  if (m.statsBind) {
    sections.push(section('listen stats', [`bind ${m.statsBind}`, 'stats enable', 'stats uri /', 'stats refresh 10s']));
  }
  return `# Managed by gatewright (roles/lb); local edits are overwritten.\n${sections.join('\n\n')}\n`;
}
