// The CLI checks the inventory against the playbook's variable schema before anything connects: a bad value
// exits 4 naming file, line and key and changes nothing; an unknown name is a warning with the closest name.
// The hosts do not exist (10.255.255.x): the run must stop (or list) before it tries them.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

function workspace(vars: string) {
  const root = mkdtempSync(join(tmpdir(), 'gw-vars-check-'));
  const inventory = join(root, 'hosts.yaml');
  writeFileSync(
    inventory,
    ['all:', '  children:', '    etcd:', '      hosts:', '        e1: { ansible_host: 10.255.255.1 }', '  vars:', vars, ''].join('\n'),
  );
  const runs = join(root, 'runs');
  return { inventory, runs, args: ['etcd', '-i', inventory, '--runs-dir', runs, '--known-hosts', join(root, 'known_hosts')] };
}

describe('variables checked at load', () => {
  it('a bad value exits 4 with file:line and key, before connecting: no run directory, no log', async () => {
    const ws = workspace('    etcd_snapshot_keep: 0');
    const r = await runCli(ws.args);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(`error: ${ws.inventory}:7 at all.vars.etcd_snapshot_keep: must be at least 1`);
    expect(r.stdout).toBe('');
    expect(existsSync(ws.runs)).toBe(false);
  });

  it('a removed variable exits 4 saying the group names are fixed', async () => {
    const ws = workspace('    etcd_group: my_etcd');
    const r = await runCli(ws.args);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`${ws.inventory}:7 at all.vars.etcd_group: removed: the playbooks run the groups etcd, control, gateway and lb`);
    expect(existsSync(ws.runs)).toBe(false);
  });

  it('-e with a bad value names the host and key', async () => {
    const ws = workspace('    cluster_id: default');
    const r = await runCli([...ws.args, '-e', 'etcd_client_port=http']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('error: host e1: etcd_client_port: must be a whole number');
  });

  it('an unknown name is a warning naming the file and the closest known name; the run goes on', async () => {
    const ws = workspace('    etcd_data_dirr: /data/etcd');
    const r = await runCli([...ws.args, '--list-hosts']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: ${ws.inventory}:7 at all.vars.etcd_data_dirr: unknown variable etcd_data_dirr (did you mean etcd_data_dir?)`);
    expect(r.stdout).toContain('play etcd (etcd): e1');
  });
});
