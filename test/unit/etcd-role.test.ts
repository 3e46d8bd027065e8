// The whole etcd role on three scripted hosts (fake transport): facts in, commands out. Each host is a small
// world; the batched reads (the role's facts, the health gate's cluster read) are answered fact by fact, so the
// tests see exactly which commands reach a host: a converged host gets its batch, the health read inside it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPlaybook, type RunOptions } from '../../lib/runner.ts';
import { definePlaybook, type ExecOptions, type ExecResult } from '../../lib/types.ts';
import etcd from '../../roles/etcd/index.ts';
import { AUTH_OFF_WARNING } from '../../roles/etcd/auth.ts';
import { API_MARK } from '../../facts/engine-api.ts';
import { IMAGES_CMD, sha256OrMissingCmd } from '../../ops/docker.ts';
import { fakeFleet, fakeInventory } from '../helpers/fake-transport.ts';
import { authProbeCmd } from '../../ops/etcdctl.ts';
import { batchAnswer, batchCommands, batchNonce, CANNOT_EXEC, inContainerBatch } from '../helpers/role-fleet.ts';

const HOSTS = ['lab1', 'lab2', 'lab3'] as const;
const ADDR: Record<string, string> = { lab1: '10.0.0.1', lab2: '10.0.0.2', lab3: '10.0.0.3' };
const DIR = '/usr/local/etcd/etcd_data';
const ENV = '/usr/local/etcd/etcdctl.env';
const IMAGE_ID = `sha256:${'a'.repeat(64)}`;
const TARBALL = '/opt/api7/bundles/etcd-3.4.23.tar.gz';
const ALL = 'http://10.0.0.1:2379,http://10.0.0.2:2379,http://10.0.0.3:2379';

// The controller's tarball: the upload step compares its checksum with the host's.
const bundleDir = mkdtempSync(join(tmpdir(), 'gw-etcd-role-'));
writeFileSync(join(bundleDir, 'etcd-3.4.23.tar.gz'), 'etcd image tarball');
const SHA = createHash('sha256').update('etcd image tarball').digest('hex');
const MANIFEST = JSON.stringify([{ Config: `${'a'.repeat(64)}.json`, RepoTags: ['bitnami/etcd:3.4.23'] }]);

interface World {
  dataDir: 'missing' | string; // the mode, e.g. '700'
  hasData: boolean;
  container?: { running: boolean; spec: string };
  image: boolean;
  uploaded: boolean;
  /** etcd's auth as its member answers (no member running: no answer). */
  auth: 'on' | 'off';
  /** The stored root credentials (etcdctl.env), when there. */
  envFile?: string;
  /** Commands (by a part of them) this host fails: exit 1 with `sudo: a password is required`. */
  failing?: string[];
}

type Fleet = Record<string, World>;

const converged = (spec: string): World => ({ dataDir: '700', hasData: true, container: { running: true, spec }, image: true, uploaded: true, auth: 'off' });
const fresh = (): World => ({ dataDir: 'missing', hasData: false, image: false, uploaded: false, auth: 'off' });

