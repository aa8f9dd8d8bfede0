/**
 * if() conditions of the CMake language (https://cmake.org/cmake/help/latest/command/if.html)
 * in three-valued logic: a condition that depends on a value cmake-eval.ts could not compute
 * (a find_package result, a file read) is 'unknown', not guessed. Precedence as documented:
 * parentheses, unary tests, binary tests, NOT, AND, OR. Pure.
 */
import { compareVersions } from './version.js';

export type Tri = boolean | 'unknown';
export const not = (a: Tri): Tri => (a === 'unknown' ? a : !a);
export const and = (a: Tri, b: Tri): Tri => (a === false || b === false ? false : a === 'unknown' || b === 'unknown' ? 'unknown' : true);
export const or = (a: Tri, b: Tri): Tri => (a === true || b === true ? true : a === 'unknown' || b === 'unknown' ? 'unknown' : false);

/** An argument after `${}` expansion. */
export interface Word {
  readonly text: string;
  readonly quoted: boolean;
  /** It expanded a value that is not known. */
  readonly unknown: boolean;
}

export const UNKNOWN: unique symbol = Symbol('unknown');

export interface ConditionEnv {
  /** A variable's value; undefined when not set; UNKNOWN when a command this does not run set it. */
  get(name: string): string | typeof UNKNOWN | undefined;
  /** A use in cmake's sense (the variable's value is read). */
  use(name: string): void;
  /** Named without its value being read (`if(DEFINED X)`). */
  mention(name: string): void;
  hasTarget(name: string): boolean;
  hasCommand(name: string): boolean;
}

export const TRUE_CONST = /^(1|ON|YES|TRUE|Y)$/i;
export const FALSE_CONST = /^(0|OFF|NO|FALSE|N|IGNORE|NOTFOUND|)$|-NOTFOUND$/i;
const isNumberTrue = (s: string): boolean => /^-?\d+(\.\d+)?$/.test(s) && Number(s) !== 0;

