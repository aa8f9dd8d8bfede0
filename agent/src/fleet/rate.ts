import { UsageError } from '../core/errors.js';
import type { Rate } from './types.js';

const PER = { s: 1000, sec: 1000, min: 60_000, h: 3_600_000 } as const;

/** `--rate 100/min` (also `/s`, `/h`): how fast desired states are published. */
export function parseRate(text: string): Rate {
  const m = /^(\d+)\/(s|sec|min|h)$/.exec(text.trim());
  if (!m?.[1] || !m[2] || Number(m[1]) === 0) {
    throw new UsageError(`Bad --rate "${text}": expected N/min (or N/s, N/h) with N ≥ 1.`, 'Example: --rate 100/min. Leave it out to notify a whole wave at once.');
  }
  return { count: Number(m[1]), perMs: PER[m[2] as keyof typeof PER] };
}

/**
 * Device i of a wave (0-based) is notified at start + ceil(i·perMs / count): evenly spaced,
 * the first immediately. Integer arithmetic keeps "60/min" exactly one per second.
 */
export function dueOffset(index: number, rate: Rate | undefined): number {
  if (!rate || index <= 0) return 0;
  return Math.ceil((index * rate.perMs) / rate.count);
}

/** How many of `size` devices are due `elapsed` ms after the wave started. */
export function dueCount(size: number, elapsed: number, rate: Rate | undefined): number {
  if (size === 0) return 0;
  if (!rate) return size;
  if (elapsed < 0) return 0;
  // i is due ⇔ ceil(i·perMs/count) ≤ elapsed ⇔ i·perMs ≤ elapsed·count.
  return Math.min(size, Math.floor((elapsed * rate.count) / rate.perMs) + 1);
}

/** Time from the wave's start until its last device is notified. */
export function pacingSpan(size: number, rate: Rate | undefined): number {
  return dueOffset(size - 1, rate);
}
