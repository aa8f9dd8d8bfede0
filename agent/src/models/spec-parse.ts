import { AgentError } from '../core/errors.js';

/**
 * Protobuf text format as TLT/TAO experiment specs use it (docs/reference/tao-specs.md §1;
 * grammar: https://protobuf.dev/reference/protobuf/textformat-spec/): nested messages with or
 * without `:` before `{` (also `<…>`), repeated fields, `[a, b]` lists, `#` comments,
 * single/double-quoted strings (adjacent ones concatenate), ints, floats (`5e-5`, `1.`,
 * `0.20000000298`, `inf`, `nan`, `1.0f`), identifiers (enums, `true`/`True`/`False`), optional
 * `;`/`,` separators. No schema here: the result is a tree, every field kept in file order
 * with its line:column, that spec-derive.ts reads and spec-schema.ts checks. Syntax errors
 * carry line:column. Pure.
 */

export interface SpecPos {
  readonly line: number;
  readonly col: number;
}

export type SpecValue =
  | { readonly kind: 'string'; readonly value: string; readonly pos: SpecPos }
  | { readonly kind: 'number'; readonly value: number; readonly raw: string; readonly pos: SpecPos }
  | { readonly kind: 'ident'; readonly value: string; readonly pos: SpecPos }
  | { readonly kind: 'message'; readonly value: SpecMessage; readonly pos: SpecPos };

export interface SpecField {
  readonly name: string;
  /** Where the field name stands: warnings about the field point here. */
  readonly pos: SpecPos;
  readonly value: SpecValue;
}

/** Fields in file order; repeated fields appear several times. */
export interface SpecMessage {
  readonly fields: readonly SpecField[];
}

type TokKind = 'ident' | 'string' | 'number' | 'punct' | 'eof';
interface Token {
  readonly kind: TokKind;
  readonly text: string;
  /** Decoded value for strings. */
  readonly value?: string;
  readonly pos: SpecPos;
}

function syntax(file: string, pos: SpecPos, message: string): AgentError {
  return new AgentError('SPEC_SYNTAX', `${file}:${pos.line}:${pos.col}: ${message}`, {
    hint: 'Fix the experiment spec at that position (protobuf text format).',
    details: { line: pos.line, col: pos.col },
  });
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '?': '?' };

function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (at: number): SpecPos => ({ line, col: at - lineStart + 1 });
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      const p = pos(i);
      i++;
      let value = '';
      for (;;) {
        const ch = text[i];
        if (ch === undefined || ch === '\n') throw syntax(file, p, 'unterminated string');
        if (ch === c) {
          i++;
          break;
        }
        if (ch === '\\') {
          const e = text[i + 1] ?? '';
          if (e in ESCAPES) {
            value += ESCAPES[e];
            i += 2;
          } else if (/[0-7]/.test(e)) {
            const m = /^[0-7]{1,3}/.exec(text.slice(i + 1)) ?? ['0'];
            value += String.fromCharCode(parseInt(m[0], 8));
            i += 1 + m[0].length;
          } else if (e === 'x') {
            const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2));
            if (!m) throw syntax(file, pos(i), 'bad \\x escape');
            value += String.fromCharCode(parseInt(m[0], 16));
            i += 2 + m[0].length;
          } else {
            throw syntax(file, pos(i), `unknown escape \\${e}`);
          }
          continue;
        }
        value += ch;
        i++;
      }
      out.push({ kind: 'string', text: text.slice(start, i), value, pos: p });
      continue;
    }
    const num = /^[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?)/.exec(text.slice(i));
    if (num && (/[\d.]/.test(c) || ((c === '-' || c === '+') && /[\d.]/.test(text[i + 1] ?? '')))) {
      const after = text[i + num[0].length] ?? '';
      if (/[A-Za-z_]/.test(after)) throw syntax(file, pos(i), `malformed number "${num[0]}${after}"`);
      out.push({ kind: 'number', text: num[0], pos: pos(i) });
      i += num[0].length;
      continue;
    }
    const id = /^-?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(text.slice(i));
    if (id) {
      out.push({ kind: 'ident', text: id[0], pos: pos(i) });
      i += id[0].length;
      continue;
    }
    if ('{}<>[]:;,'.includes(c)) {
      out.push({ kind: 'punct', text: c, pos: pos(i) });
      i++;
      continue;
    }
    throw syntax(file, pos(i), `unexpected character "${c}"`);
  }
  out.push({ kind: 'eof', text: '', pos: pos(i) });
  return out;
}

const SPECIAL_NUMBERS: Record<string, number> = { inf: Infinity, infinity: Infinity, '-inf': -Infinity, '-infinity': -Infinity, nan: NaN };

