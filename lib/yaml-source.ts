// YAML files read with positions, so every error names the file, the key path and the line.
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node, type ScalarTag } from 'yaml';
import { InputError } from './errors.ts';
import { isVaulted, Keyring } from './vault.ts';

export interface YamlSource {
  file: string;
  doc: Document;
  lines: LineCounter;
  data: unknown;
  /** Sources that are not YAML text (an INI inventory read into the same shape) say where a key path is. */
  lineOf?(path: readonly (string | number)[]): number | undefined;
}

/**
 * A YAML file, decrypted first when ansible-vault encrypted it whole; `!vault |` values are decrypted in
 * place. Without a password that opens them, the error names the file and line.
 */
export function readYaml(file: string, text?: string, keyring = new Keyring()): YamlSource {
  let raw = text ?? readFileSync(file, 'utf8');
  const wholeFile = isVaulted(raw);
  if (wholeFile) raw = keyring.decrypt(raw, file);
  const lines = new LineCounter();
  const vaultTag: ScalarTag = {
    tag: '!vault',
    resolve(value, onError) {
      try {
        return keyring.decrypt(value, `${file}: a !vault value`);
      } catch (e) {
        onError((e as Error).message.replace(`${file}: `, ''));
        return '';
      }
    },
  };
  const doc = parseDocument(raw, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, customTags: [vaultTag] });
  const first = doc.errors[0];
  if (first) {
    const { line, col } = lines.linePos(first.pos[0]);
    const vaultProblem = first.code === 'TAG_RESOLVE_FAILED';
    throw new InputError(`${file}:${line}:${col}: ${vaultProblem ? '' : 'invalid YAML: '}${first.message.split('\n')[0]}`);
  }
  const data = doc.toJS();
  if (wholeFile) keyring.revealLeaves(data);
  return { file, doc, lines, data };
}

/** "file:line" of the deepest node that exists on `path` (a missing key points at its parent). */
export function where(src: YamlSource, path: readonly (string | number)[]): string {
  if (src.lineOf) return `${src.file}:${src.lineOf(path) ?? 1}`;
  let node: unknown = src.doc.contents;
  let found = node as Node | undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      // Point at the key's line: right for an unknown key, and a null value has no range of its own.
      found = pair.key as Node;
      node = pair.value;
      if (!node) break;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      if (!node) break;
      found = node as Node;
    } else break;
  }
  const offset = found?.range?.[0] ?? 0;
  return `${src.file}:${src.lines.linePos(offset).line}`;
}

/** An InputError naming the file, line and key path. */
export function yamlError(src: YamlSource, path: readonly (string | number)[], message: string): InputError {
  const keyPath = path.length ? ` at ${path.join('.')}` : '';
  return new InputError(`${where(src, path)}${keyPath}: ${message}`);
}
