// What the load balancer serves, derived from the inventory: the data the HAProxy template renders.
// Pure: no host is contacted; the golden test feeds it a lab-shaped inventory.
import type { Host, Inventory, Vars } from '../../lib/types.ts';

/** One backend server: HAProxy names it after the inventory host, so socket commands can find it. */
export interface LbServer {
  name: string;
  address: string;
  port: number;
  /** Port the health check talks to when it differs from `port` (TLS passthrough checks plain HTTP). */
  checkPort?: number;
}

export interface LbModel {
  /** Admin-level runtime API socket (drain/ready for rolling changes). */
  adminSocket: string;
  /** Read-only stats page, `address:port`; empty: none. */
  statsBind: string;
  /** `address:port` of each frontend (address empty: every address of the host). */
  controlBind: string;
  httpBind: string;
  httpsBind: string;
  dashboards: LbServer[];
  gatewaysHttp: LbServer[];
  gatewaysHttps: LbServer[];
}

/** Backend names: the socket commands of rolling changes address servers through them. */
export const BACKENDS = {
  dashboards: 'dashboards',
  gatewaysHttp: 'gateways_http',
  gatewaysHttps: 'gateways_https',
} as const;

/** Which backends hold a host of each stack group (what a rolling change drains). */
export const BACKENDS_OF_GROUP = {
  control: [BACKENDS.dashboards],
  gateway: [BACKENDS.gatewaysHttp, BACKENDS.gatewaysHttps],
} as const satisfies Record<string, readonly string[]>;

export const LB_DEFAULTS = {
  lb_bind_address: '',
  lb_control_port: 9000,
  lb_http_port: 80,
  lb_https_port: 443,
  lb_admin_socket: '/var/lib/haproxy/admin.sock',
  lb_stats_bind: '127.0.0.1:8404',
  lb_config_file: '/etc/haproxy/haproxy.cfg',
  lb_drain_timeout_s: 30,
  lb_ready_timeout_s: 60,
} satisfies Vars;

/** A host's own var, else the stack default (role defaults only reach the hosts of their own play). */
function port(host: Host, name: string, fallback: number): number {
  const value = Number(host.vars[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${host.name}: ${name} must be a TCP port, got ${JSON.stringify(host.vars[name])}`);
  }
  return value;
}

function members(inventory: Inventory, group: string): Host[] {
  return inventory.groups.has(group) ? inventory.group(group) : [];
}

// HAProxy reads the port after the last colon, so IPv6 addresses need no brackets (`:::80`).
const bind = (address: string, port: number): string => `${address}:${port}`;

export function lbModel(vars: Vars, inventory: Inventory): LbModel {
  const v = { ...LB_DEFAULTS, ...vars };
  const address = String(v.lb_bind_address ?? '');
  const gateways = members(inventory, 'gateway');
  return {
    adminSocket: String(v.lb_admin_socket),
    statsBind: String(v.lb_stats_bind ?? ''),
    controlBind: bind(address, Number(v.lb_control_port)),
    httpBind: bind(address, Number(v.lb_http_port)),
    httpsBind: bind(address, Number(v.lb_https_port)),
    dashboards: members(inventory, 'control').map((h) => ({
      name: h.name,
      address: h.address,
      port: port(h, 'dashboard_port', 9000),
    })),
    gatewaysHttp: gateways.map((h) => ({ name: h.name, address: h.address, port: port(h, 'gateway_http_port', 80) })),
    gatewaysHttps: gateways.map((h) => ({
      name: h.name,
      address: h.address,
      port: port(h, 'gateway_https_port', 443),
      checkPort: port(h, 'gateway_http_port', 80),
    })),
  };
}
