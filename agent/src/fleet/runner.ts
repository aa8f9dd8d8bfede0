import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { deviceTopics, rolloutTopic } from '../core/contracts/topics.js';
import type { FleetSession } from './fleet-session.js';
import { signedRequest, signRequest } from './request.js';
import { abortRollout, reduceRollout, waveDeadline } from './reducer.js';
import { summarizeErrors } from './error-summary.js';
import type { RolloutRecord } from './rollout-record.js';
import type { DeviceObservation, RolloutStep } from './types.js';

export interface RunOptions {
  readonly key: KeyObject;
  readonly signal: AbortSignal;
  readonly now?: () => number;
  /** Called after every reducer step (progress line, watch output). */
  readonly onStep?: (step: RolloutStep, record: RolloutRecord) => void;
}

/** How often counts-only changes are persisted, and the heartbeat a second controller respects. */
const PERSIST_EVERY_MS = 1000;
export const HEARTBEAT_MS = 5000;
/** Longest sleep without a message or a reducer wake-up (a clock tick for deadlines). */
const TICK_MS = 1000;
/**
 * Shortest time between two reducer steps. A step is O(devices); at 10,000 devices a wave's
 * reports arrive as tens of thousands of messages within a second, and a step per message
 * burst took the controller's CPU (docs/fleet-scale.md). Reports still coalesce in the view.
 */
export const MIN_STEP_MS = 250;
/** Quiet time after which lost reports (a seq gap) are re-read, and lead time before a wave deadline. */
const REFRESH_QUIET_MS = 1000;
const REFRESH_BEFORE_DEADLINE_MS = 10_000;

/**
 * Drive one rollout to done or aborted: reducer step → publish desired (retained) to the
 * devices it names, roll back the ones it names, persist the record retained. Idempotent on
 * resume: re-publishing the same retained desired is ignored by devices (same deployment id).
 * The previous desired of a device is persisted BEFORE its new desired is published, so a
 * crash in between never loses what a rollback must restore.
 */
export async function runRollout(session: FleetSession, start: RolloutRecord, o: RunOptions): Promise<RolloutRecord> {
  const now = o.now ?? Date.now;
  let rec = start;
  let lastPersist = 0;
  let lastCounts = JSON.stringify(start.counts);
  let lastKind = '';
  const envelopeText = JSON.stringify(rec.envelope);
  const ids = rec.plan.waves.flat();
  // A device that cannot verify the envelope reports it as `unverified-<sha256(raw)[:12]>`
  // (it reads nothing unsigned); that is this deployment, rejected.
  const unverified = `unverified-${createHash('sha256').update(envelopeText).digest('hex').slice(0, 12)}`;
  let gapsSeen = session.view.gaps;
  let refreshedForDeadline = -1;
  for (;;) {
    // Someone else (`rollout abort` / `rollout rollback`) ended it: stop driving, before this
    // loop could overwrite their record with its own.
    const other = session.rollouts.get(rec.deploymentId);
    if (other && other.writer.clientId !== session.clientId && other.progress.phase !== 'running') return other;
    const obs: Record<string, DeviceObservation> = {};
    for (const id of ids) {
      const o1 = session.view.observation(id);
      obs[id] = o1.report?.deploymentId === unverified ? { ...o1, report: { ...o1.report, deploymentId: rec.deploymentId } } : o1;
    }
    const t = now();
    const step = reduceRollout(rec.plan, rec.progress, obs, t);
    const decision = describe(step);
    if (step.notify.length) {
      rec = capturePrevious(session, rec, step.notify, envelopeText);
      await persist(session, rec, t);
      await Promise.all(step.notify.map((id) => session.bus.publish(deviceTopics(session.prefix, id).desired.topic, envelopeText, true)));
    }
    if (step.rollback.length) rec = (await rollback(session, rec, step.rollback, o.key, t)).record;
    // Persist on progress or decision-kind changes; counts-only changes at most once a second
    // (every report changes the counts: writing each one would double the broker traffic).
    const changed = JSON.stringify(step.next) !== JSON.stringify(rec.progress) || step.decision.kind !== lastKind;
    lastKind = step.decision.kind;
    rec = { ...rec, progress: step.next, counts: step.counts, errors: summarizeErrors(step.devices), decision };
    const final = step.decision.kind === 'done' || step.decision.kind === 'abort' || step.decision.kind === 'aborted';
    const counts = JSON.stringify(step.counts);
    const due = t - lastPersist >= (counts !== lastCounts ? PERSIST_EVERY_MS : HEARTBEAT_MS);
    if (changed || final || step.notify.length > 0 || due) {
      await persist(session, rec, t);
      lastPersist = t;
      lastCounts = counts;
    }
    o.onStep?.(step, rec);
    if (final || o.signal.aborted) return rec;
    // Lost reports: after a seq gap (once the burst is over), and once before the wave deadline
    // turns devices still without an outcome into timeouts, re-read their retained reports.
    const working = step.devices.filter((v) => v.wave === step.next.wave && (v.status === 'waiting' || v.status === 'in_progress' || v.status === 'gating')).map((v) => v.id);
    const lead = Math.min(REFRESH_BEFORE_DEADLINE_MS, rec.plan.policy.waveTimeoutMs / 10);
    const gapped = session.view.gaps > gapsSeen && now() - session.lastMessageAt >= REFRESH_QUIET_MS;
    const nearDeadline = refreshedForDeadline !== step.next.wave && now() >= waveDeadline(rec.plan, step.next) - lead;
    if (working.length > 0 && (gapped || nearDeadline)) {
      gapsSeen = session.view.gaps;
      if (nearDeadline) refreshedForDeadline = step.next.wave;
      await session.refresh(working, 'deployment');
      continue;
    }
    const wake = step.wakeAt === undefined ? TICK_MS : Math.min(TICK_MS, step.wakeAt - now());
    await session.nextChange(Math.max(wake, 0), o.signal);
    const since = now() - t;
    if (since < MIN_STEP_MS && !o.signal.aborted) await session.nextChange(MIN_STEP_MS - since, o.signal, { ignoreMessages: true });
  }
}