/** Answers one command as `host`'s world says. */
function answer(fleet: Fleet, command: string, host: string): Partial<ExecResult> {
  const w = fleet[host];
  if (w.failing?.some((f) => command.includes(f))) return { code: 1, stderr: 'sudo: a password is required' };
  const running = (h: string) => !!fleet[h].container?.running;
  if (command.includes('echo survey=done')) {
    const c = w.container;
    const lines = [`dir=${w.dataDir === 'missing' ? 'no' : 'yes'}`, `data=${w.hasData ? 'yes' : 'no'}`];
    if (c) lines.push(`container ${w.hasData ? 'yes' : 'no'} ${JSON.stringify({ name: '/etcd', running: c.running, spec: c.spec, dataMount: DIR })}`);
    lines.push(`port=${running(host) ? 0 : 1}`, 'survey=done');
    return { stdout: lines.join('\n') };
  }
  if (command.startsWith('if [ -d ')) {
    const path = /if \[ -d (\S+) \]/.exec(command)![1];
    return { stdout: path === DIR ? (w.dataDir === 'missing' ? 'missing\n' : `${w.dataDir} root root\n`) : '700 root root\n' };
  }
  if (command.startsWith(`if [ -f ${ENV} ]`)) return { stdout: w.envFile === undefined ? 'missing\n' : `600 root root\n${w.envFile}` };
  // The engine API's image list (facts/engine-api.ts).
  if (command === IMAGES_CMD) return { stdout: `${API_MARK}\n${JSON.stringify(w.image ? [{ Id: IMAGE_ID, RepoTags: ['bitnami/etcd:3.4.23'] }] : [])}\n` };
  if (command.startsWith(`if [ -e ${TARBALL} ]`)) return { stdout: w.uploaded ? `${SHA}  ${TARBALL}\n` : 'missing\n' };
  if (command.startsWith('cat -- ') && command.includes('.gatewright-manifest')) return { stdout: w.uploaded ? `${SHA}\n${MANIFEST}` : '' };
  if (command.startsWith('tar -xzOf ')) return w.uploaded ? { stdout: MANIFEST } : { code: 2, stderr: `tar: ${TARBALL}: Cannot open: No such file or directory` };
  if (command.includes('etcdctl')) {
    if (!running(host)) return { code: 1, stderr: 'Error response from daemon: container etcd is not running' };
    const withCreds = command.includes('--env-file');
    if (command.endsWith(' user list')) return w.auth === 'off' ? { stdout: 'root\n' } : { code: 1, stderr: 'Error: etcdserver: user name is empty' };
    if (w.auth === 'off' && withCreds) return { code: 1, stderr: 'Error: etcdserver: authentication is not enabled' };
    if (w.auth === 'on' && !withCreds && !command.includes('member list')) return { code: 1, stderr: 'Error: etcdserver: user name is empty' };
    const targets = /--endpoints=(\S+)/.exec(command)![1].split(',').map((u) => Object.keys(ADDR).find((h) => u.includes(`//${ADDR[h]}:`))!);
    if (command.endsWith(' endpoint health')) {
      const out = targets.map((t) => `http://${ADDR[t]}:2379 is ${running(t) ? 'healthy: ok' : 'unhealthy: context deadline exceeded'}`);
      return { code: targets.every(running) ? 0 : 1, stdout: out.join('\n') };
    }
    if (command.endsWith(' endpoint status')) return { stdout: targets.filter(running).map((t, i) => `http://${ADDR[t]}:2379, id${t}, 3.4.23, 20 kB, ${i === 0}, false, 2, 8, 8, `).join('\n') };
    if (command.endsWith(' member list')) return { stdout: HOSTS.map((h, i) => `id${h}, started, api7-etcd-${i + 1}, http://${ADDR[h]}:2380, http://${ADDR[h]}:2379, false`).join('\n') };
    if (command.endsWith(' user get root')) return { stdout: 'User: root\nRoles: root\n' };
    if (command.endsWith(' auth enable') || command.endsWith(' auth disable')) for (const h of HOSTS) fleet[h].auth = command.endsWith(' enable') ? 'on' : 'off';
  }
  return {};
}

/** The batch script of lib/fact-batch.ts, answered command by command (the commands recorded too, a batch in a batch after it). */
function respond(fleet: Fleet, inner: Record<string, string[][]>) {
  const one = (command: string, host: string): Partial<ExecResult> => {
    const boxed = inContainerBatch(command);
    if (boxed) {
      const answers = boxed.calls.map((c) => one(c, host));
      if (answers.some((a) => CANNOT_EXEC.test(a.stderr ?? ''))) return one(boxed.fallback, host);
      (inner[host] ??= []).push(boxed.calls);
      return batchAnswer(boxed.nonce, answers);
    }
    const nonce = batchNonce(command);
    if (!nonce) return answer(fleet, command, host);
    const commands = batchCommands(command)!;
    (inner[host] ??= []).push(commands);
    return batchAnswer(nonce, commands.map((c) => one(c, host)));
  };
  return (command: string, host: string, _opts: ExecOptions): Partial<ExecResult> => one(command, host);
}

