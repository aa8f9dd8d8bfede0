import { UsageError } from '../core/errors.js';
import { formatPercent, parsePercent, percentOfCeil } from './percent.js';
import type { WaveStep } from './types.js';

export const DEFAULT_WAVES = '1,10%,50%,100%';

/**
 * `--waves 1,10%,50%,100%`: each item is the cumulative size reached at the end of that wave,
 * as a device count or a percentage of the compatible targets. Items of the same kind must
 * not shrink (`50%,10%` is a typo); a count and a percentage can cross depending on fleet
 * size, which the planner handles by collapsing.
 */
export function parseWaves(text: string): WaveStep[] {
  const items = text.split(',').map((s) => s.trim());
  const hint = 'Write cumulative sizes, e.g. --waves 1,10%,50%,100% (a count or a percentage of the compatible devices).';
  if (items.length === 0 || items.some((s) => s === '')) throw new UsageError(`Bad --waves "${text}": empty item.`, hint);
  const steps = items.map((item): WaveStep => {
    if (item.endsWith('%')) {
      const hundredths = parsePercent(item);
      if (hundredths === undefined || hundredths === 0) throw new UsageError(`Bad --waves item "${item}": expected a percentage in (0, 100] with at most 2 decimals.`, hint);
      return { kind: 'percent', hundredths };
    }
    if (!/^\d+$/.test(item) || Number(item) === 0) throw new UsageError(`Bad --waves item "${item}": expected a device count ≥ 1 or a percentage.`, hint);
    return { kind: 'count', count: Number(item) };
  });
  let lastCount = 0;
  let lastPercent = 0;
  for (const s of steps) {
    const [value, last] = s.kind === 'count' ? [s.count, lastCount] : [s.hundredths, lastPercent];
    if (value < last) throw new UsageError(`Bad --waves "${text}": sizes are cumulative and must not shrink (${formatStep(s)} after a larger one).`, hint);
    if (s.kind === 'count') lastCount = value;
    else lastPercent = value;
  }
  return steps;
}

export function formatStep(s: WaveStep): string {
  return s.kind === 'count' ? String(s.count) : formatPercent(s.hundredths);
}

/** Cumulative target size of each step for `total` devices, capped at total, never shrinking. */
export function cumulativeSizes(steps: readonly WaveStep[], total: number): number[] {
  let prev = 0;
  return steps.map((s) => {
    const raw = s.kind === 'count' ? s.count : percentOfCeil(total, s.hundredths);
    prev = Math.max(prev, Math.min(total, raw));
    return prev;
  });
}

/**
 * Split `devices` (already in wave order) into waves. Percentages round up, so any
 * non-zero step reaches at least one device; steps that add no device collapse; when the
 * steps stop short of 100%, a final wave takes the rest (a rollout always covers its targets).
 * An empty fleet gives no waves; otherwise no wave is empty.
 */
export function planWaves<T>(steps: readonly WaveStep[], devices: readonly T[]): T[][] {
  const sizes = cumulativeSizes(steps, devices.length);
  if (devices.length > 0) sizes.push(devices.length);
  const waves: T[][] = [];
  let start = 0;
  for (const end of sizes) {
    if (end > start) waves.push(devices.slice(start, end));
    start = Math.max(start, end);
  }
  return waves;
}
