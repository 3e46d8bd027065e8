import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDashboardConf, type DashboardConf } from '../../roles/dashboard/templates.ts';

const base: DashboardConf = {
  edition: 'api7',
  port: 9000,
  allowList: ['127.0.0.1', '10.77.0.20', '10.77.0.11', '10.77.0.12', '10.77.0.0/24'],
  etcdEndpoints: ['10.77.0.11:2379', '10.77.0.12:2379', '10.77.0.13:2379'],
  prefix: '/api7',
  jwtSecret: 'jwt-secret-value',
  adminUser: 'admin',
  adminPassword: 'admin-password',
};

describe('dashboard conf.yaml (golden)', () => {
  it('edition api7: the guide layout, prefix /api7', async () => {
    await expect(renderDashboardConf(base)).toMatchFileSnapshot('golden/dashboard-conf.api7.yaml');
  });

  it('edition apisix with etcd auth and client TLS', async () => {
    const conf = renderDashboardConf({
      ...base,
      edition: 'apisix',
      prefix: '/apisix',
      etcdEndpoints: base.etcdEndpoints.map((e) => `https://${e}`),
      etcdUser: 'root',
      etcdPassword: 'etcd-root-password',
      mtls: { ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem' },
    });
    await expect(conf).toMatchFileSnapshot('golden/dashboard-conf.apisix-auth-tls.yaml');
    const doc = parse(conf);
    expect(doc.conf.etcd).toMatchObject({ username: 'root', password: 'etcd-root-password', prefix: '/apisix' });
  });

  it('writes no etcd credentials when auth is off', () => {
    expect(parse(renderDashboardConf(base)).conf.etcd).toEqual({ endpoints: base.etcdEndpoints, prefix: '/api7' });
  });
});
