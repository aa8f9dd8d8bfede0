import { gateVerdict } from './gates.js';
import { dueCount, dueOffset, pacingSpan } from './rate.js';
import { evaluateThreshold } from './thresholds.js';
import type {
  AbortReason,
  DeploymentReport,
  DeviceObservation,
  DeviceView,
  RolloutCounts,
  RolloutDecision,
  RolloutPlan,
  RolloutProgress,
  RolloutStep,
} from './types.js';

/**
 * The rollout state reducer: (plan, persisted progress, what the devices report, now) →
 * what to do next and the progress to persist after doing it. Pure, so a restarted
 * controller that reloads its retained progress makes the same decision, and every rule
 * below is table-tested.
 *
 * Rules (docs/rollouts.md "Operator runbook" states them for operators):
 * - Devices are counted once each, by their latest report for this deployment id; retries
 *   and repeated reports never add failures (docs/reference/fleet-rollouts.md "Lessons from other updaters", boto/boto3#4656).
 * - Offline devices without an outcome are `pending`, never failed and never timed out.
 * - At the wave deadline, online devices of the current wave still without an outcome are
 *   `timed_out` (sticky), which counts as a failure but is reported separately.
 * - The failure threshold is evaluated over every notified device of the rollout so far; a
 *   percentage counts the devices still working as if they will succeed (thresholds.ts).
 * - A wave promotes when all its devices are notified and each has an outcome or is pending,
 *   at least one succeeded, and the threshold holds. A settled wave without a success aborts
 *   when something failed and waits (stalled) when everything is pending.
 * - Abort rolls back the current wave's notified devices (not only cancels the queued ones).
 */

export interface ReducerOptions {
  /**
   * Whether a `rejected` report means "incompatible" (excluded from ratios) or a real failure
   * (bad signature, expired manifest). Default: the error code contains "INCOMPATIBLE", or is
   * TENSORRT_PLUGIN_REMOVED (the board's TensorRT lacks a plugin the model needs: it does not fit,
   * it did not fail).
   */
  readonly isIncompatible?: (report: DeploymentReport) => boolean;
}

const defaultIsIncompatible = (r: DeploymentReport): boolean => r.error?.code.includes('INCOMPATIBLE') === true || r.error?.code === 'TENSORRT_PLUGIN_REMOVED';

export function initialProgress(now: number): RolloutProgress {
  return { phase: 'running', wave: 0, waveStartedAt: now, notifiedInWave: 0, timedOut: {} };
}

export function waveDeadline(plan: RolloutPlan, progress: RolloutProgress): number {
  const size = plan.waves[progress.wave]?.length ?? 0;
  return progress.waveStartedAt + pacingSpan(size, plan.policy.rate) + plan.policy.waveTimeoutMs;
}

interface Classified extends DeviceView {
  readonly gatePassAt?: number;
}

function classify(
  id: string,
  wave: number,
  notified: boolean,
  obs: DeviceObservation | undefined,
  plan: RolloutPlan,
  progress: RolloutProgress,
  now: number,
  isIncompatible: (r: DeploymentReport) => boolean,
): Classified {
  const base = { id, wave };
  if (!notified) return { ...base, status: 'queued', outcome: 'none' };
  const report = obs?.report?.deploymentId === plan.deploymentId ? obs.report : undefined;
  const stateOf = report ? { state: report.state } : {};
  const stuck = progress.timedOut[id];
  if (stuck) return { ...base, ...stateOf, status: 'timed_out', outcome: 'failure', code: 'FLEET_DEVICE_TIMED_OUT', reason: `stuck in ${stuck.state} past the wave deadline` };
  const online = obs?.online === true;
  if (!report) return online ? { ...base, status: 'waiting', outcome: 'none' } : { ...base, status: 'pending', outcome: 'none', reason: 'offline' };
  const err = report.error ? `${report.error.code}: ${report.error.message}` : undefined;
  const code = report.error ? { code: report.error.code } : {};
  switch (report.state) {
    case 'active': {
      // Offline first: its last health report is stale, so it is not (or no longer) evidence.
      if (!online) return { ...base, ...stateOf, status: 'pending', outcome: 'none', reason: 'active but offline: health gate cannot be checked' };
      const gate = gateVerdict(report, obs?.health, plan.policy.healthGateMs, now);
      if (gate.passed) return { ...base, ...stateOf, status: 'succeeded', outcome: 'success' };
      return { ...base, ...stateOf, status: 'gating', outcome: 'none', reason: gate.reason, ...(gate.passAt !== undefined ? { gatePassAt: gate.passAt } : {}) };
    }
    case 'failed':
    case 'rolled_back':
      return { ...base, ...stateOf, ...code, status: 'failed', outcome: 'failure', reason: err ?? report.state };
    case 'rejected':
      return isIncompatible(report)
        ? { ...base, ...stateOf, ...code, status: 'incompatible', outcome: 'excluded', reason: err ?? 'rejected as incompatible' }
        : { ...base, ...stateOf, ...code, status: 'failed', outcome: 'failure', reason: err ?? 'rejected' };
    case 'superseded':
    case 'canceled':
      return { ...base, ...stateOf, status: 'excluded', outcome: 'excluded', reason: report.state };
    case 'received':
    case 'downloading':
    case 'verifying':
    case 'converting':
    case 'warming':
    case 'activating':
    case 'probation':
      return online
        ? { ...base, ...stateOf, status: 'in_progress', outcome: 'none' }
        : { ...base, ...stateOf, status: 'pending', outcome: 'none', reason: `offline in ${report.state}` };
  }
}

