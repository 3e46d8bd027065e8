// Variable defaults shared by the stack roles (etcd, dashboard, gateway, smoke): the names of
// docs/ARCHITECTURE.md "Variables". Each role spreads these into its own `defaults`.
export const STACK_DEFAULTS = {
  api7_edition: 'api7',
  api7_version: '2.13.2304',
  api7_bundle_dir: './bundles',
  api7_install_dir: '/opt/api7',
  cluster_id: 'default',
  etcd_group: 'etcd',
  control_group: 'control',
  gateway_group: 'gateway',
  lb_group: 'lb',
  upstream_group: 'upstream',
  upstream_port: 80,
  etcd_version: '3.4.23',
  etcd_client_port: 2379,
  etcd_peer_port: 2380,
  etcd_auth_enabled: false,
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
