// Idempotent files and directories: read what is there in one command, plan only what differs.
import { createTwoFilesPatch } from 'diff';
import { raw, sh } from './shell.ts';
import type { Change, StepContext } from './types.ts';

export interface FileSpec {
  path: string;
  content: string;
  mode?: number;
  /** "user" or "user:group". */
  owner?: string;
  /** Content is secret: diffs show "(content hidden: secret)". (The read of the current content is never logged.) */
  secret?: boolean;
  become?: boolean;
}

export interface DirSpec {
  path: string;
  mode?: number;
  owner?: string;
  become?: boolean;
}

interface Stat {
  mode: number;
  user: string;
  group: string;
}

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

/** One line of `<mode> <user> <group>`, then the content; or `missing` / `other` (not a regular file). */
export const readFileCommand = (path: string): string =>
  sh`if [ -f ${path} ]; then stat -L -c '%a %U %G' -- ${path} && cat -- ${path}; elif [ -e ${path} ]; then echo other; else echo missing; fi`;

export const readDirCommand = (path: string): string =>
  sh`if [ -d ${path} ]; then stat -L -c '%a %U %G' -- ${path}; elif [ -e ${path} ]; then echo other; else echo missing; fi`;

function parseStat(line: string): Stat | undefined {
  const m = /^([0-7]+) (\S+) (\S+)$/.exec(line.trim());
  return m ? { mode: parseInt(m[1], 8), user: m[2], group: m[3] } : undefined;
}

/** chmod / chown changes for an existing path whose mode or owner differs from the wanted ones. */
function attributeChanges(path: string, have: Stat, want: { mode?: number; owner?: string; become?: boolean }): Change[] {
  const changes: Change[] = [];
  if (want.mode !== undefined && (have.mode & 0o7777) !== want.mode) {
    changes.push({
      summary: `chmod ${octal(want.mode)} ${path} (was ${octal(have.mode)})`,
      commands: [{ command: sh`chmod ${octal(want.mode)} -- ${path}`, become: want.become }],
    });
  }
  if (want.owner) {
    const [user, group] = want.owner.split(':');
    if (have.user !== user || (group && have.group !== group)) {
      changes.push({
        summary: `chown ${want.owner} ${path} (was ${have.user}:${have.group})`,
        commands: [{ command: sh`chown ${want.owner} -- ${path}`, become: want.become }],
      });
    }
  }
  return changes;
}

export async function ensureFile(ctx: StepContext, spec: FileSpec): Promise<Change[]> {
  const { path, content } = spec;
  // The read is never logged: what a file holds now may be a secret the vars no longer name (a password
  // since removed from the inventory), which the redactor cannot know.
  const read = await ctx.run(readFileCommand(path), { nothrow: true, become: spec.become, secretOutput: true });
  if (read.code !== 0) throw new Error(`cannot read ${path} on ${ctx.host.name}: ${read.stderr.trim()}`);
  const nl = read.stdout.indexOf('\n');
  const head = nl < 0 ? read.stdout : read.stdout.slice(0, nl);
  if (head.trim() === 'other') throw new Error(`${path} on ${ctx.host.name} exists and is not a regular file`);
  const have = parseStat(head);
  const current = have ? read.stdout.slice(nl + 1) : undefined;
  if (have && current === content) return attributeChanges(path, have, spec);

  const mode = spec.mode ?? have?.mode ?? 0o644;
  const owner = spec.owner ?? (have && spec.become ? `${have.user}:${have.group}` : undefined);
  // A file only its owner may read was written that way because it held secrets: its old content stays hidden.
  const heldSecrets = have !== undefined && (have.mode & 0o077) === 0;
  const diff = spec.secret || heldSecrets
    ? `--- ${path}\n+++ ${path}\n(content hidden: secret)\n`
    : createTwoFilesPatch(path, path, current ?? '', content, have ? 'current' : '(absent)', 'wanted');
  return [
    {
      summary: `${have ? 'update' : 'create'} ${path} (mode ${octal(mode)}${owner ? `, owner ${owner}` : ''})`,
      diff,
      writes: [{ path, content, mode, owner, become: spec.become, secret: spec.secret || heldSecrets }],
    },
  ];
}

export async function ensureDir(ctx: StepContext, spec: DirSpec): Promise<Change[]> {
  const { path } = spec;
  const read = await ctx.run(readDirCommand(path), { nothrow: true, become: spec.become });
  if (read.code !== 0) throw new Error(`cannot inspect ${path} on ${ctx.host.name}: ${read.stderr.trim()}`);
  const line = read.stdout.trim();
  if (line === 'other') throw new Error(`${path} on ${ctx.host.name} exists and is not a directory`);
  const have = parseStat(line);
  if (have) return attributeChanges(path, have, spec);
  const mode = spec.mode === undefined ? raw('') : raw(sh` -m ${octal(spec.mode)}`);
  const chown = spec.owner ? raw(sh` && chown ${spec.owner} -- ${path}`) : raw('');
  return [
    {
      summary: `create directory ${path}${spec.mode !== undefined ? ` (mode ${octal(spec.mode)})` : ''}${spec.owner ? ` owner ${spec.owner}` : ''}`,
      commands: [{ command: sh`mkdir -p${mode} -- ${path}${chown}`, become: spec.become }],
    },
  ];
}
