import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { API_MARK, engineListInspectCmd } from '../../facts/engine-api.ts';
import { containerPathOf, findMtimeNs, parseComposeFile, planCompose, projectName, projectOfDir, rfc3339Ns, type ServiceContainer } from '../../ops/compose.ts';
import { composeInDirCmd, newestMtimeCmd, parseServiceContainers, parseServiceState, retireContainersCmd, serviceStateCmd } from '../../ops/docker.ts';
import { renderOverride } from '../../ops/service.ts';

const DIR = '/opt/api7/api7-2.13.2304-cp';
const VENDOR = `services:
  api7-dashboard:
    image: api7ee.azurecr.io/api7-dashboard:2.13.2304
    restart: always
    ports: ["9000:9000"]
    volumes:
      - ./dashboard_conf/conf.yaml:/usr/local/apisix-dashboard/conf/conf.yaml
    networks: [api7]
networks:
  api7:
    driver: bridge
`;

const running = (over: Partial<ServiceContainer> = {}): ServiceContainer => ({
  id: 'c1', name: 'api7-2132304-cp-api7-dashboard-1', running: true, image: 'sha256:new', startedAt: '2026-11-30T10:00:00.500000000Z',
  project: 'api7-2132304-cp', workingDir: DIR, ...over,
});
const want = { dir: DIR, imageId: 'sha256:new', confMtimeNs: rfc3339Ns('2026-11-30T10:00:00.400000000Z'), confPending: false };

describe("the bundle's compose file", () => {
  it('reads services, images and the bind mounts resolved against the folder', () => {
    const f = parseComposeFile(VENDOR, DIR);
    expect(f.services['api7-dashboard']).toEqual({
      image: 'api7ee.azurecr.io/api7-dashboard:2.13.2304',
      mounts: [[`${DIR}/dashboard_conf/conf.yaml`, '/usr/local/apisix-dashboard/conf/conf.yaml']],
    });
    expect(containerPathOf(f.services['api7-dashboard'], `${DIR}/dashboard_conf/conf.yaml`)).toBe('/usr/local/apisix-dashboard/conf/conf.yaml');
  });
  it("names the project as compose does: the file's name:, else the folder lower-cased with [a-z0-9_-] only", () => {
    expect(projectOfDir('/opt/api7/api7-2.13.2209.1-cp')).toBe('api7-21322091-cp');
    expect(projectName(parseComposeFile(`name: api7-21322091-cp\n${VENDOR}`, DIR), DIR)).toBe('api7-21322091-cp');
    expect(projectName(parseComposeFile(VENDOR, DIR), DIR)).toBe('api7-2132304-cp');
  });
  it('a file without services or an image is a clear error naming it', () => {
    expect(() => parseComposeFile('version: "3"\n', DIR, '/x/docker-compose.yaml on lab1')).toThrow('/x/docker-compose.yaml on lab1 has no services');
    expect(() => parseComposeFile('services:\n  a: {}\n', DIR, 'f')).toThrow('f: service a has no image');
  });
});

describe('when the container is recreated (no labels of ours)', () => {
  it('keeps the running container of this folder with the wanted image, started after its conf was written', () => {
    expect(planCompose([running()], want)).toEqual({ kind: 'none', container: running() });
  });
  it.each([
    ['no container', [], want],
    ['container stopped', [running({ running: false })], want],
    ['image changed', [running({ image: 'sha256:old' })], want],
    ['conf changed', [running()], { ...want, confPending: true }],
    ['conf written after the container started', [running()], { ...want, confMtimeNs: rfc3339Ns('2026-11-30T10:00:00.600000000Z') }],
  ])('%s', (reason, containers, w) => {
    expect(planCompose(containers, w)).toEqual({ kind: 'up', reason, retire: [] });
  });
  it("the previous version's project (another folder) is retired in the same turn", () => {
    const old = running({ workingDir: '/opt/api7/api7-2.13.2209-cp', project: 'api7-2132209-cp', image: 'sha256:old' });
    const a = planCompose([old], want);
    expect(a).toMatchObject({ kind: 'up', retire: [old] });
    expect(a.kind === 'up' && a.reason).toMatch(/replaces api7-2132304-cp-api7-dashboard-1 \(\/opt\/api7\/api7-2.13.2209-cp\)/);
  });
  it('a hand-made deployment in the same folder is adopted as it runs', () => {
    expect(planCompose([running({ project: 'whatever' })], want).kind).toBe('none');
  });
});

