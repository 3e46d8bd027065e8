// One redactor for every sink (renderers, logs, --json): secrets become ********.

export const MASK = '********';

/**
 * Variable names whose values are secrets (docs/ARCHITECTURE.md). Names ending in _file, _path or _dir
 * hold where a secret lives (ansible_ssh_private_key_file), not the secret: they stay readable.
 */
export const isSecretName = (name: string): boolean =>
  /password|secret|token|private_key/i.test(name) && !/_(file|path|dir)$/i.test(name);

export class Redactor {
  private secrets: string[] = [];

  /** Registers a value (and each of its lines, so multi-line secrets are caught piecewise too). */
  add(value: unknown): void {
    if (typeof value !== 'string' && typeof value !== 'number') return;
    const text = String(value);
    const pieces = [text, ...text.split('\n').map((l) => l.trim())];
    for (const piece of pieces) {
      // Very short values would blank out unrelated text; they are still kept out of argv by the roles.
      if (piece.length < 3 || this.secrets.includes(piece)) continue;
      this.secrets.push(piece);
    }
    this.secrets.sort((a, b) => b.length - a.length); // longest first: a secret containing another
  }

  /** Registers every value under a secret-named key, at any depth. */
  addFromVars(vars: unknown, secretParent = false): void {
    if (Array.isArray(vars)) {
      for (const v of vars) this.addFromVars(v, secretParent);
    } else if (vars && typeof vars === 'object') {
      for (const [k, v] of Object.entries(vars)) this.addFromVars(v, secretParent || isSecretName(k));
    } else if (secretParent) {
      this.add(vars);
    }
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  }

  /** Deep copy with every string redacted (events and reports). */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactDeep(v);
      return out as T;
    }
    return value;
  }
}
