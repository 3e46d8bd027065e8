// The config step's gate: haproxy's own parser decides before a rendered config replaces the live one.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { validateOnHost } from '../../roles/lb/config.ts';
import { renderHaproxyConfig } from '../../roles/lb/templates.ts';
import { localContexts, tempDir } from './haproxy-fixture.ts';

describe('haproxy -c on the rendered config', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());
  const { context, model } = localContexts(tmp.dir);
  const lb = context('lb1');
  const path = String(lb.vars.lb_config_file);

  it('accepts the rendered config and puts it in place', async () => {
    writeFileSync(path, '# the running config\n');
    const good = renderHaproxyConfig(model());
    await validateOnHost(lb, path, good);
    expect(readFileSync(path, 'utf8')).toBe(good);
    expect(existsSync(`${path}.gatewright-candidate`)).toBe(false);
  });

  it.each(['1.8', '1.5'] as const)('accepts the %s-level config (EL8 ships 1.8, CentOS 7 1.5) too', async (level) => {
    const cfg = renderHaproxyConfig(model(), level);
    await validateOnHost(lb, path, cfg);
    expect(readFileSync(path, 'utf8')).toBe(cfg);
  });

  it("refuses a broken config with haproxy's message and leaves the running one untouched", async () => {
    const running = readFileSync(path, 'utf8');
    const broken = renderHaproxyConfig({ ...model(), httpBind: '127.0.0.30:99999' });
    const refused = validateOnHost(lb, path, broken);
    await expect(refused).rejects.toThrow(/haproxy refused the new .*haproxy\.cfg \(the running config is untouched\)/);
    await expect(refused).rejects.toThrow(/parsing \[.*haproxy\.cfg:\d+\] : 'bind' : invalid port '99999'/);
    expect(readFileSync(path, 'utf8')).toBe(running);
    expect(existsSync(`${path}.gatewright-candidate`)).toBe(false);
  });
});
