import { describe, expect, it } from 'vitest';
import { atLeast, compareVersions, findVersion, versionParts } from '../../facts/versions.ts';
import { checkDockerVersion, checkKernel } from '../../roles/preflight/checks.ts';

const machine = (kernel: string) => ({ kernel, arch: 'x86_64', cpus: 2, memoryMb: 4000 });

describe('versionParts', () => {
  it.each([
    ['3.10.0-1160.76.1.el7.x86_64', [3, 10, 0, 1160, 76, 1]],
    ['5.15.0-91-generic', [5, 15, 0, 91]],
    ['6.1.0-18-amd64', [6, 1, 0, 18]],
    ['4.18.0-513.5.1.el8_9.x86_64', [4, 18, 0, 513, 5, 1]],
    ['20.10.24+dfsg1', [20, 10, 24]],
    ['20.10.21-0ubuntu1~22.04.3', [20, 10, 21, 0]],
    ['24.0.7', [24, 0, 7]],
    ['1.13.1', [1, 13, 1]],
    ['', []],
  ])('%s -> %j', (version, parts) => {
    expect(versionParts(version)).toEqual(parts);
  });
});

describe('compareVersions', () => {
  it.each([
    ['3.10.0-1160.76.1.el7', '3.10.0-927', 1],
    ['3.10.0-957.el7', '3.10.0-927', 1],
    ['3.10.0-927', '3.10.0-927', 0],
    ['3.10.0-862.el7', '3.10.0-927', -1],
    ['3.10.0-327.el7', '3.10.0-927', -1],
    ['5.15.0-91-generic', '3.10.0-927', 1],
    ['6.1.0-18-amd64', '3.10.0-927', 1],
    ['20.10.24+dfsg1', '20.10.7', 1],
    ['20.10.7', '20.10.7', 0],
    ['20.10.5', '20.10.7', -1],
    ['24.0.7', '20.10.7', 1],
    ['1.13.1', '20.10.7', -1],
    ['20.10.10', '20.10.9', 1], // numeric, not lexical
  ])('%s vs %s -> %i', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
    expect(Math.sign(compareVersions(b, a))).toBe(-sign || 0);
  });
});

describe('findVersion', () => {
  it.each([
    ['Docker version 20.10.24+dfsg1, build 297e128', '20.10.24+dfsg1'],
    ['Docker version 1.13.1, build 7d71120/1.13.1', '1.13.1'],
    ['Docker version 24.0.7, build afdd53b', '24.0.7'],
    ['docker-compose version 1.29.2, build unknown', '1.29.2'],
    ['v2.24.5', '2.24.5'],
    ['', undefined],
  ])('%j -> %s', (text, version) => {
    expect(findVersion(text)).toBe(version);
  });
});

describe('kernel check', () => {
  it.each(['3.10.0-1160.76.1.el7.x86_64', '3.10.0-957.el7.x86_64', '5.15.0-91-generic', '6.1.0-18-amd64', '5.14.0-362.8.1.el9_3.x86_64'])(
    '%s passes',
    (kernel) => {
      expect(checkKernel(machine(kernel))[0].level).toBe('info');
    },
  );

  it('refuses CentOS 7.5 (3.10.0-862) with the upgrade advice', () => {
    const [f] = checkKernel(machine('3.10.0-862.el7.x86_64'));
    expect(f.level).toBe('fail');
    expect(f.message).toContain('kernel 3.10.0-862.el7.x86_64 < 3.10.0-927');
    expect(f.message).toContain('upgrade the kernel');
  });

  it('names CentOS 7.2 and older as known to be incompatible', () => {
    for (const kernel of ['3.10.0-327.el7.x86_64', '3.10.0-123.el7.x86_64', '2.6.32-754.el6.x86_64']) {
      const [f] = checkKernel(machine(kernel));
      expect(f.level).toBe('fail');
      expect(f.message).toContain('known to be incompatible with Docker 20.10');
    }
  });
});

describe('Docker version check', () => {
  it.each(['20.10.24+dfsg1', '24.0.7', '20.10.7'])('%s passes', (v) => {
    expect(checkDockerVersion(v)[0].level).toBe('info');
    expect(atLeast(v, '20.10.7')).toBe(true);
  });

  it.each(['1.13.1', '19.03.15', '20.10.6'])('%s fails with the upgrade advice', (v) => {
    const [f] = checkDockerVersion(v);
    expect(f.level).toBe('fail');
    expect(f.message).toMatch(new RegExp(`^Docker ${v.replace(/\./g, '\\.')} < 20\\.10\\.7: upgrade Docker`));
  });
});
