import type { DeploymentReport, HealthObservation } from './types.js';

export const DEFAULT_HEALTH_GATE = '5m';
export const DEFAULT_WAVE_TIMEOUT = '30m';

export interface GateVerdict {
  readonly passed: boolean;
  /** When the gate passes if the device stays healthy; undefined while it cannot pass. */
  readonly passAt: number | undefined;
  readonly reason: string;
}

/**
 * Health gate of one `active` device: active and continuously healthy for `gateMs`.
 * Success means "serving and healthy", not "the installer returned" (docs/reference/fleet-rollouts.md "Lessons from other updaters").
 * With a zero gate, active is enough. No health report yet means not healthy: a device
 * that never reports health gives no evidence the model works.
 */
export function gateVerdict(report: DeploymentReport, health: HealthObservation | undefined, gateMs: number, now: number): GateVerdict {
  if (gateMs <= 0) return { passed: true, passAt: report.since, reason: 'active (no health gate)' };
  if (!health) return { passed: false, passAt: undefined, reason: 'active, no health report yet' };
  if (!health.healthy) {
    const why = health.reasons?.length ? `: ${health.reasons.join(', ')}` : '';
    return { passed: false, passAt: undefined, reason: `active but unhealthy${why}` };
  }
  const passAt = Math.max(report.since, health.since) + gateMs;
  return passAt <= now
    ? { passed: true, passAt, reason: 'active and healthy for the gate time' }
    : { passed: false, passAt, reason: `active and healthy, gate passes in ${Math.ceil((passAt - now) / 1000)}s` };
}
