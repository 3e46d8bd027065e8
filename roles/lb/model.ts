// What the load balancer serves, derived from the inventory: the data the HAProxy template renders.
// Pure: no host is contacted; the golden test feeds it a lab-shaped inventory.
import { InputError } from '../../lib/errors.ts';
import type { Host, Inventory, Vars } from '../../lib/types.ts';
import { SAFE_VALUES } from '../../lib/vars.ts';
import { LB_DEFAULTS } from '../../ops/defaults.ts';

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

/**
 * A value for haproxy.cfg, refused unless it has the shape its place needs: a newline, a space or a `#` in it
 * would add or cut a directive. The loader checks the same table; this holds for models built any other way.
 */
function safe(where: string, name: string, value: unknown, kind: keyof typeof SAFE_VALUES): string {
  const text = String(value ?? '');
  if (!SAFE_VALUES[kind].pattern.test(text)) {
    throw new InputError(`${where}: ${name} must be ${SAFE_VALUES[kind].says} (got ${JSON.stringify(value)}): refused for haproxy.cfg`);
  }
  return text;
}

/** A TCP port given as a number or digits only ("80\n" is not 80). */
function tcpPort(where: string, name: string, value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new InputError(`${where}: ${name} must be a TCP port (got ${JSON.stringify(value)})`);
  }
  return n;
}

/** A host's own var, else the stack default (role defaults only reach the hosts of their own play). */
const port = (host: Host, name: string, fallback: number): number => tcpPort(host.name, name, host.vars[name] ?? fallback);

const server = (h: Host, portVar: string, fallback: number): LbServer => ({
  name: safe(h.name, 'the inventory name', h.name, 'name'),
  address: safe(h.name, 'ansible_host', h.address, 'address'),
  port: port(h, portVar, fallback),
});

function members(inventory: Inventory, group: string): Host[] {
  return inventory.groups.has(group) ? inventory.group(group) : [];
}

// HAProxy reads the port after the last colon, so IPv6 addresses need no brackets (`:::80`).
const bind = (address: string, port: number): string => `${address}:${port}`;

export function lbModel(vars: Vars, inventory: Inventory, lbHost = 'the LB'): LbModel {
  const v = { ...LB_DEFAULTS, ...vars };
  const address = safe(lbHost, 'lb_bind_address', v.lb_bind_address, 'bindAddress');
  const gateways = members(inventory, 'gateway');
  return {
    adminSocket: safe(lbHost, 'lb_admin_socket', v.lb_admin_socket, 'path'),
    statsBind: safe(lbHost, 'lb_stats_bind', v.lb_stats_bind, 'bind'),
    controlBind: bind(address, tcpPort(lbHost, 'lb_control_port', v.lb_control_port)),
    httpBind: bind(address, tcpPort(lbHost, 'lb_http_port', v.lb_http_port)),
    httpsBind: bind(address, tcpPort(lbHost, 'lb_https_port', v.lb_https_port)),
    dashboards: members(inventory, 'control').map((h) => server(h, 'dashboard_port', 9000)),
    gatewaysHttp: gateways.map((h) => server(h, 'gateway_http_port', 80)),
    gatewaysHttps: gateways.map((h) => ({ ...server(h, 'gateway_https_port', 443), checkPort: port(h, 'gateway_http_port', 80) })),
  };
}
