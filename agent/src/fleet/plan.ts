import { pacingSpan } from './rate.js';
import { resolveTargets } from './targets.js';
import { planWaves } from './waves.js';
import type { DeviceRecord, Requirements, ResolvedTargets, RolloutPlan, RolloutPolicy, TargetSelector, WaveStep } from './types.js';

export interface PlanInput {
  readonly deploymentId: string;
  readonly selector: TargetSelector;
  readonly devices: readonly DeviceRecord[];
  readonly requires: Requirements;
  readonly waves: readonly WaveStep[];
  readonly policy: RolloutPolicy;
}

export interface PlannedRollout {
  readonly plan: RolloutPlan;
  readonly targets: ResolvedTargets;
  /**
   * Lower bound on the duration if every device succeeds at once: per wave, rate pacing plus
   * the health gate. Downloads and engine builds come on top.
   */
  readonly minDurationMs: number;
}

/**
 * Dry-run planning, pure: targets → waves over the compatible devices (online first, then
 * offline ones, which get their retained desired state and catch up: pending, not failed).
 */
export function planRollout(input: PlanInput): PlannedRollout {
  const targets = resolveTargets(input.selector, input.devices, input.requires);
  const waves = planWaves(input.waves, [...targets.online, ...targets.offline]);
  const minDurationMs = waves.reduce((sum, w) => sum + pacingSpan(w.length, input.policy.rate) + input.policy.healthGateMs, 0);
  return { plan: { deploymentId: input.deploymentId, waves, policy: input.policy }, targets, minDurationMs };
}