async function run(fleet: Fleet, opts: RunOptions = {}, vars: Record<string, unknown> = {}) {
  const inner: Record<string, string[][]> = {};
  const f = fakeFleet(respond(fleet, inner));
  const hostVars = Object.fromEntries(HOSTS.map((h) => [h, { ansible_host: ADDR[h], api7_bundle_dir: bundleDir, etcd_version: '3.4.23', health_timeout: 1, ...vars }]));
  const playbook = definePlaybook({ name: 'etcd', description: '', plays: [{ name: 'etcd', hosts: 'etcd', role: etcd }] });
  const summary = await runPlaybook(playbook, opts, { inventory: fakeInventory({ etcd: [...HOSTS] }, hostVars), transports: f.factory, close: f.close });
  const step = (h: string, name: string) => summary.results.find((r) => r.host === h && r.step === name);
  const commands = (h: string) => f.transports.get(h)?.commands ?? [];
  return { summary, step, commands, inner };
}

/** The spec each member's container must carry: what a --check of a fresh cluster plans into its docker run. */
async function specs(): Promise<Record<string, string>> {
  const w: Fleet = Object.fromEntries(HOSTS.map((h) => [h, { ...fresh(), image: true, uploaded: true, dataDir: '700' }]));
  const { step } = await run(w, { check: true });
  return Object.fromEntries(HOSTS.map((h) => [h, /io\.gatewright\.spec=(\S+)/.exec(step(h, 'etcd member')!.planned!.join('\n'))![1]]));
}

const convergedFleet = async (): Promise<Fleet> => {
  const s = await specs();
  return Object.fromEntries(HOSTS.map((h) => [h, converged(s[h])]));
};

const REMOVE = `if docker inspect etcd >/dev/null 2>&1; then docker stop -t 30 etcd >/dev/null && docker rm etcd >/dev/null; fi`;

describe('etcd role, converged', () => {
  it('every step ok; per host exactly one command: the batched facts, the gates\' one cluster read in the first member\'s', async () => {
    const { summary, commands, inner } = await run(await convergedFleet());
    expect(summary.exitCode).toBe(0);
    expect(summary.results.filter((r) => r.status !== 'ok' && r.status !== 'skipped')).toEqual([]);
    for (const h of HOSTS) {
      expect(commands(h)).toHaveLength(1);
      const [facts, health] = inner[h];
      expect(facts).toEqual([
        expect.stringContaining(`timeout 20 sh -c 'set -e`),
        authProbeCmd(`http://${ADDR[h]}:2379`, undefined),
        `if [ -d ${DIR} ]; then stat -L -c '%a %U %G' -- ${DIR}; elif [ -e ${DIR} ]; then echo other; else echo missing; fi`,
        `if [ -d /usr/local/etcd/snapshots ]; then stat -L -c '%a %U %G' -- /usr/local/etcd/snapshots; elif [ -e /usr/local/etcd/snapshots ]; then echo other; else echo missing; fi`,
        IMAGES_CMD,
        sha256OrMissingCmd(TARBALL),
        `cat -- ${TARBALL}.gatewright-manifest 2>/dev/null || true`,
        ...(h === 'lab1' ? [expect.stringContaining('gwfacts-')] : []),
      ]);
      if (h !== 'lab1') {
        // The read is of every endpoint: nothing changed, so lab1's answers every member's gate.
        expect(health).toBeUndefined();
        continue;
      }
      // Auth is off (as etcd answered the probe): no credentials; the member list rides along for the membership check.
      expect(health).toEqual([
        `docker exec etcd etcdctl --endpoints=${ALL} endpoint health`,
        `docker exec etcd etcdctl --endpoints=${ALL} endpoint status`,
        `docker exec etcd etcdctl --endpoints=${ALL} member list`,
      ]);
    }
    expect((summary.warnings ?? []).map((w) => w.message)).toEqual([AUTH_OFF_WARNING]);
  });

  it('with auth on, the health read sends the stored credentials (etcd answered the probe: auth on) and proves they are root\'s', async () => {
    const fleet = await convergedFleet();
    for (const h of HOSTS) Object.assign(fleet[h], { auth: 'on', envFile: 'ETCDCTL_USER=root:pw\n' });
    const { summary, inner, commands } = await run(fleet, {}, { etcd_auth_enabled: true, etcd_root_password: 'pw' });
    expect(summary.exitCode, JSON.stringify(summary.errors)).toBe(0);
    expect(summary.results.filter((r) => r.status !== 'ok' && r.status !== 'skipped')).toEqual([]);
    for (const h of HOSTS) {
      expect(commands(h)).toHaveLength(1);
      expect(inner[h][0]).toContain(`if [ -f ${ENV} ]; then stat -L -c '%a %U %G' -- ${ENV} && cat -- ${ENV}; elif [ -e ${ENV} ]; then echo other; else echo missing; fi`);
      if (h !== 'lab1') continue; // lab1's read answers every gate
      expect(inner[h][1]).toEqual([
        `docker exec --env-file ${ENV} etcd etcdctl --endpoints=${ALL} endpoint health`,
        `docker exec --env-file ${ENV} etcd etcdctl --endpoints=${ALL} endpoint status`,
        `docker exec --env-file ${ENV} etcd etcdctl --endpoints=${ALL} member list`,
        `docker exec --env-file ${ENV} etcd etcdctl --endpoints=${ALL} user get root`,
      ]);
    }
    expect(summary.warnings ?? []).toEqual([]);
  });
});

