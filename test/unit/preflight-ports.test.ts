import { describe, expect, it } from 'vitest';
import { claimedPorts, portConflicts } from '../../roles/preflight/ports.ts';
import { stackVars } from '../../vars/schema.ts';
import { API_MARK } from '../../facts/engine-api.ts';
import { parseContainers, parseListeners } from '../../roles/preflight/network-facts.ts';

/** The port variables as a role gets them: parsed and defaulted by the schema. */
const typed = (vars: Record<string, unknown> = {}) => stackVars({ vars });

const ETCD_ID = 'a'.repeat(64);
const WEB_ID = 'b'.repeat(64);

describe('claimedPorts', () => {
  it.each([
    [['etcd', 'control'], [2379, 2380, 9000]],
    [['etcd'], [2379, 2380]],
    [['gateway'], [80, 443, 9091]],
    [['lb'], [80, 443, 9000, 8404]],
    [['upstream'], []],
  ])('%j -> %j', (groups, ports) => {
    expect(claimedPorts(groups, typed()).map((c) => c.port)).toEqual(ports);
  });

  it('follows the port variables and marks a loopback stats bind local', () => {
    const claims = claimedPorts(['gateway', 'lb'], typed({ gateway_http_port: 8080, lb_http_port: 80, lb_stats_bind: '127.0.0.1:8405' }));
    expect(claims.map((c) => [c.port, c.variable, c.local ?? false])).toEqual([
      [8080, 'gateway_http_port', false],
      [443, 'gateway_https_port', false],
      [9091, 'gateway_prometheus_port', false],
      [80, 'lb_http_port', false],
      [9000, 'lb_control_port', false],
      [8405, 'lb_stats_bind', true],
    ]);
    expect(claimedPorts(['lb'], typed({ lb_stats_bind: '' })).map((c) => c.port)).toEqual([80, 443, 9000]);
  });

  it('a port variable that is not a port never reaches it: the schema refuses it (at load, and in stackVars)', () => {
    expect(() => claimedPorts(['control'], typed({ dashboard_port: 'nine' }))).toThrow(/variable dashboard_port: must be/);
    expect(() => typed({ gateway_http_port: 70000 })).toThrow(/variable gateway_http_port: must be a TCP port/);
  });
});

describe('portConflicts', () => {
  const listeners = parseListeners(
    [
      `LISTEN 0 4096 10.77.0.11:2379 0.0.0.0:* users:(("etcd",pid=300,fd=7))`,
      `LISTEN 0 4096 *:2380 *:* users:(("etcd",pid=300,fd=6))`,
      `LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=402,fd=6),("nginx",pid=401,fd=6))`,
      `LISTEN 0 511 [::]:9000 [::]:* users:(("node",pid=500,fd=20))`,
      `LISTEN 0 4096 0.0.0.0:443 0.0.0.0:* users:(("docker-proxy",pid=610,fd=4))`,
      `CGROUP 300 0::/system.slice/docker-${ETCD_ID}.scope `,
      `CGROUP 401 0::/system.slice/nginx.service `,
      `CGROUP 500 12:memory:/docker/${WEB_ID} 0::/ `,
    ].join('\n'),
  );
  const containers = parseContainers(
    `${ETCD_ID}\tetcd\tio.gatewright.role=etcd,io.gatewright.spec=abc\t\n` +
      `${WEB_ID}\tweb\tcom.example=1\t0.0.0.0:443->8443/tcp, :::443->8443/tcp\n`,
  );

  it('reads holders, pids and their containers', () => {
    expect(listeners.listeners[0]).toEqual({ address: '10.77.0.11', port: 2379, holders: [{ process: 'etcd', pid: 300, containerId: ETCD_ID }] });
    expect(containers[1]).toEqual({ id: WEB_ID, name: 'web', labels: { 'com.example': '1' }, published: [443, 443] });
  });

  it("reads the same containers from the engine API's list (GET /containers/json), a label's commas kept", () => {
    const api = [
      { Id: ETCD_ID, Names: ['/etcd'], Labels: { 'io.gatewright.role': 'etcd', 'io.gatewright.spec': 'abc' }, Ports: [] },
      { Id: WEB_ID, Names: ['/web'], Labels: { 'com.example': '1' }, Ports: [{ IP: '0.0.0.0', PrivatePort: 8443, PublicPort: 443, Type: 'tcp' }, { IP: '::', PrivatePort: 8443, PublicPort: 443, Type: 'tcp' }, { PrivatePort: 9, Type: 'tcp' }] },
      { Id: 'c'.repeat(64), Names: null, Labels: { note: 'a,b=c' }, Ports: null },
    ];
    expect(parseContainers(`${API_MARK}\n${JSON.stringify(api)}\n`)).toEqual([...containers, { id: 'c'.repeat(64), name: '', labels: { note: 'a,b=c' }, published: [] }]);
  });

  it('passes ports our own containers and processes hold; names the others by their lowest pid', () => {
    const claims = claimedPorts(['etcd', 'control', 'gateway'], typed());
    const conflicts = portConflicts(claims, listeners.listeners, containers);
    expect(conflicts.map((c) => [c.claim.port, c.holders])).toEqual([
      [9000, ['node (pid 500) in container web']],
      [80, ['nginx (pid 401)']],
      [443, ['docker-proxy (pid 610)']],
    ]);
  });

  it('docker-proxy is ours when one of our containers publishes the port', () => {
    const ours = parseContainers(`${WEB_ID}\tapi7-gateway\t\t0.0.0.0:443->9443/tcp\n`);
    const conflicts = portConflicts(claimedPorts(['gateway'], typed()), listeners.listeners, ours);
    expect(conflicts.map((c) => c.claim.port)).toEqual([80]);
  });

  it('an etcd binary outside Docker is ours too (a rerun on a running cluster passes)', () => {
    const bare = parseListeners(`LISTEN 0 4096 0.0.0.0:2379 0.0.0.0:* users:(("etcd",pid=9,fd=7))\n`);
    expect(portConflicts(claimedPorts(['etcd'], typed()), bare.listeners, [])).toEqual([]);
  });

  it('says when ss is missing', () => {
    expect(parseListeners('NO_SS\n')).toEqual({ available: false, listeners: [] });
  });
});
