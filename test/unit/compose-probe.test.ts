// The compose probe under dash, with a stub docker and docker-compose that log their calls: v2 is asked only
// where the CLI would find its plugin, and each answer is kept while its program file is unchanged.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPOSE_PROBE, COMPOSE_V1_MEMO, COMPOSE_V2_MEMO, PLUGIN_DIRS } from '../../facts/docker.ts';

function host() {
  const dir = mkdtempSync(join(tmpdir(), 'gw-compose-probe-'));
  const bin = join(dir, 'bin');
  const config = join(dir, 'docker-config');
  mkdirSync(bin);
  mkdirSync(config);
  const log = join(dir, 'calls');
  const stub = (name: string, answer: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\nprintf '%s\\n' "${name} $*" >>${log}\n${answer}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('docker', '[ "$1 $2" = "compose version" ] && [ -x "$DOCKER_CONFIG/cli-plugins/docker-compose" ] && echo 2.29.1 || exit 1');
  stub('docker-compose', 'echo 1.29.2');
  // The memos in the temp dir, not in the machine's /var/cache; the system's plugin dirs are this machine's own
  // (docker may be installed here), so they move to empty folders under the temp dir.
  let probe = COMPOSE_PROBE.replaceAll(COMPOSE_V2_MEMO, join(dir, 'v2-memo')).replaceAll(COMPOSE_V1_MEMO, join(dir, 'v1-memo'));
  for (const d of PLUGIN_DIRS.filter((d) => d.startsWith('/'))) probe = probe.replaceAll(` ${d}`, ` ${join(dir, 'system', d)}`);
  expect(probe).not.toContain(' /usr/');
  const run = () => {
    const r = spawnSync('dash', ['-c', probe], { env: { PATH: `${bin}:/usr/bin:/bin`, DOCKER_CONFIG: config, HOME: dir } });
    return r.stdout.toString().trim().split('\n');
  };
  const calls = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  const plugin = () => {
    mkdirSync(join(config, 'cli-plugins'));
    writeFileSync(join(config, 'cli-plugins', 'docker-compose'), '#!/bin/sh\n');
    chmodSync(join(config, 'cli-plugins', 'docker-compose'), 0o755);
  };
  return { run, calls, plugin };
}

describe('the compose probe', () => {
  it('no plugin where the CLI looks: docker is not asked; v1 answers once, then from its memo', () => {
    const h = host();
    expect(h.run()).toEqual(['COMPOSE_V2=', 'COMPOSE_V1=1.29.2']);
    expect(h.run()).toEqual(['COMPOSE_V2=', 'COMPOSE_V1=1.29.2']);
    expect(h.calls()).toEqual(['docker-compose version --short']);
  });

  it('the plugin in the user\'s config dir: docker compose answers once, then its memo; v1 is not asked', () => {
    const h = host();
    h.plugin();
    expect(h.run()).toEqual(['COMPOSE_V2=2.29.1']);
    expect(h.run()).toEqual(['COMPOSE_V2=2.29.1']);
    expect(h.calls()).toEqual(['docker compose version --short']);
  });
});
