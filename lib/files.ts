// Idempotent files and directories: read what is there in one command, plan only what differs.
import { createTwoFilesPatch } from 'diff';
import { raw, sh } from './shell.ts';
import { defineFact, type Change, type Fact, type StepContext } from './types.ts';

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

export interface Stat {
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

/** What a file is on the host: `missing`, `other` (not a regular file), or its attributes and content. */
export type FileState = { kind: 'missing' } | { kind: 'other' } | { kind: 'file'; stat: Stat; content: string };

/**
 * The read of a file as a fact, so a role can name it in its `facts` and have it read in the role's batch.
 * Secret: what a file holds now may be a secret the vars no longer name (a password since removed from the
 * inventory), which the redactor cannot know, so the read is never logged.
 */
export const fileFact = (path: string, become?: boolean): Fact<FileState> =>
  defineFact({
    name: `file ${path}`,
    command: readFileCommand(path),
    become,
    secret: true,
    parse(read) {
      if (read.code !== 0) throw new Error(`cannot read ${path}: ${read.stderr.trim() || `exit ${read.code}`}`);
      const nl = read.stdout.indexOf('\n');
      const head = (nl < 0 ? read.stdout : read.stdout.slice(0, nl)).trim();
      if (head === 'missing') return { kind: 'missing' };
      if (head === 'other') return { kind: 'other' };
      const stat = parseStat(head);
      if (!stat) throw new Error(`cannot read ${path}: unexpected answer`);
      return { kind: 'file', stat, content: read.stdout.slice(nl + 1) };
    },
  });

/** The read of a directory's attributes as a fact (batched like any fact of the role). */
export const dirFact = (path: string, become?: boolean): Fact<Stat | 'missing' | 'other'> =>
  defineFact({
    name: `dir ${path}`,
    command: readDirCommand(path),
    become,
    parse(read) {
      if (read.code !== 0) throw new Error(`cannot inspect ${path}: ${read.stderr.trim() || `exit ${read.code}`}`);
      const line = read.stdout.trim();
      if (line === 'missing' || line === 'other') return line;
      const stat = parseStat(line);
      if (!stat) throw new Error(`cannot inspect ${path}: unexpected answer`);
      return stat;
    },
  });

/**
 * Plans the writes that make `spec.path` hold `spec.content` with its mode and owner. The file is read through
 * `fileFact` (from the role's batch when the role names it; `fresh` re-reads it, e.g. after an earlier write).
 */
export async function ensureFile(ctx: StepContext, spec: FileSpec & { fresh?: boolean }): Promise<Change[]> {
  const { path, content } = spec;
  const state = await ctx.fact(fileFact(path, spec.become), { fresh: spec.fresh }).catch((e: Error) => {
    throw new Error(`${e.message} on ${ctx.host.name}`);
  });
  if (state.kind === 'other') throw new Error(`${path} on ${ctx.host.name} exists and is not a regular file`);
  const have = state.kind === 'file' ? state.stat : undefined;
  const current = state.kind === 'file' ? state.content : undefined;
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

export async function ensureDir(ctx: StepContext, spec: DirSpec & { fresh?: boolean }): Promise<Change[]> {
  const { path } = spec;
  const have = await ctx.fact(dirFact(path, spec.become), { fresh: spec.fresh }).catch((e: Error) => {
    throw new Error(`${e.message} on ${ctx.host.name}`);
  });
  if (have === 'other') throw new Error(`${path} on ${ctx.host.name} exists and is not a directory`);
  if (have !== 'missing') return attributeChanges(path, have, spec);
  const mode = spec.mode === undefined ? raw('') : raw(sh` -m ${octal(spec.mode)}`);
  const chown = spec.owner ? raw(sh` && chown ${spec.owner} -- ${path}`) : raw('');
  return [
    {
      summary: `create directory ${path}${spec.mode !== undefined ? ` (mode ${octal(spec.mode)})` : ''}${spec.owner ? ` owner ${spec.owner}` : ''}`,
      commands: [{ command: sh`mkdir -p${mode} -- ${path}${chown}`, become: spec.become }],
    },
  ];
}