describe('etcd role, the gates\' shared read', () => {
  it('a reader whose read says unhealthy does not fail the others: each then reads the cluster itself', async () => {
    const fleet = await convergedFleet();
    fleet.lab1.failing = [' endpoint health'];
    const { step, inner } = await run(fleet);
    expect(step('lab1', 'etcd cluster healthy')?.status).toBe('failed');
    for (const h of ['lab2', 'lab3']) {
      expect(step(h, 'etcd cluster healthy')?.status).toBe('ok');
      expect(inner[h].at(-1)).toEqual([
        `docker exec etcd etcdctl --endpoints=${ALL} endpoint health`,
        `docker exec etcd etcdctl --endpoints=${ALL} endpoint status`,
        `docker exec etcd etcdctl --endpoints=${ALL} member list`,
      ]);
    }
  });
});

const planned = (r: { planned?: string[] } | undefined) => r?.planned ?? [];
const runLine = (p: string[]) => p.find((l) => l.startsWith('$ docker run'));

describe('etcd role, fresh hosts (--check plans it all)', () => {
  it('uploads, loads, makes the folders and starts every member as a new cluster, each with the guide\'s docker run', async () => {
    const fleet: Fleet = Object.fromEntries(HOSTS.map((h) => [h, fresh()]));
    const { summary, step } = await run(fleet, { check: true });
    expect(summary.exitCode, JSON.stringify(summary.errors)).toBe(0);
    for (const h of HOSTS) {
      expect(step(h, 'upload the etcd image tarball')?.changes).toEqual([`upload etcd-3.4.23.tar.gz to ${TARBALL}`]);
      expect(planned(step(h, 'load the etcd image'))).toEqual([`$ docker load -i ${TARBALL}`]);
      expect(step(h, 'load the etcd image')?.changes).toEqual(['docker load etcd-3.4.23.tar.gz (once it is there)']);
      expect(planned(step(h, 'etcd data and snapshot directories'))).toEqual([`$ mkdir -p -m 0700 -- ${DIR}`]);
      const member = planned(step(h, 'etcd member'));
      expect(member[0]).toBe(`$ ${REMOVE}`);
      expect(runLine(member)).toMatch(
        new RegExp(`^\\$ docker run -d --name etcd -u root --network=host --restart always .* -e ETCD_NAME=api7-etcd-${h.slice(3)} .* -e ETCD_INITIAL_CLUSTER_STATE=new .* bitnami/etcd:3.4.23$`),
      );
      expect(step(h, 'etcd member')?.changes).toEqual([`start etcd member ${h} (new cluster)`]);
    }
  });
});