function capturePrevious(session: FleetSession, rec: RolloutRecord, ids: readonly string[], own: string): RolloutRecord {
  const envelopes = { ...rec.previous.envelopes };
  const byDevice = { ...rec.previous.byDevice };
  for (const id of ids) {
    if (id in byDevice) continue;
    const cur = session.view.desired.get(id) ?? '';
    if (cur === own) continue; // already ours (a resumed run): the previous was captured before, or never existed
    const key = cur === '' ? '' : createHash('sha256').update(cur).digest('hex').slice(0, 16);
    if (key) envelopes[key] = cur;
    byDevice[id] = key;
  }
  return { ...rec, previous: { envelopes, byDevice } };
}

/**
 * A wave rollback's request stays valid for an hour, so a device that was offline when its wave
 * rolled back still returns to its previous model when it reconnects within it (the request waits
 * in its persistent session); the agent refuses longer lifetimes (rollout.requestMaxTtlSec).
 */
export const ROLLBACK_REQUEST_TTL_MS = 3_600_000;

/** One signed rollback request sent: the device and the transaction its response will carry. */
export interface RollbackSent {
  readonly id: string;
  readonly transaction: string;
}

/**
 * Roll devices back: re-publish their previous retained desired (or clear it), so a device
 * that comes back later does not catch up to the bad version, and send each a signed
 * `rollback` request (the agent ignores a desired it has already worked, so the request is
 * what makes an updated device return to its previous model).
 */
export async function rollback(session: FleetSession, rec: RolloutRecord, ids: readonly string[], key: KeyObject, now: number): Promise<{ record: RolloutRecord; sent: RollbackSent[] }> {
  const sent = await Promise.all(
    ids.map(async (id): Promise<RollbackSent> => {
      const t = deviceTopics(session.prefix, id);
      const prevKey = rec.previous.byDevice[id] ?? '';
      const prev = prevKey ? rec.previous.envelopes[prevKey] ?? '' : '';
      await session.bus.publish(t.desired.topic, prev, true);
      const req = signedRequest({
        op: 'rollback',
        deviceId: id,
        transaction: `rollback-${rec.deploymentId}-${randomBytes(4).toString('hex')}`,
        expiresAt: now + ROLLBACK_REQUEST_TTL_MS,
        params: { deploymentId: rec.deploymentId },
      });
      await session.bus.publish(t.request('rollback').topic, signRequest(req, key), false);
      return { id, transaction: req.transaction };
    }),
  );
  return { record: { ...rec, rolledBack: [...new Set([...rec.rolledBack, ...ids])] }, sent };
}

/**
 * An operator's stop (`rollout abort`, `rollout rollback`): `wave` rolls back the notified
 * devices of the current wave, as an automatic abort does; `all` every device the rollout
 * notified, in every started wave. The aborted record goes out FIRST: a running controller
 * must see the operator's abort before the rolled_back reports, or it would count them as
 * failures of its own. A rollout already aborted or done keeps its phase under `all`.
 */
export async function operatorRollback(
  session: FleetSession,
  rec: RolloutRecord,
  key: KeyObject,
  o: { readonly scope: 'wave' | 'all'; readonly message: string },
  now: number,
): Promise<{ record: RolloutRecord; sent: RollbackSent[] }> {
  let out = rec;
  let ids: string[];
  if (o.scope === 'wave') {
    const a = abortRollout(rec.plan, rec.progress, o.message);
    out = { ...rec, progress: a.next, decision: `aborted: ${o.message}` };
    ids = a.rollback;
  } else {
    ids = notifiedDevices(rec);
    if (rec.progress.phase === 'running' || rec.progress.phase === 'done') {
      out = { ...rec, progress: { ...rec.progress, phase: 'aborted', abort: { kind: 'operator', wave: rec.progress.wave + 1, message: o.message } }, decision: o.message };
    }
  }
  if (out !== rec) await persist(session, out, now);
  const r = await rollback(session, out, ids, key, now);
  await persist(session, r.record, now);
  return r;
}

/** Every device the rollout notified, in every started wave. */
export function notifiedDevices(rec: RolloutRecord): string[] {
  const out: string[] = [];
  rec.plan.waves.forEach((w, i) => {
    if (i < rec.progress.wave) out.push(...w);
    else if (i === rec.progress.wave) out.push(...w.slice(0, rec.progress.notifiedInWave));
  });
  return out;
}

export async function persist(session: FleetSession, rec: RolloutRecord, now: number): Promise<void> {
  const body: RolloutRecord = { ...rec, updatedAt: new Date(now).toISOString(), writer: { clientId: session.clientId, heartbeatAt: new Date(now).toISOString() } };
  session.rollouts.set(rec.deploymentId, body);
  await session.bus.publish(rolloutTopic(session.prefix, rec.deploymentId), JSON.stringify(body), true);
}

export function describe(step: RolloutStep): string {
  const d = step.decision;
  switch (d.kind) {
    case 'wait':
      return `${d.stalled ? 'stalled' : 'waiting'}: ${d.reason}`;
    case 'promote':
      return `promoted wave ${d.fromWave + 1} → ${d.toWave + 1}`;
    case 'abort':
    case 'aborted':
      return `aborted: ${d.reason.message}`;
    case 'done':
      return 'done';
  }
}