function numberValue(raw: string): number {
  if (/^[-+]?0[xX]/.test(raw)) return (raw.startsWith('-') ? -1 : 1) * parseInt(raw.replace(/^[-+]?0[xX]/, ''), 16);
  return Number(raw.replace(/[fF]$/, ''));
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: readonly Token[],
    private readonly file: string,
  ) {}

  private peek(): Token {
    return this.toks[this.i] ?? this.toks[this.toks.length - 1]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  private describe(t: Token): string {
    return t.kind === 'eof' ? 'end of file' : `"${t.text}"`;
  }

  message(close: string | undefined, open?: Token): SpecMessage {
    const fields: SpecField[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') {
        if (close) throw syntax(this.file, t.pos, `end of file inside the message opened at ${open?.pos.line ?? 0}:${open?.pos.col ?? 0}; missing "${close}"`);
        return { fields };
      }
      if (t.kind === 'punct' && close && t.text === close) {
        this.next();
        return { fields };
      }
      if (t.kind !== 'ident') throw syntax(this.file, t.pos, `expected a field name, found ${this.describe(t)}`);
      this.next();
      this.field(t.text, t.pos, fields);
      const sep = this.peek();
      if (sep.kind === 'punct' && (sep.text === ';' || sep.text === ',')) this.next();
    }
  }

  private field(name: string, at: SpecPos, into: SpecField[]): void {
    let t = this.peek();
    const colon = t.kind === 'punct' && t.text === ':';
    if (colon) {
      this.next();
      t = this.peek();
    }
    if (t.kind === 'punct' && (t.text === '{' || t.text === '<')) {
      this.next();
      into.push({ name, pos: at, value: { kind: 'message', value: this.message(t.text === '{' ? '}' : '>', t), pos: t.pos } });
      return;
    }
    if (!colon) throw syntax(this.file, t.pos, `expected ":" or "{" after field "${name}", found ${this.describe(t)}`);
    if (t.kind === 'punct' && t.text === '[') {
      this.next();
      if (this.peek().kind === 'punct' && this.peek().text === ']') {
        this.next();
        return;
      }
      for (;;) {
        const v = this.peek();
        if (v.kind === 'punct' && (v.text === '{' || v.text === '<')) {
          this.next();
          into.push({ name, pos: at, value: { kind: 'message', value: this.message(v.text === '{' ? '}' : '>', v), pos: v.pos } });
        } else into.push({ name, pos: at, value: this.scalar(name) });
        const sep = this.next();
        if (sep.kind === 'punct' && sep.text === ']') return;
        if (!(sep.kind === 'punct' && sep.text === ',')) throw syntax(this.file, sep.pos, `expected "," or "]" in the list of "${name}", found ${this.describe(sep)}`);
      }
    }
    into.push({ name, pos: at, value: this.scalar(name) });
  }

  private scalar(name: string): SpecValue {
    const t = this.next();
    if (t.kind === 'string') {
      let value = t.value ?? '';
      while (this.peek().kind === 'string') value += this.next().value ?? '';
      return { kind: 'string', value, pos: t.pos };
    }
    if (t.kind === 'number') return { kind: 'number', value: numberValue(t.text), raw: t.text, pos: t.pos };
    if (t.kind === 'ident') {
      const special = SPECIAL_NUMBERS[t.text.toLowerCase()];
      if (special !== undefined) return { kind: 'number', value: special, raw: t.text, pos: t.pos };
      if (t.text.startsWith('-')) throw syntax(this.file, t.pos, `"${t.text}" is not a number`);
      return { kind: 'ident', value: t.text, pos: t.pos };
    }
    throw syntax(this.file, t.pos, `expected a value for "${name}", found ${this.describe(t)}`);
  }
}

/** Parse a spec. `file` only labels error messages. */
export function parseSpec(text: string, file = 'spec'): SpecMessage {
  return new Parser(tokenize(text, file), file).message(undefined);
}

// ---- small readers over the tree ----

export function specMessages(msg: SpecMessage | undefined, name: string): SpecMessage[] {
  if (!msg) return [];
  return msg.fields.flatMap((f) => (f.name === name && f.value.kind === 'message' ? [f.value.value] : []));
}

export function specMessage(msg: SpecMessage | undefined, name: string): SpecMessage | undefined {
  return specMessages(msg, name)[0];
}

/** Last occurrence wins for a non-repeated scalar (protobuf text semantics). */
export function specScalar(msg: SpecMessage | undefined, name: string): SpecValue | undefined {
  if (!msg) return undefined;
  const all = msg.fields.filter((f) => f.name === name);
  return all[all.length - 1]?.value;
}
