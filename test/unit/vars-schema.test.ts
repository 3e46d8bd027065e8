// The one variable schema (vars/schema.ts): today's defaults, one reading of booleans, integers and ports, bad
// values and removed variables named by key, unknown names warned with the closest known one, docs in sync.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../lib/errors.ts';
import { loadInventory } from '../../lib/inventory.ts';
import { isSecretName } from '../../lib/redact.ts';
import { checkPlaybookVars, closestName, parseExtraVars } from '../../lib/vars.ts';
import { renderVariablesDoc, VARIABLES_DOC } from '../../vars/docs.ts';
import { parseStackVars, stackVariables, stackVars, VARIABLES } from '../../vars/schema.ts';

/** The defaults as the roles defined them before the schema (roles/common/defaults.ts STACK_DEFAULTS, the etcd,
 * preflight and docker roles' `defaults`, roles/lb/model.ts LB_DEFAULTS), written out literally. */
const TODAYS_DEFAULTS = {
  api7_edition: 'api7',
  api7_version: '2.13.2304',
  api7_bundle_dir: './bundles',
  api7_install_dir: '/opt/api7',
  cluster_id: 'default',
  upstream_group: 'upstream',
  upstream_port: 80,
  etcd_version: '3.4.13',
  etcd_client_port: 2379,
  etcd_peer_port: 2380,
  etcd_auth_enabled: false,
  etcd_tls_enabled: false,
  dashboard_port: 9000,
  dashboard_compose_service: 'api7-dashboard',
  gateway_compose_service: 'api7-gateway',
  dashboard_admin_user: 'admin',
  dashboard_allow_list: [],
  gateway_http_port: 80,
  gateway_https_port: 443,
  gateway_prometheus_port: 9091,
  smoke_route_enabled: false,
  smoke_route_host: 'test.com',
  smoke_route_uri: '/get',
  health_timeout: 90,
  // etcd role
  etcd_data_dir: '/usr/local/etcd/etcd_data',
  etcd_cluster_token: 'etcd-cluster',
  etcd_enable_v2: true,
  etcd_snapshot_keep: 5,
  // LB_DEFAULTS
  lb_bind_address: '',
  lb_control_port: 9000,
  lb_http_port: 80,
  lb_https_port: 443,
  lb_admin_socket: '/var/lib/haproxy/admin.sock',
  lb_stats_bind: '127.0.0.1:8404',
  lb_config_file: '/etc/haproxy/haproxy.cfg',
  lb_drain_timeout_s: 30,
  lb_ready_timeout_s: 60,
  // preflight role
  preflight_min_cpus: 2,
  preflight_min_memory_mb: 3500,
  preflight_min_disk_mb: 10240,
  preflight_open_firewall: true,
  preflight_selinux: 'keep',
  preflight_own_containers: ['etcd', 'api7-dashboard', 'api7-gateway', 'apisix-dashboard', 'apisix', 'haproxy'],
  // docker role
  docker_ce_repo_url: 'https://download.docker.com',
  docker_service_manager: 'auto',
  docker_daemon_options: {},
  // what an unset value meant in the role code: imageSource() 'bundle', etcdImage() bitnami/etcd:<version>,
  // list() and stackSources() [], the docker role's `?? []`
  etcd_image_source: 'bundle',
  dashboard_image_source: 'bundle',
  gateway_image_source: 'bundle',
  etcd_image: 'bitnami/etcd:3.4.13',
  preflight_firewall_sources: [],
  docker_offline_packages: [],
};

function inventoryFile(text: string, name = 'hosts.yaml'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-schema-')), name);
  writeFileSync(file, text);
  return file;
}
const withVars = (vars: string) => inventoryFile(`all:\n  hosts:\n    lb1: { ansible_host: 10.0.0.20 }\n  vars:\n${vars}`);

