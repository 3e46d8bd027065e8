// Edits of named keys in a vendor's YAML file (the bundles' conf.yaml / config.yaml): the `yaml` package's
// Document API keeps comments, key order and every key we do not name. When no named key's value differs,
// the text is returned untouched (byte-identical), so a file is written only when a value really changes.
import { isMap, isNode, isSeq, parseDocument, type Node, type YAMLSeq } from 'yaml';
import { stableJson } from './fingerprint.ts';

/** Set `path` to `value`; `value: undefined` removes the key when present. */
export interface KeyEdit {
  path: (string | number)[];
  value: unknown;
}

export interface EditResult {
  text: string;
  /** Dotted paths whose value changed (for the step's summary; never the values: they may be secrets). */
  changed: string[];
}

const plain = (v: unknown): unknown => (isNode(v) ? v.toJSON() : v);

export function editYaml(text: string, edits: KeyEdit[], file = 'the YAML file'): EditResult {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`${file} is not valid YAML: ${doc.errors[0].message}`);
  if (!isMap(doc.contents)) throw new Error(`${file}: the top level is not a mapping`);
  const changed: string[] = [];
  for (const e of edits) {
    const have = doc.hasIn(e.path);
    if (e.value === undefined) {
      if (!have) continue;
      doc.deleteIn(e.path);
    } else {
      if (have && stableJson(plain(doc.getIn(e.path, true))) === stableJson(e.value)) continue;
      // A parent left empty (`mtls:`) becomes a mapping; any other scalar cannot hold the key: say which one.
      for (let i = 1; i < e.path.length; i++) {
        const parent = doc.getIn(e.path.slice(0, i), true);
        if (parent === undefined || isMap(parent) || isSeq(parent)) continue;
        if (isNode(parent) && plain(parent) === null) doc.setIn(e.path.slice(0, i), doc.createNode({}));
        else throw new Error(`${file}: ${e.path.slice(0, i).join('.')} is not a mapping, cannot set ${e.path.join('.')}`);
      }
      const node = doc.createNode(e.value);
      // The comments on the old value (`port: 9000 # why`) stay with the key.
      const old = doc.getIn(e.path, true);
      if (isNode(old)) Object.assign(node, { comment: old.comment, commentBefore: old.commentBefore, spaceBefore: old.spaceBefore });
      if (isSeq(old) && isSeq(node)) keepItemComments(old, node);
      doc.setIn(e.path, node);
    }
    changed.push(e.path.join('.'));
  }
  return { text: changed.length ? doc.toString({ lineWidth: 0 }) : text, changed };
}

/**
 * A replaced list keeps its items' comments in place (`- 0.0.0.0/0  # why`): item i's go to the new item i, and
 * those of items the new list no longer has go under its last item, so no comment of the shipped file is lost.
 */
function keepItemComments(old: YAMLSeq, next: YAMLSeq): void {
  const items = next.items as Node[];
  if (!items.length) return;
  const left: string[] = [];
  (old.items as unknown[]).forEach((item, i) => {
    if (!isNode(item)) return;
    const target = items[i];
    if (target && isNode(target)) {
      if (item.commentBefore) target.commentBefore = item.commentBefore;
      if (item.comment) target.comment = item.comment;
    } else {
      left.push(...[item.commentBefore, item.comment].filter((c): c is string => !!c));
    }
  });
  if (left.length) {
    const last = items[items.length - 1];
    last.comment = [last.comment, ...left].filter(Boolean).join('\n');
  }
}

/** The values at the named paths of a parsed file (for comparing a deployed file with the shipped one). */
export function readKeys(text: string, paths: (string | number)[][]): Record<string, unknown> {
  const doc = parseDocument(text);
  return Object.fromEntries(paths.map((p) => [p.join('.'), plain(doc.getIn(p, true))]));
}
