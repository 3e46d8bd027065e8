// The lb role on a scripted LB host: facts in, commands out. A converged host costs the role's one batched
// read plus one `show stat`; each drift plans exactly the guide's commands; a read that fails is an error of
// its step, never "absent".
import { describe, expect, it } from 'vitest';
import { batchScript } from '../../lib/fact-batch.ts';
import { readFileCommand } from '../../lib/files.ts';
import { runPlaybook } from '../../lib/runner.ts';
import { definePlaybook, type ExecResult } from '../../lib/types.ts';
import { haproxyConnectAnyFact, haproxyFact, haproxyTooOld } from '../../facts/haproxy.ts';
import { osFact } from '../../facts/os.ts';
import { serverStatsFact } from '../../ops/lb-drain.ts';
import { runtimeCommand, setServerState } from '../../ops/lb-runtime.ts';
import { stackVariables } from '../../vars/schema.ts';
import lb from '../../roles/lb/index.ts';
import { lbModel } from '../../roles/lb/model.ts';
import { renderHaproxyConfig } from '../../roles/lb/templates.ts';
import { fakeFleet, fakeInventory, type Responder } from '../helpers/fake-transport.ts';
import { batchAnswer, batchNonce } from '../helpers/role-fleet.ts';

const CFG = '/etc/haproxy/haproxy.cfg';
const CANDIDATE = `${CFG}.gatewright-candidate`;
const SOCKET = '/var/lib/haproxy/admin.sock';
const STATS = serverStatsFact(SOCKET).command;

const inventory = fakeInventory(
  { lb: ['lb1'], control: ['lab1', 'lab2'], gateway: ['lab4', 'lab5'] },
  { lb1: { ansible_host: '10.77.0.20' }, lab1: { ansible_host: '10.77.0.11' }, lab2: { ansible_host: '10.77.0.12' }, lab4: { ansible_host: '10.77.0.14' }, lab5: { ansible_host: '10.77.0.15' } },
);
const WANTED = renderHaproxyConfig(lbModel({}, inventory, 'lb1'));
const SERVERS = ['dashboards/lab1', 'dashboards/lab2', 'gateways_http/lab4', 'gateways_http/lab5', 'gateways_https/lab4', 'gateways_https/lab5'];

/** What the scripted LB host is; every field can be spoiled by a row. */
interface LbHost {
  version?: string;
  running: boolean;
  enabled: boolean;
  /** The haproxy fact's read fails (sudo refused, say). */
  haproxyUnreadable?: boolean;
  selinux: 'absent' | 'Permissive' | 'Enforcing';
  connectAny?: boolean;
  getseboolFails?: boolean;
  cfg: { mode: string; owner: string; content: string } | 'missing' | 'unreadable';
  /** Server -> status; 'no answer': the socket is not there. */
  stats: Record<string, string> | 'no answer';
  /** `haproxy -c` refuses the candidate with this message. */
  refuses?: string;
}

const converged = (): LbHost => ({
  version: '2.6.12-1+deb12u4',
  running: true,
  enabled: true,
  selinux: 'absent',
  cfg: { mode: '644', owner: 'root root', content: WANTED },
  stats: Object.fromEntries(SERVERS.map((s) => [s, 'UP'])),
});

const HEADER = '# pxname,svname,scur,status,check_status,check_desc';
const answer = (r: Partial<ExecResult>): Partial<ExecResult> => ({ code: 0, stdout: '', stderr: '', ...r });

