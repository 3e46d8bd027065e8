// The console login and GETs in one command (ops/console-session.ts), run by dash with a stub curl that answers
// from the config it reads on stdin and records its argv and config: the password goes in on stdin only, the
// token from the login's answer into the GETs' header, and the output parses back into both answers.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { curlConfig, curlGetsConfig } from '../../ops/curl.ts';
import { loginThenGetsCmd, parseConsoleSession } from '../../ops/console-session.ts';

const BASE = 'http://10.0.0.1:9000';
const READS = [`${BASE}/apisix/admin/clusters/default`, `${BASE}/apisix/admin/routes/gatewright-probe?cluster_id=default`];
const PASSWORD = 'pa"ss word\\1';
const LOGIN = curlConfig({ method: 'POST', url: `${BASE}/apisix/admin/user/login`, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });

/** Runs the command under dash; curl answers the login with `login` ({status, body} or a connection failure). */
function session(login: { status: number; body: string } | 'refused') {
  const dir = mkdtempSync(join(tmpdir(), 'gw-console-session-'));
  const log = join(dir, 'log');
  const loginAnswer =
    login === 'refused'
      ? `printf '\\n__gatewright_status__:000'; echo 'curl: (7) Failed to connect to 10.0.0.1 port 9000' >&2; exit 7`
      : `printf '%s\\n__gatewright_status__:%s' ${shq(login.body)} ${login.status}`;
  writeFileSync(
    join(dir, 'curl'),
    [
      '#!/bin/sh',
      `printf 'argv: %s\\n' "$*" >>${log}`,
      'cfg=$(cat)',
      `printf 'config: %s\\n' "$cfg" >>${log}`,
      'case "$cfg" in *user/login*)',
      loginAnswer,
      'exit 0;; esac',
      `auth=$(printf '%s\\n' "$cfg" | sed -n 's/^header = "Authorization: \\(.*\\)"$/\\1/p')`,
      `printf '%s\\n' "$cfg" | sed -n 's/^url = "\\(.*\\)"$/\\1/p' | while read -r u; do printf '{"url":"%s","auth":"%s"}\\n__gatewright_status__:200' "$u" "$auth"; done`,
    ].join('\n'),
  );
  chmodSync(join(dir, 'curl'), 0o755);
  const readsConfig = curlGetsConfig(READS, { 'Content-Type': 'application/json' });
  const r = spawnSync('/bin/dash', ['-c', loginThenGetsCmd(readsConfig)], { input: LOGIN, env: { PATH: `${dir}:/usr/bin:/bin` } });
  const result = { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), ok: r.status === 0 };
  return { result, parsed: parseConsoleSession(result, READS.length), log: readFileSync(log, 'utf8') };
}
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('console login and GETs in one command', () => {
  it('logs in with the config on stdin, then asks every GET with the token it got, in one curl', () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoiYWRtaW4ifQ.c2ln-_/+=';
    const { result, parsed, log } = session({ status: 200, body: JSON.stringify({ data: { token } }) });
    expect(result.code).toBe(0);
    expect(parsed.login.status).toBe(200);
    expect(parsed.token).toBe(token);
    expect(parsed.reads).toEqual(READS.map((url) => ({ status: 200, body: JSON.stringify({ url, auth: token }) })));
    // curl's argv is `-K -` both times: password and token only in the configs it read on stdin
    expect(log.split('\n').filter((l) => l.startsWith('argv: '))).toEqual(['argv: -K -', 'argv: -K -']);
    expect(log).toContain(LOGIN.split('\n').find((l) => l.startsWith('data-binary = '))!);
  });

  it('a pretty-printed answer gives the token too', () => {
    const { parsed } = session({ status: 200, body: '{\n  "data": {\n    "token" : "abc.def.ghi"\n  }\n}' });
    expect(parsed.token).toBe('abc.def.ghi');
    expect(parsed.reads?.map((r) => r.status)).toEqual([200, 200]);
  });

  it('a refused login asks nothing more: its status and answer come back, no token, no GETs', () => {
    const { result, parsed, log } = session({ status: 401, body: '{"message":"wrong password"}' });
    expect(result.code).toBe(0);
    expect(parsed).toEqual({ login: { status: 401, body: '{"message":"wrong password"}' }, token: undefined, reads: undefined });
    expect(log.match(/^argv: /gm)).toHaveLength(1);
  });

  it('a console that does not answer is no answer (status 0, curl\'s error), never an empty one', () => {
    const { result, parsed } = session('refused');
    expect(result.code).toBe(7);
    expect(parsed.login).toEqual({ status: 0, body: 'curl: (7) Failed to connect to 10.0.0.1 port 9000' });
    expect(parsed.reads).toBeUndefined();
  });

  it('a token the script cannot pass safely into a config line skips the GETs; the controller still parses it', () => {
    const { parsed, log } = session({ status: 200, body: JSON.stringify({ data: { token: 'to"ken\\n' } }) });
    expect(parsed.token).toBe('to"ken\\n');
    expect(parsed.reads).toBeUndefined();
    expect(log.match(/^argv: /gm)).toHaveLength(1);
  });
});
