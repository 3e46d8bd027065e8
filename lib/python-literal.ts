// Python's ast.literal_eval for the values of an INI inventory: Ansible reads `key=value` values with it and
// keeps the text when it is not a literal. Numbers, strings, True/False/None, lists, tuples, dicts.
type Value = unknown;

class NotALiteral extends Error {}

/** The literal's value, or the text itself when it is not a Python literal (as Ansible does). */
export function parsePythonLiteral(text: string): Value {
  try {
    const p = new Parser(text);
    const value = p.value();
    p.end();
    return value;
  } catch (e) {
    if (e instanceof NotALiteral) return text;
    throw e;
  }
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  end(): void {
    this.space();
    if (this.i < this.s.length) throw new NotALiteral();
  }

  value(): Value {
    this.space();
    const c = this.s[this.i];
    if (c === '[') return this.sequence('[', ']');
    if (c === '(') return this.sequence('(', ')');
    if (c === '{') return this.dict();
    if (c === '"' || c === "'") return this.strings();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i))?.[0];
    if (word !== undefined) {
      const known: Record<string, Value> = { True: true, False: false, None: null };
      if (!(word in known)) throw new NotALiteral();
      this.i += word.length;
      return known[word];
    }
    return this.number();
  }

  private space(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
    if (this.s[this.i] === '#') this.i = this.s.length; // a comment runs to the end
  }

  private expect(c: string): void {
    this.space();
    if (this.s[this.i] !== c) throw new NotALiteral();
    this.i++;
  }

  private sequence(open: string, close: string): Value[] {
    this.expect(open);
    const out: Value[] = [];
    for (;;) {
      this.space();
      if (this.s[this.i] === close) break;
      out.push(this.value());
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) throw new NotALiteral();
    }
    this.i++;
    return out;
  }

  private dict(): Record<string, Value> {
    this.expect('{');
    const out: Record<string, Value> = {};
    for (;;) {
      this.space();
      if (this.s[this.i] === '}') break;
      const key = this.value();
      this.expect(':');
      out[String(key)] = this.value();
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') throw new NotALiteral();
    }
    this.i++;
    return out;
  }

  /** Adjacent string literals concatenate, as in Python ('a' 'b' is 'ab'). */
  private strings(): string {
    let out = this.string();
    for (;;) {
      const save = this.i;
      this.space();
      if (this.s[this.i] === '"' || this.s[this.i] === "'") out += this.string();
      else {
        this.i = save;
        return out;
      }
    }
  }

  private string(): string {
    const q = this.s[this.i++];
    const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i++];
      if (c === q) return out;
      if (c === '\n') break;
      if (c === '\\') {
        const e = this.s[this.i++];
        out += e in escapes ? escapes[e] : `\\${e}`;
      } else out += c;
    }
    throw new NotALiteral();
  }

  private number(): number {
    const m = /^[+-]?(?:\d+(?:_\d+)*)?(?:\.\d*)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i));
    const text = m?.[0] ?? '';
    if (!/\d/.test(text)) throw new NotALiteral();
    // Python 3 refuses leading zeros in an integer (0755 is a syntax error): Ansible keeps the text then.
    if (/^[+-]?0\d/.test(text) && !/[.eE]/.test(text)) throw new NotALiteral();
    this.i += text.length;
    return Number(text.replace(/_/g, ''));
  }
}
