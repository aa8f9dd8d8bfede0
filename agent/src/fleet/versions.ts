import { UsageError } from '../core/errors.js';

/**
 * Dotted numeric versions (TensorRT `8.5.2.2`, JetPack `5.1`) and small ranges over them.
 * Not semver: NVIDIA versions have 2–4 numeric parts and no pre-release tags.
 */
export function parseVersion(text: string): number[] | undefined {
  if (!/^\d+(\.\d+)*$/.test(text.trim())) return undefined;
  return text.trim().split('.').map(Number);
}

/** Missing parts compare as 0: 8.5 == 8.5.0. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

type Op = '>=' | '>' | '<=' | '<' | '=';
interface Comparator {
  readonly op: Op;
  readonly version: number[];
  /** `8.5` written bare (no operator): matches 8.5.x, i.e. a prefix. */
  readonly prefix: boolean;
}

/**
 * A range is space-separated comparators that must all hold: `>=8.5 <9`, `>8.2.1`, `=5.1.2`.
 * A bare version is a prefix match: `8.5` accepts 8.5, 8.5.2 and 8.5.2.2, not 8.6.
 */
export function parseRange(text: string, what = 'version range'): Comparator[] {
  const items = text.trim().split(/\s+/).filter(Boolean);
  if (items.length === 0) throw new UsageError(`Empty ${what}.`, 'Write a range such as ">=8.5 <9" or a version prefix such as "8.6".');
  return items.map((item) => {
    const m = /^(>=|<=|>|<|=)?(.+)$/.exec(item);
    const version = m?.[2] === undefined ? undefined : parseVersion(m[2]);
    if (!m || !version) {
      throw new UsageError(`Bad ${what} "${text}": "${item}" is not a comparator.`, 'Use >=, >, <=, <, = followed by a dotted version, e.g. ">=8.5 <9".');
    }
    return { op: (m[1] ?? '=') as Op, version, prefix: m[1] === undefined };
  });
}

export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  return parseRange(range).every((c) => {
    if (c.prefix) return c.version.every((part, i) => v[i] === part);
    const d = compareVersions(v, c.version);
    switch (c.op) {
      case '>=':
        return d >= 0;
      case '>':
        return d > 0;
      case '<=':
        return d <= 0;
      case '<':
        return d < 0;
      case '=':
        return d === 0;
    }
  });
}