/** One fact's (or command's) answer on the scripted host; undefined: a command that just succeeds. */
function respond(host: LbHost, command: string): Partial<ExecResult> | undefined {
  if (command === haproxyFact.command) {
    if (host.haproxyUnreadable) return { code: 1, stderr: 'sudo: a password is required' };
    const version = host.version ? `VERSION=HAProxy version ${host.version} 2023/04/01 - https://haproxy.org/\n` : '';
    return { stdout: `${version}SM=systemd\nACTIVE=${host.running ? 'active' : 'inactive'}\nENABLED=${host.enabled ? 'enabled' : 'disabled'}\n` };
  }
  if (command === haproxyConnectAnyFact.command) {
    if (host.selinux !== 'Enforcing') return { stdout: `MODE=${host.selinux}\n` };
    if (host.getseboolFails) return { code: 1, stdout: 'MODE=Enforcing\n', stderr: 'getsebool: SELinux policy is not managed or store cannot be accessed.' };
    return { stdout: `MODE=Enforcing\nhaproxy_connect_any --> ${host.connectAny ? 'on' : 'off'}\n` };
  }
  if (command === readFileCommand(CFG)) {
    if (host.cfg === 'unreadable') return { code: 1, stderr: 'cat: /etc/haproxy/haproxy.cfg: Permission denied' };
    return { stdout: host.cfg === 'missing' ? 'missing\n' : `${host.cfg.mode} ${host.cfg.owner}\n${host.cfg.content}` };
  }
  if (command === osFact.command) return { stdout: 'ID=debian\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nPACKAGE_MANAGERS=/usr/bin/apt-get \n' };
  if (command === STATS) {
    if (host.stats === 'no answer') return { code: 2, stderr: `cannot connect to ${SOCKET}: No such file or directory` };
    return { stdout: [HEADER, ...Object.entries(host.stats).map(([k, st]) => `${k.replace('/', ',')},0,${st},L7OK,`)].join('\n') + '\n' };
  }
  if (command.startsWith('haproxy -c -f') && host.refuses) return { code: 1, stdout: `[ALERT] parsing [${CANDIDATE}:12] : ${host.refuses}` };
  const ready = /printf '%s\\n' 'set server (\S+) state ready'/.exec(command);
  if (ready && host.stats !== 'no answer') host.stats[ready[1]] = 'UP';
  if (command === 'systemctl enable haproxy && systemctl start haproxy') Object.assign(host, { running: true, enabled: true });
  return undefined;
}

/** Answers the role's batched read as the batch script would: each fact's command answered alone, in sections. */
const FACT_COMMANDS = [haproxyFact.command, haproxyConnectAnyFact.command, readFileCommand(CFG), STATS];
function scripted(host: LbHost): Responder {
  return (command) => {
    const nonce = batchNonce(command);
    if (!nonce) return respond(host, command);
    // The role's facts, all of them, in one read; the file in the foreground (a file fact may hold a secret).
    expect(command).toBe(batchScript(FACT_COMMANDS, nonce, { foreground: new Set([2]) }));
    return batchAnswer(nonce, FACT_COMMANDS.map((c) => answer(respond(host, c) ?? {})));
  };
}

const playbook = definePlaybook({ name: 'lb', description: '', variables: stackVariables, plays: [{ name: 'lb', hosts: 'lb', role: lb }] });

async function run(host: LbHost, check = true) {
  const fleet = fakeFleet(scripted(host));
  const summary = await runPlaybook(playbook, { check }, { inventory, transports: fleet.factory });
  const commands = fleet.transports.get('lb1')!.commands.map((c) => (c.startsWith('n=gwfacts-') ? '<batch>' : c));
  const step = (name: string) => summary.results.find((r) => r.step.startsWith(name))!;
  return { summary, commands, step, puts: fleet.transports.get('lb1')!.puts };
}

const STEPS = ['haproxy package', 'SELinux lets haproxy reach the backends', 'haproxy.cfg', 'no server left drained', 'haproxy running'];
const INSTALL_CFG = [`write ${CANDIDATE} (mode 0644)`, `$ haproxy -c -f ${CANDIDATE}`, `$ chmod 0644 ${CANDIDATE} && chown root:root ${CANDIDATE} && mv -f -- ${CANDIDATE} ${CFG}`];
const RELOAD = ['$ systemctl reload haproxy'];
const START = ['$ systemctl enable haproxy && systemctl start haproxy'];
const READY = (server: string) => `$ ${runtimeCommand(SOCKET, [setServerState(server.split('/')[0], server.split('/')[1], 'ready'), `set weight ${server} 100%`])}`;

describe('lb role: a converged host', () => {
  it('is ok everywhere for one batched read, show stat in it', async () => {
    const { summary, commands } = await run(converged(), false);
    expect(summary.results.map((r) => [r.step, r.status])).toEqual(STEPS.map((s, i) => [expect.stringContaining(s), i === 1 ? 'skipped' : 'ok']));
    expect(commands).toEqual(['<batch>']);
  });

  it('plans nothing under --check either, for the same one read', async () => {
    const { summary, commands } = await run(converged());
    expect(summary.results.flatMap((r) => r.planned ?? [])).toEqual([]);
    expect(commands).toEqual(['<batch>']);
  });

  it('under SELinux with the boolean on: the step is ok, still no more reads', async () => {
    const { step, commands } = await run({ ...converged(), selinux: 'Enforcing', connectAny: true }, false);
    expect(step('SELinux')).toMatchObject({ status: 'ok' });
    expect(commands).toEqual(['<batch>']);
  });
});