export function evaluateCondition(toks: readonly Word[], env: ConditionEnv): Tri {
  /** A variable by name; a set one is used (`use`) when its value is read. */
  const lookup = (name: string, use: boolean): { value: string; unknown: boolean; defined: boolean } => {
    const v = env.get(name);
    if (v !== undefined && use) env.use(name);
    if (v === UNKNOWN) return { value: '', unknown: true, defined: true };
    return { value: v ?? '', unknown: false, defined: v !== undefined };
  };
  let i = 0;
  const peek = (): Word | undefined => toks[i];
  const value = (w: Word): { v: string; unknown: boolean } => {
    if (w.unknown) return { v: '', unknown: true };
    if (w.quoted) return { v: w.text, unknown: false };
    if (TRUE_CONST.test(w.text) || FALSE_CONST.test(w.text) || /^-?\d/.test(w.text)) return { v: w.text, unknown: false };
    const r = lookup(w.text, true);
    if (!r.defined) return { v: w.text, unknown: false };
    return { v: r.value, unknown: r.unknown };
  };
  const truth = (w: Word): Tri => {
    if (w.unknown) return 'unknown';
    if (TRUE_CONST.test(w.text) || isNumberTrue(w.text)) return true;
    if (FALSE_CONST.test(w.text)) return false;
    if (w.quoted) return false;
    const r = lookup(w.text, true);
    if (r.unknown) return 'unknown';
    return r.defined && !FALSE_CONST.test(r.value);
  };
  const UNARY = new Set(['EXISTS', 'COMMAND', 'DEFINED', 'TARGET', 'POLICY', 'TEST', 'IS_DIRECTORY', 'IS_SYMLINK', 'IS_ABSOLUTE', 'IS_READABLE', 'IS_WRITABLE', 'IS_EXECUTABLE']);
  const BINARY =
    /^(EQUAL|LESS|LESS_EQUAL|GREATER|GREATER_EQUAL|STREQUAL|STRLESS|STRLESS_EQUAL|STRGREATER|STRGREATER_EQUAL|VERSION_EQUAL|VERSION_LESS|VERSION_LESS_EQUAL|VERSION_GREATER|VERSION_GREATER_EQUAL|MATCHES|IN_LIST|PATH_EQUAL|IS_NEWER_THAN)$/;
  const binary = (op: string, l: Word, r: Word): Tri => {
    if (op === 'IN_LIST') {
      const a = value(l);
      const list = lookup(r.text, true);
      if (a.unknown || list.unknown) return 'unknown';
      return list.value.split(';').includes(a.v);
    }
    const a = value(l);
    const b = value(r);
    if (a.unknown || b.unknown) return 'unknown';
    switch (op) {
      case 'STREQUAL':
      case 'PATH_EQUAL':
        return a.v === b.v;
      case 'STRLESS':
        return a.v < b.v;
      case 'STRGREATER':
        return a.v > b.v;
      case 'STRLESS_EQUAL':
        return a.v <= b.v;
      case 'STRGREATER_EQUAL':
        return a.v >= b.v;
      case 'MATCHES':
        try {
          return new RegExp(b.v).test(a.v);
        } catch {
          return 'unknown';
        }
      case 'IS_NEWER_THAN':
        return 'unknown';
      default: {
        if (op.startsWith('VERSION_')) {
          if (!/^\d/.test(a.v) || !/^\d/.test(b.v)) return op === 'VERSION_EQUAL' ? a.v === b.v : false;
          const c = compareVersions(a.v, b.v);
          return { VERSION_EQUAL: c === 0, VERSION_LESS: c < 0, VERSION_LESS_EQUAL: c <= 0, VERSION_GREATER: c > 0, VERSION_GREATER_EQUAL: c >= 0 }[op] ?? 'unknown';
        }
        const x = Number(a.v);
        const y = Number(b.v);
        if (Number.isNaN(x) || Number.isNaN(y)) return false;
        return { EQUAL: x === y, LESS: x < y, LESS_EQUAL: x <= y, GREATER: x > y, GREATER_EQUAL: x >= y }[op] ?? 'unknown';
      }
    }
  };
  const primary = (): Tri => {
    const w = toks[i++];
    if (!w) return false;
    if (!w.quoted && w.text === '(') {
      const v = orExpr();
      if (peek()?.text === ')') i++;
      return v;
    }
    if (!w.quoted && UNARY.has(w.text)) {
      const arg = toks[i++];
      if (!arg) return false;
      if (w.text === 'DEFINED') {
        const name = arg.text.replace(/^(ENV|CACHE)\{(.*)\}$/, (_, k: string, n: string) => (k === 'ENV' ? '\0' : n));
        if (name === '\0') return 'unknown';
        env.mention(name);
        const v = env.get(name);
        return v === UNKNOWN ? 'unknown' : v !== undefined;
      }
      if (w.text === 'TARGET') return env.hasTarget(arg.text) ? true : 'unknown';
      if (w.text === 'POLICY') return true;
      if (w.text === 'COMMAND') return env.hasCommand(arg.text) ? true : 'unknown';
      if (w.text === 'IS_ABSOLUTE') return arg.unknown ? 'unknown' : arg.text.startsWith('/');
      return 'unknown';
    }
    const op = peek();
    if (op && !op.quoted && BINARY.test(op.text)) {
      i++;
      const r = toks[i++];
      return r ? binary(op.text, w, r) : false;
    }
    return truth(w);
  };
  const notExpr = (): Tri => {
    const w = peek();
    if (w && !w.quoted && w.text === 'NOT') {
      i++;
      return not(notExpr());
    }
    return primary();
  };
  const andExpr = (): Tri => {
    let v = notExpr();
    while (peek()?.text === 'AND' && !peek()?.quoted) {
      i++;
      v = and(v, notExpr());
    }
    return v;
  };
  const orExpr = (): Tri => {
    let v = andExpr();
    while (peek()?.text === 'OR' && !peek()?.quoted) {
      i++;
      v = or(v, andExpr());
    }
    return v;
  };
  return orExpr();
}
