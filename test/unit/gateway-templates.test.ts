import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderGatewayConf, type GatewayConf } from '../../roles/gateway/templates.ts';
import { probeVerdict } from '../../roles/gateway/commands.ts';

const base: GatewayConf = {
  edition: 'api7',
  httpPort: 80,
  httpsPort: 443,
  prometheusPort: 9091,
  etcdHosts: ['http://10.77.0.11:2379', 'http://10.77.0.12:2379', 'http://10.77.0.13:2379'],
  prefix: '/api7/default',
};

describe('gateway config.yaml (golden)', () => {
  it('edition api7: API7 2.13 layout, prefix /api7/<cluster_id>', async () => {
    await expect(renderGatewayConf(base)).toMatchFileSnapshot('golden/gateway-config.api7.yaml');
  });

  it('edition apisix: deployment.role data_plane, etcd under deployment, prefix /apisix', async () => {
    const conf = renderGatewayConf({ ...base, edition: 'apisix', prefix: '/apisix' });
    await expect(conf).toMatchFileSnapshot('golden/gateway-config.apisix.yaml');
    const doc = parse(conf);
    expect(doc.etcd).toBeUndefined();
    expect(doc.deployment).toMatchObject({ role: 'data_plane', etcd: { host: base.etcdHosts, prefix: '/apisix' } });
  });

  it('edition api7 with etcd auth and client TLS', async () => {
    const conf = renderGatewayConf({
      ...base,
      etcdHosts: base.etcdHosts.map((h) => h.replace('http:', 'https:')),
      etcdUser: 'root',
      etcdPassword: 'etcd-root-password',
      tls: { ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem' },
    });
    await expect(conf).toMatchFileSnapshot('golden/gateway-config.api7-auth-tls.yaml');
  });

  it('takes the ports from variables', () => {
    const doc = parse(renderGatewayConf({ ...base, httpPort: 8080, httpsPort: 8443, prometheusPort: 9191 }));
    expect(doc.apisix.node_listen).toBe(8080);
    expect(doc.apisix.ssl.listen).toEqual([{ port: 8443 }]);
    expect(doc.plugin_attr.prometheus.export_addr.port).toBe(9191);
  });
});

describe('gateway probe verdict', () => {
  const notFound = { status: 404, body: '{"error_msg":"404 Route Not Found"}' };
  it('with a probe route: routed answers pass, no route and proxy errors do not', () => {
    expect(probeVerdict({ status: 200, body: '{}' }, true)).toBe(true);
    expect(probeVerdict(notFound, true)).toMatch(/not loaded/);
    expect(probeVerdict({ status: 502, body: '' }, true)).toMatch(/502/);
    expect(probeVerdict({ status: 0, body: 'Connection refused' }, true)).toMatch(/no answer/);
  });
  it('without one: the gateway 404 JSON passes', () => {
    expect(probeVerdict(notFound, false)).toBe(true);
    expect(probeVerdict({ status: 200, body: 'x' }, false)).toMatch(/expected/);
  });
});