describe('etcd role, drift: what changed -> the planned commands', () => {
  it.each([
    [
      'lab2\'s container stopped',
      (f: Fleet) => void (f.lab2.container!.running = false),
      { lab2: [`recreate etcd member lab2 (container stopped), one member at a time`] },
    ],
    [
      'lab3\'s container runs an older spec',
      (f: Fleet) => void (f.lab3.container!.spec = 'older'),
      { lab3: [`recreate etcd member lab3 (spec changed), one member at a time`] },
    ],
  ])('%s', async (_, drift, want) => {
    const fleet = await convergedFleet();
    drift(fleet);
    const { step } = await run(fleet, { check: true });
    for (const h of HOSTS) {
      const member = step(h, 'etcd member');
      expect(member?.changes).toEqual(want[h as keyof typeof want] ?? []);
      if (want[h as keyof typeof want]) {
        expect(planned(member)[0]).toBe(`$ ${REMOVE}`);
        expect(runLine(planned(member))).toContain(' -e ETCD_INITIAL_CLUSTER_STATE=existing ');
      }
    }
  });

  it('a data dir with the wrong mode: chmod 0700', async () => {
    const fleet = await convergedFleet();
    fleet.lab1.dataDir = '755';
    const { step } = await run(fleet, { check: true });
    expect(planned(step('lab1', 'etcd data and snapshot directories'))).toEqual([`$ chmod 0700 -- ${DIR}`]);
  });

  it('the image gone from lab2: docker load of the uploaded tarball', async () => {
    const fleet = await convergedFleet();
    fleet.lab2.image = false;
    const { step } = await run(fleet, { check: true });
    expect(planned(step('lab2', 'load the etcd image'))).toEqual([`$ docker load -i ${TARBALL}`]);
    expect(planned(step('lab1', 'load the etcd image'))).toEqual([]);
  });

  it('etcd_auth_enabled turned off while etcd has auth on: auth disable with the stored credentials (etcd answered the probe: on)', async () => {
    const fleet = await convergedFleet();
    for (const h of HOSTS) Object.assign(fleet[h], { auth: 'on', envFile: 'ETCDCTL_USER=root:pw\n' });
    const disable = `docker exec --env-file ${ENV} etcd etcdctl --endpoints=http://10.0.0.1:2379 auth disable`;
    expect(planned((await run(structuredClone(fleet), { check: true })).step('lab1', 'etcd auth (root user)'))).toEqual([`$ ${disable}`]);
    const { summary, step, inner, commands } = await run(fleet);
    expect(summary.exitCode, JSON.stringify(summary.errors)).toBe(0);
    expect(step('lab1', 'etcd auth (root user)')?.status).toBe('changed');
    // The batch's read went as the vars expect (auth off: no credentials); etcd refused it, and it is not the
    // observation's: before auth is disabled etcd still demands the stored credentials, and the gate's read sends them.
    expect(inner.lab1[1][0]).toBe(`docker exec etcd etcdctl --endpoints=${ALL} endpoint health`);
    expect(inner.lab1[2][0]).toBe(`docker exec --env-file ${ENV} etcd etcdctl --endpoints=${ALL} endpoint health`);
    expect(commands('lab1')).toContain(disable);
    expect(HOSTS.map((h) => fleet[h].auth)).toEqual(['off', 'off', 'off']);
  });

  it('etcd_auth_enabled turned on while etcd has auth off: no credentials until auth is on (etcd would refuse them), then root is proven', async () => {
    const fleet = await convergedFleet();
    const { summary, step, inner, commands } = await run(fleet, {}, { etcd_auth_enabled: true, etcd_root_password: 'pw' });
    expect(summary.exitCode, JSON.stringify(summary.errors)).toBe(0);
    expect(step('lab1', 'etcdctl credentials')?.changes).toEqual([`create ${ENV} (mode 0600)`]);
    expect(step('lab1', 'etcd auth (root user)')?.changes).toEqual(['create etcd user root (password from stdin) and enable auth']);
    // The batch's read went with the credentials the vars expect; etcd (auth still off) refused them. The gate's
    // read follows the observation: no credentials.
    expect(inner.lab1[1][0]).toBe(`docker exec --env-file ${ENV} etcd etcdctl --endpoints=${ALL} endpoint health`);
    expect(inner.lab1[2][0]).toBe(`docker exec etcd etcdctl --endpoints=${ALL} endpoint health`);
    const own = 'etcd etcdctl --endpoints=http://10.0.0.1:2379';
    expect(commands('lab1').filter((c) => / (role|user|auth) /.test(c) && !c.includes('gwfacts-'))).toEqual([
      `docker exec etcd etcdctl --endpoints=${ALL} role add root`,
      `docker exec -i etcd etcdctl --endpoints=${ALL} user add root --interactive=false`,
      `docker exec etcd etcdctl --endpoints=${ALL} user grant-role root root`,
      `docker exec etcd etcdctl --endpoints=${ALL} auth enable`,
      // every member's auth read again: from now on etcdctl sends the stored credentials
      authProbeCmd('http://10.0.0.1:2379', undefined),
      `docker exec --env-file ${ENV} ${own} user get root`,
    ]);
    expect(HOSTS.map((h) => fleet[h].auth)).toEqual(['on', 'on', 'on']);
  });
});

