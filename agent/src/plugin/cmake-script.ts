/**
 * A small, pure reader of CMake language (https://cmake.org/cmake/help/latest/manual/cmake-language.7.html):
 * command invocations with quoted, bracket and unquoted arguments, line and bracket comments,
 * and the block structure of if/elseif/else/endif, foreach, while, function and macro.
 * tree-shape.ts evaluates TensorRT OSS CMakeLists.txt files with it; nothing here knows
 * TensorRT.
 */

export interface CmakeArg {
  readonly text: string;
  /** Quoted and bracket arguments are one argument after expansion; unquoted ones split on `;`. */
  readonly quoted: boolean;
}

export interface CmakeCommand {
  /** Lower-cased: CMake command names are case-insensitive. */
  readonly name: string;
  readonly args: readonly CmakeArg[];
  readonly line: number;
}

export type CmakeNode =
  | { readonly kind: 'command'; readonly command: CmakeCommand }
  | { readonly kind: 'if'; readonly branches: readonly { readonly condition: readonly CmakeArg[]; readonly body: readonly CmakeNode[] }[]; readonly orElse: readonly CmakeNode[] }
  | { readonly kind: 'foreach'; readonly args: readonly CmakeArg[]; readonly body: readonly CmakeNode[] }
  | { readonly kind: 'block'; readonly opener: string; readonly args: readonly CmakeArg[]; readonly body: readonly CmakeNode[] };

export class CmakeSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CmakeSyntaxError';
  }
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/** `[[`, `[=[`, `[==[` … at `i`: the number of `=`, or -1. */
function bracketOpen(text: string, i: number): number {
  if (text[i] !== '[') return -1;
  let j = i + 1;
  while (text[j] === '=') j++;
  return text[j] === '[' ? j - i - 1 : -1;
}

/** Tokenizes a CMake file into its command invocations (flat; see parseCmake for blocks). */
export function tokenizeCmake(text: string): CmakeCommand[] {
  const out: CmakeCommand[] = [];
  let i = 0;
  let line = 1;
  const advance = (to: number): void => {
    for (; i < to; i++) if (text[i] === '\n') line++;
  };
  const skipComment = (): boolean => {
    if (text[i] !== '#') return false;
    const eq = bracketOpen(text, i + 1);
    if (eq >= 0) {
      const close = text.indexOf(`]${'='.repeat(eq)}]`, i);
      if (close < 0) throw new CmakeSyntaxError('unterminated bracket comment', line);
      advance(close + eq + 2);
    } else {
      const nl = text.indexOf('\n', i);
      advance(nl < 0 ? text.length : nl);
    }
    return true;
  };
  while (i < text.length) {
    if (isSpace(text[i])) {
      advance(i + 1);
      continue;
    }
    if (skipComment()) continue;
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 200));
    if (!m) throw new CmakeSyntaxError(`unexpected "${text[i] ?? ''}"`, line);
    const name = m[0].toLowerCase();
    const start = line;
    advance(i + m[0].length);
    while (text[i] === ' ' || text[i] === '\t') advance(i + 1);
    if (text[i] !== '(') throw new CmakeSyntaxError(`expected "(" after ${m[0]}`, line);
    advance(i + 1);
    const args: CmakeArg[] = [];
    let depth = 0;
    for (;;) {
      if (i >= text.length) throw new CmakeSyntaxError(`unterminated ${m[0]}(`, start);
      const c = text[i];
      if (isSpace(c)) {
        advance(i + 1);
      } else if (c === '#' && skipComment()) {
        // comment inside an argument list
      } else if (c === '(') {
        depth++;
        args.push({ text: '(', quoted: false });
        advance(i + 1);
      } else if (c === ')') {
        advance(i + 1);
        if (depth === 0) break;
        depth--;
        args.push({ text: ')', quoted: false });
      } else if (c === '"') {
        let j = i + 1;
        let s = '';
        while (j < text.length && text[j] !== '"') {
          if (text[j] === '\\' && j + 1 < text.length) {
            const n = text[j + 1] ?? '';
            // `\` + newline continues the line; other escapes keep their character.
            if (n === '\n') s += '';
            else s += n === 'n' ? '\n' : n === 't' ? '\t' : n === ';' ? '\\;' : n;
            j += 2;
          } else {
            s += text[j];
            j++;
          }
        }
        if (j >= text.length) throw new CmakeSyntaxError('unterminated quoted argument', line);
        args.push({ text: s, quoted: true });
        advance(j + 1);
      } else if (bracketOpen(text, i) >= 0) {
        const eq = bracketOpen(text, i);
        const close = text.indexOf(`]${'='.repeat(eq)}]`, i);
        if (close < 0) throw new CmakeSyntaxError('unterminated bracket argument', line);
        let body = text.slice(i + eq + 2, close);
        if (body.startsWith('\n')) body = body.slice(1);
        args.push({ text: body, quoted: true });
        advance(close + eq + 2);
      } else {
        let j = i;
        let s = '';
        let refDepth = 0;
        while (j < text.length) {
          const d = text[j] ?? '';
          if (refDepth === 0 && (isSpace(d) || d === '(' || d === ')' || d === '#')) break;
          if (d === '\\' && j + 1 < text.length) {
            s += text.slice(j, j + 2);
            j += 2;
            continue;
          }
          // `${…}` may hold characters that would end an unquoted argument elsewhere.
          if (d === '$' && text[j + 1] === '{') refDepth++;
          else if (d === '}' && refDepth > 0) refDepth--;
          if (d === '"') {
            // Legacy unquoted argument with embedded quotes (`-DX="a b"`): keep them.
            const close = text.indexOf('"', j + 1);
            if (close < 0) throw new CmakeSyntaxError('unterminated quote', line);
            s += text.slice(j, close + 1);
            j = close + 1;
            continue;
          }
          s += d;
          j++;
        }
        args.push({ text: s, quoted: false });
        advance(j);
      }
    }
    out.push({ name, args, line: start });
  }
  return out;
}