describe('compose commands', () => {
  it("run in the bundle folder as the guide types them (compose picks the project, file and override)", () => {
    expect(composeInDirCmd(['docker', 'compose'], DIR, ['up', '-d', 'api7-dashboard'])).toBe(`cd ${DIR} && docker compose up -d api7-dashboard`);
    expect(composeInDirCmd(['docker-compose'], '/opt/x y', ['down'])).toBe("cd '/opt/x y' && docker-compose down");
  });
  it('find the service by compose labels from any project, and the start files\' newest mtime, in one read', () => {
    const cli =
      'ids=$(docker ps -aq --filter label=com.docker.compose.service=api7-gateway) || exit 1; ' +
      `if [ -n "$ids" ]; then docker inspect --format '{"id":{{json .Id}},"name":{{json .Name}},"running":{{json .State.Running}},"image":{{json .Image}},"startedAt":{{json .State.StartedAt}},"project":{{json (index .Config.Labels "com.docker.compose.project")}},"workingDir":{{json (index .Config.Labels "com.docker.compose.project.working_dir")}}}' $ids || exit 1; fi`;
    expect(serviceStateCmd('api7-gateway', ['/a', '/b c'])).toBe(
      engineListInspectCmd('/containers/json?all=1&filters=%7B%22label%22%3A%5B%22com.docker.compose.service%3Dapi7-gateway%22%5D%7D', cli) +
        `; printf '%s %s\\n' newest-mtime "$(find /a '/b c' -type f -printf '%T@\\n' 2>/dev/null | sort -n | tail -n 1)"`,
    );
    const line = JSON.stringify({ id: 'abc', name: '/p-api7-gateway-1', running: true, image: 'sha256:1', startedAt: 't', project: 'p', workingDir: '/d' });
    const container = { id: 'abc', name: 'p-api7-gateway-1', running: true, image: 'sha256:1', startedAt: 't', project: 'p', workingDir: '/d' };
    expect(parseServiceContainers(`${line}\n`)).toEqual([container]);
    expect(parseServiceState(`${line}\nnewest-mtime 1764496800.5\n`)).toEqual({ containers: [container], mtime: '1764496800.5' });
    expect(parseServiceState('newest-mtime \n')).toEqual({ containers: [], mtime: '' });
    // The engine API's answer: the container's inspect object (GET /containers/{id}/json), one a line.
    const inspect = JSON.stringify({
      Id: 'abc',
      Name: '/p-api7-gateway-1',
      Image: 'sha256:1',
      State: { Running: true, StartedAt: 't' },
      Config: { Labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.project.working_dir': '/d', 'com.docker.compose.service': 'api7-gateway' } },
    });
    expect(parseServiceState(`${API_MARK}\n${inspect}\n\nnewest-mtime 1764496800.5\n`)).toEqual({ containers: [container], mtime: '1764496800.5' });
    expect(parseServiceState(`${API_MARK}\nnewest-mtime \n`)).toEqual({ containers: [], mtime: '' });
  });
  it('a read cut before its last line is an error, never "no container"', () => {
    expect(() => parseServiceState('')).toThrow(/did not complete/);
  });
  it('retire a project with compose down in its folder, or remove the container when the folder is gone', () => {
    expect(retireContainersCmd(['docker', 'compose'], running({ workingDir: '/opt/old', project: 'old' }))).toBe(
      'if [ -d /opt/old ]; then cd /opt/old && docker compose -p old down; else docker rm -f c1; fi',
    );
  });
  it('read modification times with nanoseconds', () => {
    expect(newestMtimeCmd(['/a', '/b c'])).toBe("find /a '/b c' -type f -printf '%T@\\n' 2>/dev/null | sort -n | tail -n 1");
    expect(findMtimeNs('1764496800.1234567890\n')).toBe(1764496800123456789n);
    expect(findMtimeNs('')).toBe(0n);
    expect(rfc3339Ns('2026-11-30T10:00:00.5Z')).toBe(1796032800500000000n);
  });
});

describe('docker-compose.override.yaml', () => {
  const svc = parseComposeFile(VENDOR, DIR).services['api7-dashboard'];
  it('is not written when the vendor file needs nothing more', () => {
    expect(renderOverride('api7-dashboard', DIR, svc, [], '')).toBeUndefined();
  });
  it('relabels every bind mount :Z while SELinux enforces and mounts the certificates', () => {
    const o = renderOverride('api7-dashboard', DIR, svc, [['./dashboard_conf/certs', '/usr/local/apisix-dashboard/conf/certs']], ':Z')!;
    expect(o).toContain('# Written by gatewright');
    expect(o).toContain('- ./dashboard_conf/conf.yaml:/usr/local/apisix-dashboard/conf/conf.yaml:Z');
    expect(o).toContain('- ./dashboard_conf/certs:/usr/local/apisix-dashboard/conf/certs:ro,Z');
  });
  it("keeps the vendor's mount mode: a read-only mount stays read-only once relabelled (compose merges by target)", () => {
    const ro = VENDOR.replace('conf/conf.yaml\n', 'conf/conf.yaml:ro\n      - type: bind\n        source: ./logs\n        target: /logs\n        read_only: true\n      - ./data:/data:rw,z\n');
    const s = parseComposeFile(ro, DIR).services['api7-dashboard'];
    expect(s.mounts).toEqual([
      [`${DIR}/dashboard_conf/conf.yaml`, '/usr/local/apisix-dashboard/conf/conf.yaml', 'ro'],
      [`${DIR}/logs`, '/logs', 'ro'],
      [`${DIR}/data`, '/data', 'rw,z'],
    ]);
    const o = renderOverride('api7-dashboard', DIR, s, [], ':Z')!;
    expect(parse(o)).toEqual({
      services: { 'api7-dashboard': { volumes: ['./dashboard_conf/conf.yaml:/usr/local/apisix-dashboard/conf/conf.yaml:ro,Z', './logs:/logs:ro,Z', './data:/data:rw,Z'] } },
    });
    expect(renderOverride('api7-dashboard', DIR, s, [], '')).toBeUndefined();
  });
});