describe('lb role: a fresh host (--check)', () => {
  it('plans the install, the validated config and the start; reads the OS only to pick the package manager', async () => {
    const { step, commands } = await run({ running: false, enabled: false, selinux: 'absent', cfg: 'missing', stats: 'no answer' });
    expect(step('haproxy package').planned).toEqual([
      "$ export DEBIAN_FRONTEND=noninteractive; if ! apt-cache policy haproxy 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt-get update; fi; apt-get install -y haproxy",
    ]);
    expect(step('haproxy.cfg').planned).toEqual(INSTALL_CFG); // not running: nothing to reload
    expect(step('no server left drained')).toMatchObject({ status: 'ok' }); // not running: every server starts ready
    expect(step('haproxy running').planned).toEqual(START);
    expect(commands).toEqual(['<batch>', osFact.command]);
  });
});

describe('lb role: a fresh host (applied)', () => {
  it("installs, then reads again what the package did (started haproxy, wrote its own haproxy.cfg) before the config step plans", async () => {
    const host: LbHost = { running: false, enabled: false, selinux: 'absent', cfg: 'missing', stats: 'no answer' };
    const fleet = fakeFleet((command, name, opts) => {
      if (command.includes('apt-get install -y haproxy')) {
        Object.assign(host, { version: '2.6.12-1+deb12u4', running: true, enabled: true, cfg: { mode: '644', owner: 'root root', content: '# debian default\n' }, stats: {} });
      }
      if (command === `chmod 0644 ${CANDIDATE} && chown root:root ${CANDIDATE} && mv -f -- ${CANDIDATE} ${CFG}`) {
        host.cfg = { mode: '644', owner: 'root root', content: WANTED };
        host.stats = Object.fromEntries(SERVERS.map((s) => [s, 'UP']));
      }
      return scripted(host)(command, name, opts);
    });
    const summary = await runPlaybook(playbook, {}, { inventory, transports: fleet.factory });
    const step = (name: string) => summary.results.find((r) => r.step.startsWith(name))!;
    expect(step('haproxy package')).toMatchObject({ status: 'changed' });
    expect(step('haproxy.cfg')).toMatchObject({ status: 'changed', changes: [expect.stringMatching(/^update \/etc\/haproxy\/haproxy.cfg/), 'reload haproxy (config changed)'] });
    expect(summary.results.map((r) => r.status)).toEqual(['changed', 'skipped', 'changed', 'ok', 'ok']);
    expect(fleet.transports.get('lb1')!.commands.map((c) => (c.startsWith('n=gwfacts-') ? '<batch>' : c))).toEqual([
      '<batch>',
      osFact.command,
      expect.stringContaining('apt-get install -y haproxy'),
      haproxyFact.command,
      readFileCommand(CFG),
      `haproxy -c -f ${CANDIDATE}`,
      INSTALL_CFG[2].slice(2),
      'systemctl reload haproxy',
      STATS, // the wait for the socket after the reload
      STATS, // the next step's current read: the one before was taken while the change ran
    ]);
  });
});

describe('lb role: each drift plans exactly its commands (--check)', () => {
  const rows: [string, (h: LbHost) => void, string, string[]][] = [
    ['haproxy.cfg edited by hand', (h) => ((h.cfg as { content: string }).content += 'listen extra\n'), 'haproxy.cfg', [...INSTALL_CFG, ...RELOAD]],
    ['haproxy.cfg readable by others only by mode', (h) => ((h.cfg as { mode: string }).mode = '600'), 'haproxy.cfg', [...INSTALL_CFG, ...RELOAD]],
    ['haproxy.cfg owned by someone else', (h) => ((h.cfg as { owner: string }).owner = 'ops ops'), 'haproxy.cfg', [...INSTALL_CFG, ...RELOAD]],
    ['haproxy.cfg gone', (h) => (h.cfg = 'missing'), 'haproxy.cfg', [...INSTALL_CFG, ...RELOAD]],
    ['SELinux enforcing, haproxy_connect_any off', (h) => Object.assign(h, { selinux: 'Enforcing', connectAny: false }), 'SELinux', ['$ setsebool -P haproxy_connect_any 1']],
    ['a gateway left drained in both backends', (h) => Object.assign(h.stats, { 'gateways_http/lab4': 'DRAIN', 'gateways_https/lab4': 'DRAIN' }), 'no server left drained', [READY('gateways_http/lab4'), READY('gateways_https/lab4')]],
    ['a dashboard left in maintenance', (h) => Object.assign(h.stats, { 'dashboards/lab2': 'MAINT' }), 'no server left drained', [READY('dashboards/lab2')]],
    ['haproxy stopped', (h) => Object.assign(h, { running: false, stats: 'no answer' }), 'haproxy running', START],
    ['haproxy not started at boot', (h) => Object.assign(h, { enabled: false }), 'haproxy running', START],
  ];

  it.each(rows)('%s', async (_, spoil, stepName, planned) => {
    const host = converged();
    spoil(host);
    const { summary, step } = await run(host);
    expect(step(stepName)).toMatchObject({ status: 'changed', planned });
    // Only that step changes.
    expect(summary.results.filter((r) => r.status === 'changed').map((r) => r.step)).toEqual([step(stepName).step]);
  });
});

