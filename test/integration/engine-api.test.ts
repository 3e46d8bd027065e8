// The engine reads over the Docker API (facts/engine-api.ts), run for real: dash, the machine's curl, and an HTTP
// server on a unix socket that answers as dockerd does (its Server header, its JSON). A stub `docker` first on
// PATH stands for the CLI, so every fallback shows which way the read went.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_MARK, apiAnswer, engineGetCmd, engineListInspectCmd, serverVersionCmd } from '../../facts/engine-api.ts';
import { parseServiceState } from '../../ops/docker.ts';

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);
const FORGED = 'f'.repeat(64);

let dir: string;
let socket: string;
let server: Server;
let requests: string[] = [];
/** What the engine answers: path -> [status, body]. */
let routes: Record<string, [number, unknown]> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gw-engine-api-'));
  socket = join(dir, 'docker.sock');
  mkdirSync(join(dir, 'bin'));
  // The CLI stand-in: says it answered, and what it was asked.
  writeFileSync(join(dir, 'bin', 'docker'), '#!/bin/sh\necho "cli: $*"\n');
  chmodSync(join(dir, 'bin', 'docker'), 0o755);
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.setHeader('Server', 'Docker/20.10.24+dfsg1 (linux)');
    const [status, body] = routes[req.url ?? ''] ?? [404, { message: 'page not found' }];
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(`${JSON.stringify(body)}\n`);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  requests = [];
  routes = { '/_ping': [200, 'OK'] };
});

/** The command under dash, as root's shell on a host runs a fact (async: the engine answers from this process). */
function run(command: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) =>
    execFile('dash', ['-c', command], { encoding: 'utf8', env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, HOME: dir, ...env } }, (error, stdout) =>
      resolve({ code: error ? Number(error.code) : 0, stdout }),
    ),
  );
}

describe('an engine API read', () => {
  it('answers from the API when the CLI would use that socket: the mark, then the JSON', async () => {
    routes['/containers/json'] = [200, [{ Id: ID_A, Names: ['/etcd'] }]];
    const r = await run(engineGetCmd('/containers/json', 'docker ps', socket));
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(`${API_MARK}\n`)).toBe(true);
    expect(apiAnswer(r.stdout)).toEqual([{ Id: ID_A, Names: ['/etcd'] }]);
  });

  it.each([
    ['the API answers an error (HTTP 500)', {}, true],
    ['DOCKER_HOST points the CLI elsewhere', { DOCKER_HOST: 'tcp://10.0.0.1:2375' }, false],
    ['DOCKER_CONTEXT names a CLI context', { DOCKER_CONTEXT: 'remote' }, false],
  ])('falls back to the CLI when %s', async (_, env, asked) => {
    routes['/containers/json'] = [500, { message: 'boom' }];
    const r = await run(engineGetCmd('/containers/json', 'docker ps', socket), env);
    expect(r).toEqual({ code: 0, stdout: 'cli: ps\n' });
    expect(apiAnswer(r.stdout)).toBeUndefined();
    expect(requests.length > 0).toBe(asked);
  });

  it("falls back to the CLI when the CLI's config selects a context, or no such socket exists", async () => {
    routes['/containers/json'] = [200, []];
    const config = join(dir, 'cli-config');
    mkdirSync(config, { recursive: true });
    writeFileSync(join(config, 'config.json'), '{"currentContext": "remote"}');
    expect((await run(engineGetCmd('/containers/json', 'docker ps', socket), { DOCKER_CONFIG: config })).stdout).toBe('cli: ps\n');
    expect((await run(engineGetCmd('/containers/json', 'docker ps', join(dir, 'absent.sock')))).stdout).toBe('cli: ps\n');
    expect(requests).toEqual([]);
  });

  it("keeps the CLI's exit code when it answers instead: an engine that answers neither way fails the read", async () => {
    const r = await run(engineGetCmd('/containers/json', 'echo down >&2; exit 3', join(dir, 'absent.sock')));
    expect(r.code).toBe(3);
  });
});

describe("the engine's version", () => {
  const version = async (env: Record<string, string> = {}, sock = socket) => (await run(`${serverVersionCmd(sock)}; echo "SERVER=$s"`, env)).stdout;

  it("is the Server header of the API's cheapest answer (/_ping)", async () => {
    expect(await version()).toBe('SERVER=20.10.24+dfsg1\n');
    expect(requests).toEqual(['/_ping']);
  });

  it("is `docker version`'s when the API does not answer", async () => {
    routes['/_ping'] = [500, 'down'];
    expect(await version()).toBe("SERVER=cli: version --format {{.Server.Version}}\n");
    expect(await version({}, join(dir, 'absent.sock'))).toBe("SERVER=cli: version --format {{.Server.Version}}\n");
  });
});

describe("a service's containers: the filtered list, then each container's inspect", () => {
  const list = `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: ['com.docker.compose.service=api7-gateway'] }))}`;
  const inspect = (id: string, project: string) => ({
    Id: id,
    Name: `/${project}-api7-gateway-1`,
    Image: 'sha256:1',
    State: { Running: true, StartedAt: '2026-12-01T04:10:41.472490808Z' },
    Config: { Labels: { 'com.docker.compose.project': project, 'com.docker.compose.project.working_dir': `/opt/${project}` } },
  });
  const read = (sock = socket) => run(`${engineListInspectCmd(list, 'docker ps -aq', sock)}; printf '%s %s\\n' newest-mtime 1764496800.5`);

  it('inspects every container the list names, and only those: a label cannot forge an ID', async () => {
    routes[list] = [200, [{ Id: ID_A, Labels: { note: `"Id":"${FORGED}"` } }, { Id: ID_B, Labels: {} }]];
    routes[`/containers/${ID_A}/json`] = [200, inspect(ID_A, 'new')];
    routes[`/containers/${ID_B}/json`] = [200, inspect(ID_B, 'old')];
    const r = await read();
    expect(r.code).toBe(0);
    expect(requests).toEqual([list, `/containers/${ID_A}/json`, `/containers/${ID_B}/json`]);
    expect(parseServiceState(r.stdout).containers.map((c) => [c.id, c.name, c.project, c.workingDir, c.running])).toEqual([
      [ID_A, 'new-api7-gateway-1', 'new', '/opt/new', true],
      [ID_B, 'old-api7-gateway-1', 'old', '/opt/old', true],
    ]);
  });

  it('says "no container" only from a list the engine gave', async () => {
    routes[list] = [200, []];
    expect(parseServiceState((await read()).stdout)).toEqual({ containers: [], mtime: '1764496800.5' });
  });

  it('fails when a listed container cannot be inspected (gone meanwhile): never read as fewer containers', async () => {
    routes[list] = [200, [{ Id: ID_A }]];
    const r = await read();
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('newest-mtime');
  });

  it('reads through the CLI when the API is not there', async () => {
    expect((await read(join(dir, 'absent.sock'))).stdout).toBe('cli: ps -aq\nnewest-mtime 1764496800.5\n');
  });
});
