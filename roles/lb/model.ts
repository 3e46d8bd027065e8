// What the load balancer serves, derived from the inventory: the data the HAProxy template renders.
// Pure: no host is contacted; the golden test feeds it a lab-shaped inventory.
import { InputError } from '../../lib/errors.ts';
import type { Host, Inventory, Vars } from '../../lib/types.ts';
import { SAFE_VALUES } from '../../lib/vars.ts';
import { VARIABLES } from '../../vars/schema.ts';
import { GROUPS } from '../../ops/layout.ts';

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

type PortVar = 'dashboard_port' | 'gateway_http_port' | 'gateway_https_port';
type LbVar = 'lb_bind_address' | 'lb_admin_socket' | 'lb_stats_bind' | 'lb_control_port' | 'lb_http_port' | 'lb_https_port';

/** A variable as given (the checks below hold for it however the vars were built), else the schema's default. */
const given = (vars: Vars, name: PortVar | LbVar): unknown => vars[name] ?? VARIABLES[name].default;

/** A backend host's own port (role defaults only reach the hosts of their own play). */
const port = (host: Host, name: PortVar): number => tcpPort(host.name, name, given(host.vars, name));

const server = (h: Host, portVar: PortVar): LbServer => ({
  name: safe(h.name, 'the inventory name', h.name, 'name'),
  address: safe(h.name, 'ansible_host', h.address, 'address'),
  port: port(h, portVar),
});

function members(inventory: Inventory, group: string): Host[] {
  return inventory.groups.has(group) ? inventory.group(group) : [];
}

// HAProxy reads the port after the last colon, so IPv6 addresses need no brackets (`:::80`).
const bind = (address: string, port: number): string => `${address}:${port}`;

/**
 * The model for the LB host whose vars are `vars`. A run hands it values the schema checked at load; the guards
 * stay because a model can be built from raw vars (tests, code), and each guard is one regex.
 */
export function lbModel(vars: Vars, inventory: Inventory, lbHost = 'the LB'): LbModel {
  const lb = (name: LbVar) => given(vars, name);
  const address = safe(lbHost, 'lb_bind_address', lb('lb_bind_address'), 'bindAddress');
  const gateways = members(inventory, GROUPS.gateway);
  return {
    adminSocket: safe(lbHost, 'lb_admin_socket', lb('lb_admin_socket'), 'path'),
    statsBind: safe(lbHost, 'lb_stats_bind', lb('lb_stats_bind'), 'bind'),
    controlBind: bind(address, tcpPort(lbHost, 'lb_control_port', lb('lb_control_port'))),
    httpBind: bind(address, tcpPort(lbHost, 'lb_http_port', lb('lb_http_port'))),
    httpsBind: bind(address, tcpPort(lbHost, 'lb_https_port', lb('lb_https_port'))),
    dashboards: members(inventory, GROUPS.control).map((h) => server(h, 'dashboard_port')),
    gatewaysHttp: gateways.map((h) => server(h, 'gateway_http_port')),
    gatewaysHttps: gateways.map((h) => ({ ...server(h, 'gateway_https_port'), checkPort: port(h, 'gateway_http_port') })),
  };
}
