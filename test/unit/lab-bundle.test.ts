// The lab's bundles are the guide's layout as a vendor ships it: registry-named images whose tag can
// differ from the bundle's version, a compose file with its own bridge network and published ports that
// match what the shipped conf files listen on, conf files with comments, and the data plane's cli.sh.
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { bundleFile, bundleFiles, bundleName, composeFile, LAYOUT } from '../../lab/bundle-files.ts';
import { API7_IMAGE_TAGS, API7_VERSIONS } from '../../lab/topology.ts';

interface Service { image: string; restart: string; volumes: string[]; ports: string[]; networks: Record<string, unknown>; container_name?: string; network_mode?: string }
const compose = (plane: 'cp' | 'dp', version: string) =>
  parse(composeFile(plane, version, API7_IMAGE_TAGS[version as keyof typeof API7_IMAGE_TAGS])) as { services: Record<string, Service>; networks: Record<string, { driver: string }> };
/** Container side of `host:container/proto`. */
const containerPorts = (s: Service): number[] => s.ports.map((p) => Number(p.split(':')[1].split('/')[0]));

describe('lab bundles', () => {
  it('are named api7-<version>-cp|dp, with image tarballs named by the bundle version', () => {
    expect(bundleName('cp', '2.13.2309')).toBe('api7-2.13.2309-cp');
    expect(LAYOUT.cp.imageFile('2.13.2309')).toBe('images/api7-dashboard-2.13.2309.tar.gz');
    expect(LAYOUT.dp.imageFile('2.13.2309')).toBe('images/api7-gateway-2.13.2309.tar.gz');
  });

  it('carry registry-named images, and at least one bundle an image tag that is not its version', () => {
    expect(compose('cp', '2.13.2304').services['api7-dashboard'].image).toBe('api7ee.azurecr.io/api7-dashboard:2.13.2304');
    expect(compose('dp', '2.13.2309').services['api7-gateway'].image).toBe('api7ee.azurecr.io/api7-gateway:2.13.2309.1');
    expect(API7_VERSIONS.filter((v) => API7_IMAGE_TAGS[v] !== v)).not.toEqual([]);
  });

  it.each(['cp', 'dp'] as const)('%s: compose as a vendor ships it: a bridge network "api7", published ports, no container_name', (plane) => {
    const c = compose(plane, '2.13.2304');
    expect(Object.keys(c.services)).toEqual([LAYOUT[plane].service]);
    const s = c.services[LAYOUT[plane].service];
    expect(s.container_name).toBeUndefined();
    expect(s.network_mode).toBeUndefined();
    expect(s.restart).toBe('always');
    expect(Object.keys(s.networks)).toEqual(['api7']);
    expect(c.networks).toEqual({ api7: { driver: 'bridge' } });
    expect(s.volumes[0]).toBe(`./${LAYOUT[plane].confFile}:${LAYOUT[plane].confMount}:ro`);
  });

  it('cp: publishes 9000 on the port the shipped conf.yaml listens on', () => {
    const s = compose('cp', '2.13.2304').services['api7-dashboard'];
    const conf = parse(bundleFile('cp', 'dashboard_conf/conf.yaml', '2.13.2304', '2.13.2304'));
    expect(s.ports).toEqual(['9000:9000/tcp']);
    expect(containerPorts(s)).toEqual([conf.conf.listen.port]);
    expect(conf.conf.listen.host).toBe('0.0.0.0');
  });

  it("dp: publishes 80, 443 and 9091 on the ports the shipped config.yaml listens on, logs to ./gateway_logs", () => {
    const s = compose('dp', '2.13.2304').services['api7-gateway'];
    const config = parse(bundleFile('dp', 'gateway_conf/config.yaml', '2.13.2304', '2.13.2304'));
    expect(s.ports).toEqual(['80:9080/tcp', '443:9443/tcp', '9091:9091/tcp']);
    expect(containerPorts(s)).toEqual([config.apisix.node_listen, config.apisix.ssl.listen[0].port, config.plugin_attr.prometheus.export_addr.port]);
    expect(config.plugin_attr.prometheus.export_addr.ip).toBe('0.0.0.0'); // reachable through the published port
    expect(s.volumes).toContain('./gateway_logs:/usr/local/apisix/logs');
    expect(LAYOUT.dp.dirs).toEqual(['gateway_logs']);
  });

  it('ship the files of the guide, cli.sh executable and naming its version', () => {
    expect(Object.keys(bundleFiles('cp', '2.13.2304', '2.13.2304')).sort()).toEqual(['dashboard_conf/conf.yaml', 'docker-compose.yaml']);
    const dp = bundleFiles('dp', '2.13.2309', '2.13.2309.1');
    expect(Object.keys(dp).sort()).toEqual(['cli.sh', 'docker-compose.yaml', 'gateway_conf/config.yaml']);
    expect(dp['cli.sh'].mode).toBe(0o755);
    expect(dp['cli.sh'].text).toMatch(/^#!\/usr\/bin\/env bash\n/);
    expect(dp['cli.sh'].text).toContain('VERSION="2.13.2309"');
    expect(Object.values(dp).map((f) => f.text).join('')).not.toMatch(/\{\{/);
  });

  it('ship conf files with the keys a deployment edits, next to comments that an edit must keep', () => {
    const conf = parseDocument(bundleFile('cp', 'dashboard_conf/conf.yaml', '2.13.2304', '2.13.2304'));
    const etcd = conf.getIn(['conf', 'etcd']) as { toJSON(): Record<string, unknown> };
    expect(Object.keys(etcd.toJSON())).toEqual(['name', 'endpoints', 'enable_auth', 'username', 'password', 'mtls', 'prefix']);
    expect(conf.getIn(['conf', 'etcd', 'mtls', 'enable'])).toBe(false);
    expect(conf.toString()).toMatch(/# ignore etcd username if not enable etcd auth/);
    const config = parseDocument(bundleFile('dp', 'gateway_conf/config.yaml', '2.13.2304', '2.13.2304'));
    expect(config.getIn(['etcd', 'prefix'])).toBe('/api7/default');
    expect(config.toString()).toMatch(/# it's possible to define multiple etcd hosts addresses/);
  });
});
