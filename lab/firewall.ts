// The lab's iptables rules on the machine, each tagged with our comment so `down` removes exactly
// ours: one rule letting the hosts talk across labbr0 (FORWARD policy is DROP once any Docker ran,
// and bridge netfilter sends bridged frames through it), and the DROP rules of a network cut.
import { existsSync, readFileSync } from 'node:fs';
import { MACHINE, NET } from './topology.ts';
import { $, $try, log } from './run.ts';

type Rule = string[]; // chain first, then the match and target, as for `iptables -C`

const TAG = ['-m', 'comment', '--comment', MACHINE.iptablesComment];

export const forwardRule = (): Rule => ['FORWARD', '-i', NET.bridge, '-o', NET.bridge, ...TAG, '-j', 'ACCEPT'];

/** Drops everything to and from `ip`: between hosts (bridged, FORWARD) and with the machine. */
export function cutRules(ip: string): Rule[] {
  return [
    ['FORWARD', '-i', NET.bridge, '-s', ip, ...TAG, '-j', 'DROP'],
    ['FORWARD', '-o', NET.bridge, '-d', ip, ...TAG, '-j', 'DROP'],
    ['INPUT', '-i', NET.bridge, '-s', ip, ...TAG, '-j', 'DROP'],
    ['OUTPUT', '-o', NET.bridge, '-d', ip, ...TAG, '-j', 'DROP'],
  ];
}

/** `-A CHAIN …` lines of `iptables -S` that carry our comment, as `-D` argument lists. */
export function ourRulesFromListing(listing: string): Rule[] {
  return listing
    .split('\n')
    .filter((line) => line.startsWith('-A '))
    .map((line) => line.slice(3).split(/\s+/))
    .filter((words) => words[words.indexOf('--comment') + 1] === MACHINE.iptablesComment);
}

const present = async (rule: Rule): Promise<boolean> => (await $try`iptables -w -C ${rule}`).exitCode === 0;

/** Inserts the rule first in its chain unless it is there. */
export async function ensureRule(rule: Rule): Promise<void> {
  if (!(await present(rule))) await $`iptables -w -I ${rule[0]} 1 ${rule.slice(1)}`;
}

export async function removeRule(rule: Rule): Promise<void> {
  while (await present(rule)) await $`iptables -w -D ${rule}`;
}

export async function ourRules(): Promise<Rule[]> {
  const r = await $try`iptables -w -S`;
  return r.exitCode === 0 ? ourRulesFromListing(r.stdout) : [];
}

export async function removeOurRules(): Promise<void> {
  for (const rule of await ourRules()) await $try`iptables -w -D ${rule}`;
}

export async function isCut(ip: string): Promise<boolean> {
  return present(cutRules(ip)[2]);
}

/** Bridged frames must pass iptables for a cut to separate hosts from each other. */
export async function ensureBridgeNetfilter(): Promise<void> {
  const knob = '/proc/sys/net/bridge/bridge-nf-call-iptables';
  if (!existsSync(knob)) await $try`modprobe br_netfilter`;
  if (!existsSync(knob) || readFileSync(knob, 'utf8').trim() !== '1') {
    log(`warning: ${knob} is not 1: \`cut\` will separate a host from the machine but not from the other hosts`);
  }
}