/** Settled = has an outcome, or is a straggler that must not hold the wave back. */
const isSettled = (v: DeviceView): boolean => v.outcome !== 'none' || v.status === 'pending';
const notifiedInWave = (view: DeviceView): boolean => view.status !== 'queued';

function countViews(views: readonly DeviceView[]): RolloutCounts {
  const n = (pred: (v: DeviceView) => boolean): number => views.filter(pred).length;
  return {
    total: views.length,
    succeeded: n((v) => v.status === 'succeeded'),
    failed: n((v) => v.status === 'failed'),
    timedOut: n((v) => v.status === 'timed_out'),
    incompatible: n((v) => v.status === 'incompatible'),
    excluded: n((v) => v.status === 'excluded'),
    pending: n((v) => v.status === 'pending'),
    inProgress: n((v) => v.status === 'waiting' || v.status === 'in_progress' || v.status === 'gating'),
    queued: n((v) => v.status === 'queued'),
  };
}

function rollbackList(views: readonly DeviceView[], wave: number): string[] {
  // A superseded device already follows a newer deployment; re-publishing the old desired
  // state would clobber it.
  return views.filter((v) => v.wave === wave && notifiedInWave(v) && v.state !== 'superseded').map((v) => v.id);
}

export function reduceRollout(
  plan: RolloutPlan,
  progress: RolloutProgress,
  observations: Readonly<Record<string, DeviceObservation | undefined>>,
  now: number,
  options: ReducerOptions = {},
): RolloutStep {
  const isIncompatible = options.isIncompatible ?? defaultIsIncompatible;
  const rate = plan.policy.rate;
  const current = plan.waves[progress.wave] ?? [];

  // Rate pacing: who of the current wave is due now.
  let notifiedCount = progress.notifiedInWave;
  let notify: string[] = [];
  if (progress.phase === 'running') {
    const due = dueCount(current.length, now - progress.waveStartedAt, rate);
    if (due > notifiedCount) {
      notify = current.slice(notifiedCount, due);
      notifiedCount = due;
    }
  }

  const classifyAll = (p: RolloutProgress): Classified[] =>
    plan.waves.flatMap((ids, w) =>
      ids.map((id, i) => classify(id, w, w < p.wave || (w === p.wave && i < p.notifiedInWave), observations[id], plan, p, now, isIncompatible)),
    );

  let next: RolloutProgress = { ...progress, notifiedInWave: notifiedCount };
  let views = classifyAll(next);
  const finish = (decision: RolloutDecision, extra: Partial<Pick<RolloutStep, 'notify' | 'rollback' | 'wakeAt'>> = {}): RolloutStep => ({
    decision,
    next,
    notify: extra.notify ?? [],
    rollback: extra.rollback ?? [],
    wakeAt: extra.wakeAt,
    devices: views.map(({ gatePassAt: _drop, ...v }) => v),
    counts: countViews(views),
  });

  if (plan.waves.length === 0) {
    next = { ...next, phase: 'done' };
    return finish({ kind: 'done' });
  }
  if (progress.phase === 'aborted' && progress.abort) return finish({ kind: 'aborted', reason: progress.abort });
  if (progress.phase !== 'running') return finish({ kind: 'done' });

  // Deadline: online devices of the current wave still without an outcome time out.
  const deadline = waveDeadline(plan, next);
  if (now >= deadline) {
    const stuck = views.filter((v) => v.wave === next.wave && (v.status === 'waiting' || v.status === 'in_progress' || v.status === 'gating'));
    if (stuck.length) {
      const timedOut = { ...next.timedOut };
      for (const v of stuck) timedOut[v.id] = { at: now, state: v.state ?? 'no report' };
      next = { ...next, timedOut };
      views = classifyAll(next);
    }
  }

  const waveNo = next.wave + 1;
  const notifiedViews = views.filter(notifiedInWave);
  const failed = notifiedViews.filter((v) => v.outcome === 'failure').length;
  const succeeded = notifiedViews.filter((v) => v.outcome === 'success').length;
  const total = views.filter((v) => v.status !== 'incompatible').length;
  const inFlight = notifiedViews.filter((v) => v.status === 'waiting' || v.status === 'in_progress' || v.status === 'gating').length;
  const verdict = evaluateThreshold(plan.policy.maxFailures, { failed, executed: failed + succeeded, total, inFlight });
  const abort = (reason: AbortReason): RolloutStep => {
    // Devices that only became due in this step are not notified: aborting means no new
    // device gets the deployment, and there is nothing to roll back on them.
    next = { ...next, phase: 'aborted', abort: reason, notifiedInWave: progress.notifiedInWave };
    views = classifyAll(next);
    return finish({ kind: 'abort', reason }, { rollback: rollbackList(views, next.wave) });
  };
  if (verdict.tripped) {
    return abort({ kind: 'threshold', wave: waveNo, failed, executed: failed + succeeded, message: `failure threshold tripped in wave ${waveNo}: ${verdict.message}` });
  }

  const waveViews = views.filter((v) => v.wave === next.wave);
  const allNotified = next.notifiedInWave >= current.length;
  if (allNotified && waveViews.every(isSettled)) {
    const ok = waveViews.filter((v) => v.outcome === 'success').length;
    const bad = waveViews.filter((v) => v.outcome === 'failure').length;
    if (ok === 0 && bad > 0) {
      return abort({ kind: 'no-success', wave: waveNo, failed: bad, message: `no device of wave ${waveNo} succeeded (${bad} failed)` });
    }
    if (ok === 0) {
      return finish(
        { kind: 'wait', stalled: true, reason: `wave ${waveNo}: no device has an outcome yet (all offline, superseded or canceled); waiting for one to come online` },
        { notify },
      );
    }
    if (next.wave + 1 >= plan.waves.length) {
      next = { ...next, phase: 'done' };
      return finish({ kind: 'done' }, { notify });
    }
    // Promote: the next wave starts now; its first due devices are notified in this step.
    const from = next.wave;
    const upcoming = plan.waves[from + 1] ?? [];
    const due = dueCount(upcoming.length, 0, rate);
    next = { ...next, wave: from + 1, waveStartedAt: now, notifiedInWave: due };
    notify = [...notify, ...upcoming.slice(0, due)];
    views = classifyAll(next);
    return finish({ kind: 'promote', fromWave: from, toWave: from + 1 }, { notify, wakeAt: wakeAt(plan, next, views, now) });
  }

  const c = countViews(waveViews);
  const reason =
    `wave ${waveNo}/${plan.waves.length}: ${c.succeeded} succeeded, ${c.failed + c.timedOut} failed, ${c.inProgress} in progress, ` +
    `${c.pending} pending, ${c.queued} queued; ${verdict.message}`;
  return finish({ kind: 'wait', stalled: false, reason }, { notify, wakeAt: wakeAt(plan, next, views, now) });
}

/** The earliest time the decision can change without a new report: next pacing slot, a gate, the deadline. */
function wakeAt(plan: RolloutPlan, progress: RolloutProgress, views: readonly Classified[], now: number): number | undefined {
  const times: number[] = [];
  const size = plan.waves[progress.wave]?.length ?? 0;
  if (progress.notifiedInWave < size) times.push(progress.waveStartedAt + dueOffset(progress.notifiedInWave, plan.policy.rate));
  const deadline = waveDeadline(plan, progress);
  if (deadline > now) times.push(deadline);
  for (const v of views) if (v.gatePassAt !== undefined && v.gatePassAt > now) times.push(v.gatePassAt);
  return times.length ? Math.min(...times) : undefined;
}

/** Operator `rollout abort`: stop notifying and roll the current wave back. */
export function abortRollout(plan: RolloutPlan, progress: RolloutProgress, message: string): { next: RolloutProgress; rollback: string[] } {
  const wave = plan.waves[progress.wave] ?? [];
  const reason: AbortReason = { kind: 'operator', wave: progress.wave + 1, message };
  return { next: { ...progress, phase: 'aborted', abort: reason }, rollback: wave.slice(0, progress.notifiedInWave) };
}
