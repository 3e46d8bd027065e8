// Variable defaults of the stack roles (etcd, dashboard, gateway, smoke, lb, verify): each role spreads them
// into its own `defaults`.
import type { Vars } from '../lib/types.ts';
export const STACK_DEFAULTS = {
  api7_edition: 'api7',
  api7_version: '2.13.2304',
  api7_bundle_dir: './bundles',
  api7_install_dir: '/opt/api7',
  cluster_id: 'default',
  upstream_group: 'upstream',
  upstream_port: 80,
  etcd_version: '3.4.23',
  etcd_client_port: 2379,
  etcd_peer_port: 2380,
  etcd_auth_enabled: false,
  etcd_data_dir: '/usr/local/etcd/etcd_data',
  etcd_cluster_token: 'etcd-cluster',
  etcd_enable_v2: true,
  etcd_snapshot_keep: 5,
  etcd_tls_enabled: false,
  dashboard_port: 9000,
  /** The services of the bundles' compose files we run (the guide: `docker compose up api7-dashboard -d`). */
  dashboard_compose_service: 'api7-dashboard',
  gateway_compose_service: 'api7-gateway',
  dashboard_admin_user: 'admin',
  dashboard_allow_list: [] as string[],
  gateway_http_port: 80,
  gateway_https_port: 443,
  gateway_prometheus_port: 9091,
  smoke_route_enabled: false,
  smoke_route_host: 'test.com',
  smoke_route_uri: '/get',
  /** Seconds a health gate waits before it fails the step. */
  health_timeout: 90,
};

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