const CLOSERS: Readonly<Record<string, string>> = { foreach: 'endforeach', while: 'endwhile', function: 'endfunction', macro: 'endmacro', block: 'endblock' };

/** Tokenizes and nests blocks; a missing or stray end command is a CmakeSyntaxError. */
export function parseCmake(text: string): CmakeNode[] {
  const commands = tokenizeCmake(text);
  let pos = 0;
  const parseBody = (until: readonly string[], opener?: CmakeCommand): CmakeNode[] => {
    const nodes: CmakeNode[] = [];
    while (pos < commands.length) {
      const c = commands[pos] as CmakeCommand;
      if (until.includes(c.name)) return nodes;
      pos++;
      if (c.name === 'if') {
        const branches: { condition: readonly CmakeArg[]; body: CmakeNode[] }[] = [{ condition: c.args, body: parseBody(['elseif', 'else', 'endif'], c) }];
        let orElse: CmakeNode[] = [];
        for (;;) {
          const next = commands[pos];
          if (!next) throw new CmakeSyntaxError('if() without endif()', c.line);
          pos++;
          if (next.name === 'elseif') branches.push({ condition: next.args, body: parseBody(['elseif', 'else', 'endif'], c) });
          else if (next.name === 'else') orElse = parseBody(['endif'], c);
          else break;
        }
        nodes.push({ kind: 'if', branches, orElse });
      } else if (c.name in CLOSERS) {
        const closer = CLOSERS[c.name] as string;
        const body = parseBody([closer], c);
        if (commands[pos]?.name !== closer) throw new CmakeSyntaxError(`${c.name}() without ${closer}()`, c.line);
        pos++;
        nodes.push(c.name === 'foreach' ? { kind: 'foreach', args: c.args, body } : { kind: 'block', opener: c.name, args: c.args, body });
      } else if (['elseif', 'else', 'endif', ...Object.values(CLOSERS)].includes(c.name)) {
        throw new CmakeSyntaxError(`${c.name}() without its opening command`, c.line);
      } else {
        nodes.push({ kind: 'command', command: c });
      }
    }
    if (opener) throw new CmakeSyntaxError(`${opener.name}() without ${until[until.length - 1] ?? ''}()`, opener.line);
    return nodes;
  };
  return parseBody([]);
}
