import type { SignedEnvelope } from '../core/contracts/topics.js';
import type { ErrorGroup, RolloutCounts, RolloutPlan, RolloutProgress, SkippedDevice } from './types.js';

export const ROLLOUT_RECORD_VERSION = 1;

/**
 * Retained on `{p}/rollouts/{id}` by the controller: everything a restarted controller (any
 * machine) needs to resume with the same decisions (the reducer is a pure function of plan,
 * progress, device reports and the clock), and what `rollout status` shows.
 */
export interface RolloutRecord {
  readonly v: typeof ROLLOUT_RECORD_VERSION;
  readonly deploymentId: string;
  readonly target: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The signed manifest, published as each device's retained desired. */
  readonly envelope: SignedEnvelope;
  readonly plan: RolloutPlan;
  readonly progress: RolloutProgress;
  readonly skipped: readonly SkippedDevice[];
  /**
   * Each device's retained desired before this rollout (what a rollback re-publishes),
   * deduplicated: byDevice maps id → key in `envelopes`; '' = it had none (rollback clears it).
   */
  readonly previous: { readonly envelopes: Readonly<Record<string, string>>; readonly byDevice: Readonly<Record<string, string>> };
  /** Devices a rollback was sent to (abort, `rollout rollback`). */
  readonly rolledBack: readonly string[];
  readonly counts: RolloutCounts | null;
  /** The failures so far by error code, most devices first (absent in records of older controllers). */
  readonly errors?: readonly ErrorGroup[];
  /** Last decision in words (wait reason, abort message, done). */
  readonly decision: string;
  /** Who writes it: a second controller refuses to drive a rollout with a fresh heartbeat. */
  readonly writer: { readonly clientId: string; readonly heartbeatAt: string };
}

export function parseRolloutRecord(payload: Buffer): RolloutRecord | null {
  if (payload.length === 0) return null;
  try {
    const v = JSON.parse(payload.toString('utf8')) as Partial<RolloutRecord>;
    if (v.v !== ROLLOUT_RECORD_VERSION || typeof v.deploymentId !== 'string' || !v.plan || !v.progress || !v.envelope) return null;
    return v as RolloutRecord;
  } catch {
    return null;
  }
}
