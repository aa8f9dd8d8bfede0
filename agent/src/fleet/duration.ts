import { UsageError } from '../core/errors.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/**
 * `--health-gate 5m`, `--wave-timeout 30m`, `1h30m`, `90s`, `500ms`, `7d` → milliseconds.
 * A bare number is refused: "30" could mean seconds or minutes, and guessing wrong by 60×
 * is how a health gate silently becomes useless.
 */
export function parseDuration(text: string, flag = 'duration'): number {
  const s = text.trim();
  const re = /(\d+)(ms|s|m|h|d)/gy;
  let total = 0;
  let pos = 0;
  let parts = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2] as Unit];
    pos = re.lastIndex;
    parts++;
  }
  if (parts === 0 || pos !== s.length) {
    throw new UsageError(
      `Bad ${flag} "${text}": expected a duration such as 90s, 5m, 1h30m or 7d.`,
      'Units: ms, s, m (minutes), h, d; a bare number is not accepted.',
    );
  }
  if (!Number.isSafeInteger(total)) throw new UsageError(`Bad ${flag} "${text}": too large.`);
  return total;
}

/** Shortest exact rendering: 300000 → "5m", 5400000 → "1h30m", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out;
}
