import { UsageError } from '../core/errors.js';
import { formatDuration, parseDuration } from './duration.js';
import { DEFAULT_HEALTH_GATE, DEFAULT_WAVE_TIMEOUT } from './gates.js';
import { parseRate } from './rate.js';
import { DEFAULT_MAX_FAILURES, DEFAULT_MIN_SAMPLE, parseMaxFailures, parseMinSample } from './thresholds.js';
import type { RolloutPolicy } from './types.js';

/** The rollout flags as typed (undefined = default). Shared by `rollout plan` and, later, `rollout start`. */
export interface PolicyFlags {
  readonly maxFailures?: string;
  readonly minSample?: string;
  readonly healthGate?: string;
  readonly waveTimeout?: string;
  readonly rate?: string;
}

export function parsePolicy(flags: PolicyFlags): RolloutPolicy {
  const minSample = flags.minSample === undefined ? DEFAULT_MIN_SAMPLE : parseMinSample(flags.minSample);
  const healthGateMs = parseDuration(flags.healthGate ?? DEFAULT_HEALTH_GATE, '--health-gate');
  const waveTimeoutMs = parseDuration(flags.waveTimeout ?? DEFAULT_WAVE_TIMEOUT, '--wave-timeout');
  // A wave timeout not longer than the gate would time out every healthy device.
  if (waveTimeoutMs <= healthGateMs) {
    throw new UsageError(
      `--wave-timeout ${formatDuration(waveTimeoutMs)} must be longer than --health-gate ${formatDuration(healthGateMs)}.`,
      'Give the wave time to download, convert and warm up, plus the gate.',
    );
  }
  return {
    maxFailures: parseMaxFailures(flags.maxFailures ?? DEFAULT_MAX_FAILURES, minSample),
    healthGateMs,
    waveTimeoutMs,
    ...(flags.rate === undefined ? {} : { rate: parseRate(flags.rate) }),
  };
}