describe('lb role: applying a drift', () => {
  it('a changed config: validated, installed, reloaded, then show stat read again as it is after the change', async () => {
    const host = converged();
    (host.cfg as { content: string }).content = '# old\n';
    const { step, commands, puts } = await run(host, false);
    expect(step('haproxy.cfg')).toMatchObject({ status: 'changed' });
    expect(puts).toEqual([{ path: CANDIDATE, content: WANTED, opts: { mode: 0o644, owner: undefined, become: true } }]);
    expect(commands).toEqual(['<batch>', `haproxy -c -f ${CANDIDATE}`, INSTALL_CFG[2].slice(2), 'systemctl reload haproxy', STATS, STATS]);
    expect(step('haproxy running')).toMatchObject({ status: 'ok' });
  });

  it('servers left drained: readied, then read again until up', async () => {
    const host = converged();
    Object.assign(host.stats, { 'gateways_http/lab4': 'MAINT' });
    const { step, commands } = await run(host, false);
    expect(step('no server left drained')).toMatchObject({ status: 'changed', changes: ['ready gateways_http/lab4 (was MAINT)'] });
    expect(step('haproxy running')).toMatchObject({ status: 'ok' });
    expect(commands).toEqual(['<batch>', READY('gateways_http/lab4').slice(2), STATS]);
  });
});

describe('lb role: a failed read is an error of its step, never "absent"', () => {
  const rows: [string, (h: LbHost) => void, string, RegExp][] = [
    ['haproxy version and state', (h) => (h.haproxyUnreadable = true), 'haproxy package', /cannot read haproxy's version and service state: sudo: a password is required/],
    ['the SELinux boolean', (h) => Object.assign(h, { selinux: 'Enforcing', getseboolFails: true }), 'SELinux', /cannot read the SELinux boolean haproxy_connect_any: getsebool: SELinux policy is not managed/],
    ['haproxy.cfg', (h) => (h.cfg = 'unreadable'), 'haproxy.cfg', /cannot read \/etc\/haproxy\/haproxy.cfg: cat: .*Permission denied on lb1/],
    ['the admin socket of a running haproxy', (h) => (h.stats = 'no answer'), 'no server left drained', /the haproxy admin socket \/var\/lib\/haproxy\/admin.sock did not answer \(exit 2\): cannot connect/],
  ];

  it.each(rows)('%s', async (_, spoil, stepName, reason) => {
    const host = converged();
    spoil(host);
    const { step, summary } = await run(host);
    expect(step(stepName)).toMatchObject({ host: 'lb1', status: 'failed', reason: expect.stringMatching(reason) });
    expect(summary.errors).toEqual([expect.objectContaining({ host: 'lb1', step: step(stepName).step })]);
  });

  it("an haproxy older than 1.5: the config step refuses it in the words of preflight's check (preflight-role.test.ts)", async () => {
    const { step } = await run({ ...converged(), version: '1.4.24' });
    expect(step('haproxy.cfg')).toMatchObject({ status: 'failed', reason: haproxyTooOld('1.4.24') });
  });

  it("a config haproxy refuses: its message, the candidate removed, the running config untouched, no reload", async () => {
    const host = converged();
    Object.assign(host, { cfg: { mode: '644', owner: 'root root', content: '# old\n' }, refuses: "'bind' : invalid port '99999'" });
    const { step, commands } = await run(host, false);
    expect(step('haproxy.cfg')).toMatchObject({ status: 'failed' });
    expect(step('haproxy.cfg').reason).toBe(`haproxy refused the new ${CFG} (the running config is untouched):\n[ALERT] parsing [${CFG}:12] : 'bind' : invalid port '99999'`);
    expect(commands).toEqual(['<batch>', `haproxy -c -f ${CANDIDATE}`, `rm -f -- ${CANDIDATE}`]);
  });
});