/** The load-time check the CLI runs: the inventory, then each host's merged vars against the schema. */
function check(file: string, extra: string[] = []): string[] {
  const inventory = loadInventory(file, { extraVars: parseExtraVars(extra) });
  return checkPlaybookVars(stackVariables, [...inventory.hosts.values()]);
}
function refusal(file: string, extra: string[] = []): InputError {
  try {
    check(file, extra);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('the check passed');
}

describe('defaults', () => {
  it("are exactly today's", () => {
    const { values, problems } = parseStackVars({});
    expect(problems).toEqual([]);
    for (const [name, value] of Object.entries(TODAYS_DEFAULTS)) expect([name, values[name as keyof typeof values]]).toEqual([name, value]);
  });

  it('every variable with a default is in that list (a new default is a decision, not an accident)', () => {
    const defaulted = Object.entries(VARIABLES).filter(([, s]) => 'default' in s && s.default !== undefined).map(([n]) => n);
    expect(defaulted.sort()).toEqual(Object.keys(TODAYS_DEFAULTS).filter((n) => n !== 'etcd_image').sort());
  });

  it('a default list or mapping is a fresh copy each time', () => {
    const a = stackVars({ vars: {} });
    a.dashboard_allow_list.push('10.0.0.1');
    expect(stackVars({ vars: {} }).dashboard_allow_list).toEqual([]);
  });

  it('null or empty is unset, except where empty is a value (lb_stats_bind: none)', () => {
    expect(stackVars({ vars: { health_timeout: null, etcd_tls_enabled: '' } })).toMatchObject({ health_timeout: 90, etcd_tls_enabled: false });
    expect(stackVars({ vars: { lb_stats_bind: '' } }).lb_stats_bind).toBe('');
    expect(stackVars({ vars: { lb_stats_bind: null } }).lb_stats_bind).toBe('');
  });
});

describe('typed values', () => {
  it.each([
    [true, true], ['yes', true], ['Yes', true], ['true', true], ['True', true], ['on', true], ['1', true], [1, true],
    [false, false], ['no', false], ['false', false], ['False', false], ['off', false], ['0', false], [0, false],
  ])('boolean %j is %j, as Ansible reads it', (raw, want) => {
    expect(stackVars({ vars: { etcd_auth_enabled: raw } }).etcd_auth_enabled).toBe(want);
  });

  it('integers and ports from numbers or digit strings (INI and -e give strings)', () => {
    expect(stackVars({ vars: { etcd_client_port: '12379', health_timeout: '5' } })).toMatchObject({ etcd_client_port: 12379, health_timeout: 5 });
  });

  it('lists from a list or a comma-separated string; a YAML number as text', () => {
    const v = stackVars({ vars: { dashboard_allow_list: '10.0.0.1, 10.0.0.2', api7_version: 2.13, lb_haproxy_level: 1.8 } });
    expect(v).toMatchObject({ dashboard_allow_list: ['10.0.0.1', '10.0.0.2'], api7_version: '2.13', lb_haproxy_level: '1.8' });
  });

  it('is parsed once per vars object', () => {
    const ctx = { vars: { etcd_data_dir: '/data/etcd' } };
    expect(stackVars(ctx)).toBe(stackVars(ctx));
    expect(stackVars(ctx).etcd_data_dir).toBe('/data/etcd');
  });

  it('throws naming the variable when a context holds a value the loader refuses', () => {
    expect(() => stackVars({ vars: { etcd_client_port: 'x' } })).toThrow(/variable etcd_client_port: must be a whole number/);
  });
});

describe('bad values name the key', () => {
  it.each([
    ['etcd_snapshot_keep', 0, /at least 1 \(0 or less would delete every etcd snapshot\)/],
    ['etcd_client_port', 70000, /TCP port/],
    ['etcd_enable_v2', 'maybe', /true or false/],
    ['api7_edition', 'apisx', /one of api7, apisix/],
    ['docker_service_manager', 'upstart', /one of auto, systemd, openrc, sysv, none/],
    ['lb_haproxy_level', '2.0', /one of modern, 1.8, 1.5/],
    ['docker_daemon_options', ['x'], /mapping/],
    ['lb_stats_bind', '127.0.0.1:8404\nlisten evil', /address:port/],
    ['etcd_root_password', 'two words', /whitespace/],
  ])('%s = %j', (key, value, message) => {
    const problems = stackVariables.check({ [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0].key).toBe(key);
    expect(problems[0].message).toMatch(message);
  });

  it('a secret value is never repeated in the message', () => {
    expect(stackVariables.check({ etcd_root_password: 'two words' })[0].message).not.toContain('two');
  });

  it('in an inventory: file, line and key path; several at once', () => {
    const e = refusal(withVars('    etcd_snapshot_keep: 0\n    lb_http_port: "80x"\n'));
    expect(e.message).toMatch(/hosts\.yaml:5 at all\.vars\.etcd_snapshot_keep: must be at least 1/);
    expect(e.message).toMatch(/hosts\.yaml:6 at all\.vars\.lb_http_port: must be a whole number/);
  });

  it('in group_vars: that file and line, not the inventory', () => {
    const file = inventoryFile('all:\n  children:\n    etcd:\n      hosts:\n        e1:\n');
    const dir = join(file, '..', 'group_vars');
    mkdirSync(dir);
    writeFileSync(join(dir, 'etcd.yaml'), '# etcd\netcd_data_dir: /data\netcd_peer_port: none\n');
    expect(refusal(file).message).toMatch(/group_vars\/etcd\.yaml:3 at etcd_peer_port: must be a whole number/);
  });

  it('from -e key=value: the host and the key', () => {
    expect(refusal(withVars('    x: 1\n'), ['etcd_snapshot_keep=0']).message).toMatch(/^host lb1: etcd_snapshot_keep: must be at least 1/);
  });

  it('the winning value is checked: -e fixes a bad inventory value', () => {
    expect(() => check(withVars('    etcd_snapshot_keep: 0\n'), ['etcd_snapshot_keep=2'])).not.toThrow();
  });
});

describe('removed variables', () => {
  it.each(['etcd_group', 'control_group', 'gateway_group', 'lb_group'])('%s is refused: the groups have fixed names, reuse one as a child', (name) => {
    const e = refusal(withVars(`    ${name}: my_group\n`));
    expect(e.message).toContain(`hosts.yaml:5 at all.vars.${name}: removed`);
    expect(e.message).toContain('etcd, control, gateway and lb');
    expect(e.message).toContain('[etcd:children]');
  });

  it('etcd_root_user is refused: etcd auth needs root', () => {
    expect(refusal(withVars('    etcd_root_user: admin\n')).message).toMatch(/etcd_root_user: removed: etcd's auth needs its user `root`/);
  });
});

describe('unknown names', () => {
  it('warn with the file and the closest known name, once for all hosts', () => {
    const file = inventoryFile('all:\n  hosts:\n    e1:\n    e2:\n  vars:\n    etcd_data_dirr: /data\n');
    expect(check(file)).toEqual([`${file}:6 at all.vars.etcd_data_dirr: unknown variable etcd_data_dirr (did you mean etcd_data_dir?); no role reads it`]);
  });

  it('without a near name, no guess', () => {
    expect(check(withVars('    my_own_note: hi\n'))[0]).toMatch(/unknown variable my_own_note; no role reads it$/);
  });

  it("the runner's own variables are known", () => {
    expect(check(withVars('    ansible_python_interpreter: /usr/bin/python3\n    gatewright_lock_file: /tmp/x\n    remote_tmp: /tmp\n    command_timeout: 30\n'))).toEqual([]);
  });

  it('closest name by edit distance', () => {
    expect(closestName('etcd_data_dirr', stackVariables.names)).toBe('etcd_data_dir');
    expect(closestName('lb_http_prot', stackVariables.names)).toBe('lb_http_port');
    expect(closestName('totally_else', stackVariables.names)).toBeUndefined();
  });
});

describe('the schema and the rest', () => {
  it('a variable is secret exactly when the redactor hides it by name', () => {
    for (const [name, spec] of Object.entries(VARIABLES)) expect([name, 'secret' in spec && spec.secret === true]).toEqual([name, isSecretName(name)]);
  });

  it('docs/VARIABLES.md is the rendering of the schema (run `npm run docs:vars` to regenerate it)', () => {
    const current = readFileSync(VARIABLES_DOC, 'utf8');
    expect(current === renderVariablesDoc(current), 'docs/VARIABLES.md differs from vars/schema.ts: run `npm run docs:vars`').toBe(true);
  });

  it('every playbook checks the stack variables', async () => {
    for (const name of ['site', 'preflight', 'docker', 'etcd', 'dashboard', 'gateway', 'lb', 'verify']) {
      const playbook = (await import(`../../playbooks/${name}.ts`)).default;
      expect([name, playbook.variables]).toEqual([name, stackVariables]);
    }
  });
});