describe('etcd role, failed reads are errors naming the host and the step, never "absent"', () => {
  it('lab2\'s survey fails: lab2\'s member step fails saying so; the converged members do not need it', async () => {
    const fleet = await convergedFleet();
    fleet.lab2.failing = ['echo survey=done'];
    const { summary, step } = await run(fleet, { check: true });
    expect(step('lab2', 'etcd member')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/could not read the etcd state of lab2: its survey failed \(exit 1\).*Nothing was changed on any member/) });
    for (const h of ['lab1', 'lab3']) expect(step(h, 'etcd member')?.status).toBe('ok');
    expect(summary.exitCode).toBe(2);
  });

  it('lab2\'s survey fails while lab1 needs a change: lab1 changes nothing (unknown is never absent)', async () => {
    const fleet = await convergedFleet();
    fleet.lab2.failing = ['echo survey=done'];
    fleet.lab1.container!.spec = 'older';
    const { step } = await run(fleet, { check: true });
    expect(step('lab1', 'etcd member')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/etcd member lab1 needs a change but the state of lab2 \(its survey failed \(exit 1\)/) });
  });

  it('the data dir cannot be read: its step fails naming the folder and the host', async () => {
    const fleet = await convergedFleet();
    fleet.lab3.failing = [`if [ -d ${DIR} ]`];
    const { step } = await run(fleet, { check: true });
    expect(step('lab3', 'etcd data and snapshot directories')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/cannot inspect \/usr\/local\/etcd\/etcd_data: sudo: a password is required on lab3/) });
  });

  it('the health read fails: the gate fails after health_timeout, naming the host', async () => {
    const fleet = await convergedFleet();
    fleet.lab1.failing = ['endpoint health'];
    const { step } = await run(fleet);
    expect(step('lab1', 'etcd cluster healthy')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/etcd cluster \(checked from lab1\): not healthy after 1 s/) });
  });

  it('etcd answers the auth probe neither way: no etcdctl call guesses "off"; the gate fails saying why', async () => {
    const fleet = await convergedFleet();
    fleet.lab1.failing = [' user list'];
    const { step, inner } = await run(fleet, {}, { etcd_auth_enabled: true, etcd_root_password: 'pw' });
    expect(step('lab1', 'etcd cluster healthy')).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/not healthy after 1 s \(last: cannot tell whether etcd auth is on at http:\/\/10.0.0.1:2379 \(exit 1\)/),
    });
    // The facts' batch and, inside it, the cluster read with the credentials the vars expect; the gate, not
    // knowing etcd's auth, sent no read of its own.
    expect(inner.lab1).toHaveLength(2);
    expect(inner.lab1[1][0]).toContain('--env-file');
  });
});
