import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DPKG_CONFIGURE } from '../../roles/docker/install.ts';
import { composeArgvOf, composeCommand, parseAptPolicy, parseDocker, type DockerInfo } from '../../facts/docker.ts';
import { planRestart, planStart, RESET_FAILED, START_DETACHED, waitForDocker } from '../../roles/docker/service.ts';
import { renderDaemonJson } from '../../roles/docker/daemon-config.ts';
import { loadFacts } from './fixtures/facts/load.ts';

const facts = (lines: Record<string, string>) =>
  parseDocker(Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n'));

describe('docker fact', () => {
  it('installed and running: the server version wins; compose v1 only (Debian 12)', () => {
    const d = facts({
      SERVER: '20.10.24+dfsg1',
      DOCKERD: 'Docker version 20.10.24+dfsg1, build 5d6db84',
      CLIENT: 'Docker version 20.10.24+dfsg1, build 297e128',
      SYSTEMD: 'yes',
      PID1: 'systemd',
      ENABLED: 'enabled',
      COMPOSE_V2: '',
      COMPOSE_V1: '1.29.2',
    });
    expect(d).toEqual({
      version: '20.10.24+dfsg1',
      running: true,
      enabled: true,
      init: 'systemd',
      unconfigured: false,
      composeV2: undefined,
      composeV1: '1.29.2',
    });
    expect(composeArgvOf(d)).toEqual(['docker-compose']);
  });

  it('compose v2 is preferred when both are present', () => {
    expect(composeArgvOf(facts({ COMPOSE_V2: '2.24.5', COMPOSE_V1: '1.29.2' }))).toEqual(['docker', 'compose']);
    expect(composeArgvOf(facts({}))).toBeUndefined();
  });

  it('the composeCommand fact gives later roles the argv prefix, or fails their step when there is none', () => {
    const result = (stdout: string) => ({ code: 0, ok: true, stdout, stderr: '' });
    expect(composeCommand.parse(result('COMPOSE_V2=\nCOMPOSE_V1=1.29.2\n'))).toEqual(['docker-compose']);
    expect(composeCommand.parse(result('COMPOSE_V2=Docker Compose version v2.24.5\nCOMPOSE_V1=\n'))).toEqual(['docker', 'compose']);
    expect(() => composeCommand.parse(result('COMPOSE_V2=\nCOMPOSE_V1=\n'))).toThrow(/run the docker role first/);
  });

  it('installed but stopped: dockerd --version tells the version', () => {
    const d = facts({ SERVER: '', DOCKERD: 'Docker version 24.0.7, build 311b9ff', PID1: 'sshd' });
    expect([d.version, d.running, d.init]).toEqual(['24.0.7', false, 'none']);
  });

  it('an interrupted apt run (packages unpacked, not configured) is seen', () => {
    expect(facts({ DPKG: 'iU docker.io iU containerd ii runc ' }).unconfigured).toBe(true);
    expect(facts({ DPKG: 'ii docker.io ii containerd ii runc ' }).unconfigured).toBe(false);
  });

  it('recorded CentOS 7: docker 1.13 client only, systemd, disabled', () => {
    const d = loadFacts('centos7').docker;
    expect([d.version, d.running, d.enabled, d.init]).toEqual(['1.13.1', false, false, 'systemd']);
  });

  it.each([
    [{ SYSTEMD: 'yes', PID1: 'systemd' }, 'systemd'],
    [{ PID1: 'init', SYSV_SCRIPT: 'yes' }, 'sysv'],
    [{ PID1: 'init', OPENRC: '/sbin/rc-service' }, 'openrc'],
    // systemd installed but not PID 1 (a container running sshd): no service manager.
    [{ PID1: 'sshd', SYSV_SCRIPT: 'yes' }, 'none'],
    [{ PID1: 'bash' }, 'none'],
  ])('init system %j -> %s', (lines, init) => {
    expect(facts(lines).init).toBe(init);
  });
});

describe('apt candidates', () => {
  it('reads candidates, (none) and unknown packages', () => {
    const text =
      'docker.io:\n  Installed: (none)\n  Candidate: 20.10.24+dfsg1-1+b3\n  Version table:\n' +
      'docker-compose:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n';
    expect(parseAptPolicy(text, ['docker.io', 'docker-compose', 'containerd'])).toEqual({
      'docker.io': '20.10.24+dfsg1-1+b3',
      'docker-compose': undefined,
      containerd: undefined,
    });
  });
});

describe('start and restart', () => {
  const base: DockerInfo = { version: '20.10.24', running: false, enabled: false, init: 'systemd', unconfigured: false };

  it('systemd: clear a start limit a failed start left, enable --now, then wait for docker info', () => {
    expect(planStart(base)).toEqual([RESET_FAILED, 'systemctl enable --now docker', waitForDocker('systemd')]);
    expect(RESET_FAILED).toBe('systemctl reset-failed docker.service docker.socket >/dev/null 2>&1 || true');
    expect(planStart({ ...base, running: true, enabled: false })[1]).toBe('systemctl enable --now docker');
    expect(planStart({ ...base, running: true, enabled: true })).toEqual([]);
  });

  it('no init system: dockerd detached with no inherited stdio, logs to a file', () => {
    expect(planStart({ ...base, init: 'none' })).toEqual([START_DETACHED, waitForDocker('none')]);
    expect(START_DETACHED).toBe('setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null &');
    expect(planStart({ ...base, init: 'none', running: true })).toEqual([]);
  });

  it('SysV and OpenRC: their own service tools', () => {
    expect(planStart({ ...base, init: 'sysv' }).slice(0, 2)).toEqual([
      'update-rc.d docker defaults >/dev/null 2>&1 || chkconfig docker on',
      'service docker start',
    ]);
    expect(planStart({ ...base, init: 'openrc' }).slice(0, 2)).toEqual(['rc-update add docker default', 'rc-service docker start']);
  });

  it('restart per init system, each waiting for the daemon', () => {
    expect(planRestart('systemd')).toEqual(['systemctl restart docker', waitForDocker('systemd')]);
    const none = planRestart('none');
    expect(none[0]).toContain('kill "$(cat /var/run/docker.pid)"');
    expect(none.slice(1)).toEqual([START_DETACHED, waitForDocker('none')]);
  });

  it('the wait gives up after its bound and shows where the logs are', () => {
    expect(waitForDocker('none', 5)).toBe(
      "i=0; until docker info >/dev/null 2>&1; do i=$((i+1)); if [ \"$i\" -ge 5 ]; then echo 'dockerd did not answer within 5s; /var/log/dockerd.log:' >&2; tail -n 20 /var/log/dockerd.log 2>&1 >&2; exit 1; fi; sleep 1; done",
    );
  });
});

describe('daemon.json', () => {
  it('renders the same bytes whatever the key order (a rerun changes nothing)', () => {
    const a = renderDaemonJson({ 'log-opts': { 'max-size': '100m', 'max-file': '3' }, 'log-driver': 'json-file' });
    const b = renderDaemonJson({ 'log-driver': 'json-file', 'log-opts': { 'max-file': '3', 'max-size': '100m' } });
    expect(a).toBe(b);
    expect(a).toBe('{\n  "log-driver": "json-file",\n  "log-opts": {\n    "max-file": "3",\n    "max-size": "100m"\n  }\n}\n');
  });
});

describe('finishing an interrupted dpkg run', () => {
  // A stand-in dpkg on PATH: locked by "another process" for its first calls, then fine (or broken).
  function runWithDpkg(lockedCalls: number, finalExit: number): { code: number; calls: number; stderr: string } {
    const dir = mkdtempSync(join(tmpdir(), 'gw-dpkg-'));
    writeFileSync(
      join(dir, 'dpkg'),
      `#!/bin/sh\nn=$(cat ${dir}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${dir}/n\n` +
        `if [ $n -le ${lockedCalls} ]; then echo 'dpkg: error: dpkg frontend lock was locked by another process with pid 164' >&2; exit 2; fi\n` +
        `[ ${finalExit} -eq 0 ] || echo 'dpkg: error processing package docker.io (--configure)' >&2; exit ${finalExit}\n`,
      { mode: 0o755 },
    );
    // sleep is stubbed too: the loop's pacing is not what we test.
    writeFileSync(join(dir, 'sleep'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    try {
      execFileSync('dash', ['-c', DPKG_CONFIGURE], { env: { PATH: `${dir}:/usr/bin:/bin` }, stdio: 'pipe' });
      return { code: 0, calls: Number(execFileSync('cat', [join(dir, 'n')]).toString()), stderr: '' };
    } catch (e) {
      const err = e as { status: number; stderr: Buffer };
      return { code: err.status, calls: Number(execFileSync('cat', [join(dir, 'n')]).toString()), stderr: err.stderr.toString() };
    }
  }

  it('waits while another run holds the lock, then configures', () => {
    expect(runWithDpkg(3, 0)).toEqual({ code: 0, calls: 4, stderr: '' });
  });

  it('fails at once, with dpkg\'s message, on any other error', () => {
    const r = runWithDpkg(0, 1);
    expect([r.code, r.calls]).toEqual([1, 1]);
    expect(r.stderr).toContain('error processing package docker.io');
  });
});
