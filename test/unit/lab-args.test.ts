import { describe, expect, it } from 'vitest';
import { HELP, parseArgs } from '../../lab/args.ts';

describe('lab arguments', () => {
  it.each<[string[], unknown]>([
    [[], { command: 'help' }],
    [['--help'], { command: 'help' }],
    [['up'], { command: 'up', init: 'systemd' }],
    [['up', '--init=none'], { command: 'up', init: 'none' }],
    [['down'], { command: 'down', purge: false }],
    [['down', '--purge'], { command: 'down', purge: true }],
    [['status'], { command: 'status' }],
    [['ssh', 'lab1'], { command: 'ssh', host: 'lab1', cmd: [] }],
    [['ssh', 'lab1', 'sudo', 'ls', '-la', '--color'], { command: 'ssh', host: 'lab1', cmd: ['sudo', 'ls', '-la', '--color'] }],
    [['stop', 'lab2'], { command: 'stop', host: 'lab2' }],
    [['kill', 'lab3'], { command: 'kill', host: 'lab3' }],
    [['pause', 'lb1'], { command: 'pause', host: 'lb1' }],
    [['unpause', 'lb1'], { command: 'unpause', host: 'lb1' }],
    [['start', 'upstream1'], { command: 'start', host: 'upstream1' }],
    [['cut', 'lab4'], { command: 'cut', host: 'lab4' }],
    [['restore', 'lab4'], { command: 'restore', host: 'lab4' }],
  ])('%j', (argv, expected) => {
    expect(parseArgs(argv)).toEqual(expected);
  });

  it.each<[string[], RegExp]>([
    [['launch'], /unknown command "launch"/],
    [['up', '--init=openrc'], /--init must be systemd or none/],
    [['up', '--fast'], /unknown option --fast/],
    [['up', 'lab1'], /takes no arguments/],
    [['down', '--force'], /unknown option --force/],
    [['stop'], /needs a host/],
    [['kill', 'lab9'], /unknown lab host "lab9"/],
    [['ssh', 'nohost'], /unknown lab host "nohost"/],
    [['ssh'], /needs a host/],
  ])('%j fails with a reason', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('documents every command in --help', () => {
    for (const word of ['up', 'down', '--purge', '--init=systemd|none', 'status', 'ssh', 'stop', 'kill', 'pause', 'unpause', 'start', 'cut', 'restore']) {
      expect(HELP).toContain(word);
    }
  });
});
