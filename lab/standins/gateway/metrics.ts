// The Prometheus text the gateway exports (names from APISIX's prometheus plugin, docs/STANDINS.md).
export interface StatusLabels {
  code: number;
  route: string;
  matchedUri: string;
  matchedHost: string;
  node: string;
}

export interface GaugeValues {
  etcdReachable: boolean;
  routesTotal: number;
  hostname: string;
  version: string;
}

const escape = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (pairs: Record<string, string>): string =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escape(v)}"`)
    .join(',')}}`;

export class Metrics {
  private readonly statuses = new Map<string, number>();
  private requests = 0;

  recordStatus(s: StatusLabels): void {
    this.requests++;
    const key = labels({ code: String(s.code), route: s.route, matched_uri: s.matchedUri, matched_host: s.matchedHost, service: '', consumer: '', node: s.node });
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
  }

  render(g: GaugeValues): string {
    const lines = [
      '# HELP apisix_http_status HTTP status codes per service in APISIX',
      '# TYPE apisix_http_status counter',
      ...[...this.statuses].map(([key, count]) => `apisix_http_status${key} ${count}`),
      '# HELP apisix_http_requests_total The total number of client requests since APISIX started',
      '# TYPE apisix_http_requests_total gauge',
      `apisix_http_requests_total ${this.requests}`,
      '# HELP apisix_etcd_reachable Config server etcd reachable from APISIX, 0 is unreachable',
      '# TYPE apisix_etcd_reachable gauge',
      `apisix_etcd_reachable ${g.etcdReachable ? 1 : 0}`,
      '# HELP apisix_node_info Info of APISIX node',
      '# TYPE apisix_node_info gauge',
      `apisix_node_info${labels({ hostname: g.hostname, version: g.version })} 1`,
      '# HELP apisix_routes_total Routes loaded from etcd (stand-in)',
      '# TYPE apisix_routes_total gauge',
      `apisix_routes_total ${g.routesTotal}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}
