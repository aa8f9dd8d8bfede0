import { UsageError } from '../core/errors.js';
import { formatPercent, parsePercent } from './percent.js';
import type { FailureThreshold } from './types.js';

export const DEFAULT_MAX_FAILURES = '10%';
/**
 * Devices that must have an outcome before a percentage can trip (docs/reference/fleet-rollouts.md "Starting defaults":
 * stop when ≥ 5 % of at least 10 devices with an outcome fail): one failure among the first three
 * devices is 33%, which says little about the package.
 */
export const DEFAULT_MIN_SAMPLE = 10;

/** `--max-failures 10%` or `--max-failures 3` (devices, not attempts). */
export function parseMaxFailures(text: string, minSample = DEFAULT_MIN_SAMPLE): FailureThreshold {
  const s = text.trim();
  const hint = 'Use a device count (e.g. 3) or a percentage of the devices with an outcome (e.g. 10%).';
  if (s.endsWith('%')) {
    const hundredths = parsePercent(s);
    if (hundredths === undefined) throw new UsageError(`Bad --max-failures "${text}": expected a percentage in [0, 100] with at most 2 decimals.`, hint);
    return { kind: 'percent', hundredths, minSample };
  }
  if (!/^\d+$/.test(s)) throw new UsageError(`Bad --max-failures "${text}".`, hint);
  return { kind: 'count', count: Number(s) };
}

export function parseMinSample(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new UsageError(`Bad --min-sample "${text}": expected an integer ≥ 1.`);
  return Number(text);
}

export interface FailureTally {
  /** Devices that failed, rolled back, were rejected (not as incompatible) or timed out. */
  readonly failed: number;
  /** Devices with an outcome: succeeded + failed. Incompatible, superseded, canceled and pending are not in it. */
  readonly executed: number;
  /** Compatible devices in the whole rollout (the denominator that can only shrink by incompatibility). */
  readonly total: number;
  /** Notified devices that are online and still working on it (no report yet, in progress, gating); default 0. */
  readonly inFlight?: number;
}

export interface ThresholdVerdict {
  readonly tripped: boolean;
  readonly message: string;
}

/**
 * Count: trips when more than N devices failed.
 * Percentage: once at least `minSample` devices (or every target, in a fleet smaller than
 * that) have an outcome, trips when more than P% of the notified devices that have an outcome
 * OR are still working on it failed, i.e. when the failures exceed P% even if every device
 * still working succeeds; or as soon as more than P% of *all* compatible targets failed. The
 * devices still working are in the denominator because failures arrive first: a package that
 * fails to build fails within a minute, while a success needs the whole download, warm-up,
 * probation and health gate. Over outcomes only, the first outcomes of a large wave are its
 * failures, and 20 failing devices of 999 (2 %) read as 20 of 21 (95 %): 10,000 simulated
 * devices with 2 % failures aborted a 10 % threshold that way (docs/fleet-scale.md).
 */
export function evaluateThreshold(threshold: FailureThreshold, tally: FailureTally): ThresholdVerdict {
  if (threshold.kind === 'count') {
    const tripped = tally.failed > threshold.count;
    return { tripped, message: `${tally.failed} failed device(s), ${tripped ? 'more than' : 'within'} --max-failures ${threshold.count}` };
  }
  const p = formatPercent(threshold.hundredths);
  // failed/total > h/10000 ⇔ failed·10000 > h·total (integers; no float rounding).
  if (tally.failed * 10_000 > threshold.hundredths * tally.total) {
    return { tripped: true, message: `${tally.failed} of ${tally.total} target device(s) failed, more than ${p} whatever the rest do` };
  }
  const sample = Math.min(threshold.minSample, tally.total);
  if (tally.executed < sample || tally.executed === 0) {
    return { tripped: false, message: `${tally.failed} of ${tally.executed} device(s) failed; ${p} applies from ${sample} devices with an outcome` };
  }
  const inFlight = tally.inFlight ?? 0;
  const base = tally.executed + inFlight;
  const tripped = tally.failed * 10_000 > threshold.hundredths * base;
  const working = inFlight > 0 ? ` (${inFlight} still working, counted as if they succeed)` : '';
  return {
    tripped,
    message:
      inFlight > 0
        ? `${tally.failed} of ${base} notified device(s) failed${working}, ${tripped ? 'more than' : 'within'} ${p}`
        : `${tally.failed} of ${tally.executed} device(s) with an outcome failed, ${tripped ? 'more than' : 'within'} ${p}`,
  };
}

export function formatThreshold(t: FailureThreshold): string {
  return t.kind === 'count' ? `${t.count} device(s)` : `${formatPercent(t.hundredths)} (min sample ${t.minSample})`;
}
