import { describe, expect, it } from 'vitest';
import { installHaproxy, reloadHaproxy, startHaproxy, validateConfig } from '../../roles/lb/commands.ts';
import { haproxyConnectAnyFact, haproxyFact, parseHaproxyInfo, parseHaproxySelinux } from '../../facts/haproxy.ts';
import { execFileSync } from 'node:child_process';
import {
  adminSocketCommand,
  parseServerStats,
  leftOutOfRotation,
  outOfRotationAs,
  restoreServerWeight,
  setServerState,
  SHOW_SERVERS,
  socketErrors,
  socketInput,
} from '../../ops/lb-runtime.ts';

describe('runtime API commands', () => {
  it.each([
    ['gateways_http', 'lab4', 'drain', 'set server gateways_http/lab4 state drain'],
    ['dashboards', 'lab1', 'ready', 'set server dashboards/lab1 state ready'],
    ['gateways_https', 'gw-01.example.com', 'maint', 'set server gateways_https/gw-01.example.com state maint'],
  ] as const)('%s/%s %s', (backend, server, state, expected) => {
    expect(setServerState(backend, server, state)).toBe(expected);
  });

  it.each(['lab4; shutdown sessions server x/y', 'lab 4', 'lab4\nshow info', ''])('refuses server name %j', (bad) => {
    expect(() => setServerState('gateways_http', bad, 'drain')).toThrow(/not a valid HAProxy server name/);
  });

  it('lists servers only', () => expect(SHOW_SERVERS).toBe('show stat -1 4 -1'));

  it('sends commands on stdin, one per line', () => {
    expect(socketInput(['set server a/b state drain', 'set server c/b state drain'])).toBe(
      'set server a/b state drain\nset server c/b state drain\n',
    );
  });

  it('reaches the socket with socat, perl or python, the path quoted', () => {
    const cmd = adminSocketCommand('/var/lib/haproxy/admin sock');
    expect(cmd).toMatch(/^if command -v socat >\/dev\/null 2>&1; then socat -t 5 - 'UNIX-CONNECT:\/var\/lib\/haproxy\/admin sock'; /);
    expect(cmd).toContain("elif command -v perl >/dev/null 2>&1; then perl -MIO::Socket::UNIX -e '");
    expect(cmd).toContain("' '/var/lib/haproxy/admin sock'; elif command -v python3 >/dev/null 2>&1; then python3 -c '");
    expect(cmd).toContain('elif [ -x /usr/libexec/platform-python ]; then /usr/libexec/platform-python -c ');
    expect(cmd).toMatch(/else echo 'no socat, perl or python3 on this host to reach the HAProxy admin socket' >&2; exit 127; fi$/);
  });

  it('reads an empty answer as success and anything else as the error', () => {
    expect(socketErrors('\n\n')).toEqual([]);
    expect(socketErrors('\nNo such server.\n\n')).toEqual(['No such server.']);
  });
});

describe('show stat', () => {
  const csv = [
    '',
    '# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,check_status,check_desc,',
    'gateways_http,lab4,0,0,2,5,,120,UP,L7OK,"Layer7 check passed, 404",',
    'gateways_http,lab5,0,0,0,3,,100,DOWN,L4CON,Layer4 connection problem,',
    'gateways_http,BACKEND,0,0,2,5,,220,UP,,,',
    'dashboards,lab1,0,0,0,1,,4,DRAIN,L7OK,Layer7 check passed,',
    '',
  ].join('\n');

  it('parses server rows by header name, quoted fields intact', () => {
    expect(parseServerStats(csv)).toEqual([
      { backend: 'gateways_http', server: 'lab4', status: 'UP', sessions: 2, check: 'L7OK Layer7 check passed, 404' },
      { backend: 'gateways_http', server: 'lab5', status: 'DOWN', sessions: 0, check: 'L4CON Layer4 connection problem' },
      { backend: 'dashboards', server: 'lab1', status: 'DRAIN', sessions: 0, check: 'L7OK Layer7 check passed' },
    ]);
  });

  it("takes 1.5's last_chk for the check's description (1.5 has no check_desc column)", () => {
    const v15 = ['# pxname,svname,scur,status,weight,check_status,last_chk,', 'gateways_http,lab5,0,DOWN,1,L7STS,HTTP status check returned code <503>,'].join('\n');
    expect(parseServerStats(v15)).toEqual([{ backend: 'gateways_http', server: 'lab5', status: 'DOWN', sessions: 0, check: 'L7STS HTTP status check returned code <503>', weight: 1 }]);
  });

  it('a weight of 0 set by hand is out of rotation though haproxy 2.x says UP; a weight it does not give is not', () => {
    const csv = ['# pxname,svname,scur,status,weight,check_status,', 'gateways_http,lab4,0,UP,1,L7OK,', 'gateways_http,lab5,0,UP,0,L7OK,', 'other,x,0,UP,0,L7OK,', 'gateways_https,lab5,0,DRAIN,,L7OK,'].join('\n');
    const out = leftOutOfRotation(parseServerStats(csv), ['gateways_http', 'gateways_https']);
    expect(out.map((s) => `${s.backend}/${s.server} ${outOfRotationAs(s)}`)).toEqual(['gateways_http/lab5 UP, weight 0', 'gateways_https/lab5 DRAIN']);
  });

  it('says what it got when the answer is not CSV', () => {
    expect(() => parseServerStats('Permission denied\n')).toThrow(/unexpected answer to show stat: Permission denied/);
  });
});

