import { AgentError } from '../core/errors.js';
import { specScalar, type SpecMessage, type SpecPos, type SpecValue } from './spec-parse.js';
import type { SpecWarning } from './spec-schema.js';

/**
 * Typed reads over the spec tree with the errors and warnings of spec-derive.ts. A wrong
 * value is SPEC_INVALID at file:line:col; its hint offers a command-line flag only when the
 * caller has one that replaces the value (`flags`), so `spec show` never promises a flag it
 * does not have. Pure.
 */
export interface SpecFlags {
  /** E.g. `--input C,H,W`: replaces the input size and channels. */
  readonly input?: string;
  /** E.g. `--classes a,b,c`: replaces the class list. */
  readonly classes?: string;
  /** E.g. `--network NET`. */
  readonly network?: string;
}

export type Overridable = keyof SpecFlags;

/** protobuf text format booleans (text_format.py ParseBool): true/t/1, false/f/0, any case for true/false. */
const TRUE = new Set(['true', 'True', 't', '1']);
const FALSE = new Set(['false', 'False', 'f', '0']);

export class SpecReader {
  readonly warnings: SpecWarning[] = [];

  constructor(
    readonly file: string,
    readonly flags: SpecFlags = {},
  ) {}

  warn(pos: SpecPos | undefined, message: string): void {
    this.warnings.push({ file: this.file, line: pos?.line ?? 0, col: pos?.col ?? 0, message });
  }

  /** SPEC_INVALID; `fix` names the flag that would replace the value, if the caller has it. */
  invalid(message: string, at?: SpecValue | SpecPos, fix?: Overridable): AgentError {
    const pos = at === undefined ? undefined : 'line' in at ? at : at.pos;
    const where = pos ? `${this.file}:${pos.line}:${pos.col}` : this.file;
    const flag = fix ? this.flags[fix] : undefined;
    const hint = flag ? `Fix the experiment spec, or pass ${flag} on the command line (it replaces the spec's value).` : 'Fix the experiment spec.';
    return new AgentError('SPEC_INVALID', `${where}: ${message}`, { hint, details: pos ? { line: pos.line, col: pos.col, problem: message } : { problem: message } });
  }

  num(msg: SpecMessage | undefined, name: string, path: string, fix?: Overridable): number | undefined {
    const v = specScalar(msg, name);
    if (v === undefined) return undefined;
    if (v.kind !== 'number' || !Number.isFinite(v.value)) throw this.invalid(`${path} must be a number`, v, fix);
    return v.value;
  }

  int(msg: SpecMessage | undefined, name: string, path: string, fix?: Overridable): number | undefined {
    const n = this.num(msg, name, path, fix);
    if (n !== undefined && !Number.isInteger(n)) throw this.invalid(`${path} must be an integer, got ${n}`, specScalar(msg, name), fix);
    return n;
  }

  str(msg: SpecMessage | undefined, name: string, path: string, fix?: Overridable): string | undefined {
    const v = specScalar(msg, name);
    if (v === undefined) return undefined;
    // An identifier where a string belongs is a protobuf error; accepted as its text.
    if (v.kind === 'string' || v.kind === 'ident') return v.value;
    throw this.invalid(`${path} must be a string`, v, fix);
  }

  /** A boolean the agent only reports: a bad literal is a warning, not an error. */
  bool(msg: SpecMessage | undefined, name: string, path: string): boolean | undefined {
    const v = specScalar(msg, name);
    if (v === undefined) return undefined;
    const text = v.kind === 'message' ? '' : v.kind === 'number' ? v.raw : v.value;
    if (TRUE.has(text)) return true;
    if (FALSE.has(text)) return false;
    this.warn(v.pos, `${path} is not a boolean (true/false): ignored`);
    return undefined;
  }
}

/** Position of the last occurrence of a field (the one protobuf's Merge keeps). */
export function posOf(msg: SpecMessage | undefined, name: string): SpecPos | undefined {
  if (!msg) return undefined;
  const all = msg.fields.filter((f) => f.name === name);
  return all[all.length - 1]?.pos;
}