describe('package and service commands', () => {
  it('refreshes apt lists only when haproxy has no candidate (offline hosts keep their cache)', () => {
    expect(installHaproxy('apt')).toBe(
      "export DEBIAN_FRONTEND=noninteractive; if ! apt-cache policy haproxy 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt-get update; fi; apt-get install -y haproxy",
    );
    expect(installHaproxy('dnf')).toBe('dnf install -y haproxy');
  });

  it('validates a candidate with haproxy -c', () => {
    expect(validateConfig('/etc/haproxy/haproxy.cfg.gatewright-candidate')).toBe('haproxy -c -f /etc/haproxy/haproxy.cfg.gatewright-candidate');
  });

  it('reloads, never restarts', () => {
    expect(reloadHaproxy('systemd')).toBe('systemctl reload haproxy');
    expect(reloadHaproxy('sysv')).toBe('service haproxy reload');
    expect(startHaproxy('systemd')).toBe('systemctl enable haproxy && systemctl start haproxy');
  });

  it('has a fact command that dash parses and runs', () => {
    const out = execFileSync('/bin/sh', ['-c', haproxyFact.command], { encoding: 'utf8' });
    expect(out).toMatch(/^(VERSION=.*\n)?SM=(systemd|sysv)\n/);
  });

  it('reads the haproxy fact', () => {
    expect(parseHaproxyInfo('VERSION=HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nSM=systemd\nACTIVE=active\nENABLED=enabled\n')).toEqual({
      version: '2.6.12-1+deb12u4',
      serviceManager: 'systemd',
      running: true,
      enabled: true,
    });
    expect(parseHaproxyInfo('SM=systemd\nACTIVE=inactive\nENABLED=disabled\n')).toEqual({
      version: undefined,
      serviceManager: 'systemd',
      running: false,
      enabled: false,
    });
  });

  it('refuses an answer without the service manager line: unknown is never "not installed"', () => {
    expect(() => parseHaproxyInfo('')).toThrow(/cannot read haproxy's version and service state: unexpected answer/);
  });

  it('has a SELinux boolean fact that dash runs (no SELinux here: mode only)', () => {
    const out = execFileSync('/bin/sh', ['-c', haproxyConnectAnyFact.command], { encoding: 'utf8' });
    expect(parseHaproxySelinux(0, out).mode).toMatch(/^(absent|Disabled|Permissive|Enforcing)$/);
  });

  it.each([
    ['MODE=absent\n', 0, { mode: 'absent' }],
    ['MODE=Permissive\n', 0, { mode: 'Permissive' }],
    ['MODE=Enforcing\nhaproxy_connect_any --> on\n', 0, { mode: 'Enforcing', connectAny: true }],
    ['MODE=Enforcing\nhaproxy_connect_any --> off\n', 0, { mode: 'Enforcing', connectAny: false }],
  ] as const)('reads the SELinux boolean fact %j', (stdout, code, want) => {
    expect(parseHaproxySelinux(code, stdout)).toEqual(want);
  });

  it('a getsebool that fails or answers something else is an error, never "off"', () => {
    expect(() => parseHaproxySelinux(1, 'MODE=Enforcing\n', 'getsebool: not managed')).toThrow(/cannot read the SELinux boolean haproxy_connect_any: getsebool: not managed/);
    expect(() => parseHaproxySelinux(0, 'MODE=Enforcing\n')).toThrow(/unexpected answer/);
  });
});
