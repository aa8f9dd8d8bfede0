import t from 'tap';
import { abortRollout, initialProgress, reduceRollout, waveDeadline } from '../../../agent/src/fleet/reducer.js';
import type { DeviceDeploymentState, DeviceObservation, FailureThreshold, RolloutPlan, RolloutProgress, Rate } from '../../../agent/src/fleet/types.js';

const GATE = 300_000; // 5m
const TIMEOUT = 1_800_000; // 30m
const DEP = 'dep-2';

const plan = (waves: string[][], maxFailures: FailureThreshold = { kind: 'count', count: 1 }, rate?: Rate): RolloutPlan => ({
  deploymentId: DEP,
  waves,
  policy: { maxFailures, healthGateMs: GATE, waveTimeoutMs: TIMEOUT, ...(rate ? { rate } : {}) },
});
const healthy = { healthy: true, since: 0 };
const online = (): DeviceObservation => ({ online: true });
const offline = (): DeviceObservation => ({ online: false });
const rep = (state: DeviceDeploymentState, since: number, extra: Partial<DeviceObservation> = {}, code?: string): DeviceObservation => ({
  online: true,
  health: healthy,
  report: { deploymentId: DEP, state, since, ...(code ? { error: { code, message: 'x' } } : {}) },
  ...extra,
});
const status = (step: ReturnType<typeof reduceRollout>, id: string): string | undefined => step.devices.find((d) => d.id === id)?.status;
/** Progress as it is after wave `wave` started at `at` and every device of it was notified. */
const inWave = (p: RolloutPlan, wave: number, at: number, timedOut: RolloutProgress['timedOut'] = {}): RolloutProgress => ({
  phase: 'running',
  wave,
  waveStartedAt: at,
  notifiedInWave: p.waves[wave]?.length ?? 0,
  timedOut,
});

const P = plan([['a'], ['b', 'c', 'd']]);

t.test('first step notifies the canary and waits', async (t) => {
  const s = reduceRollout(P, initialProgress(0), { a: online() }, 0);
  t.same(s.notify, ['a']);
  t.equal(s.decision.kind, 'wait');
  t.equal(s.next.notifiedInWave, 1);
  t.equal(status(s, 'a'), 'waiting');
  t.equal(status(s, 'b'), 'queued');
  t.equal(s.wakeAt, TIMEOUT, 'nothing else can change before the deadline');
});

t.test('health gate: active is not enough until healthy for the gate time', async (t) => {
  const p0 = inWave(P, 0, 0);
  const gating = reduceRollout(P, p0, { a: rep('active', 1000) }, 1000 + GATE - 1);
  t.equal(status(gating, 'a'), 'gating');
  t.equal(gating.decision.kind, 'wait');
  t.equal(gating.wakeAt, 1000 + GATE, 'wakes when the gate passes');
  const unhealthy = reduceRollout(P, p0, { a: rep('active', 1000, { health: { healthy: false, since: 500, reasons: ['temp 91C'] } }) }, 1000 + GATE);
  t.equal(status(unhealthy, 'a'), 'gating');
  t.match(unhealthy.devices[0]?.reason, /unhealthy: temp 91C/);
  const noHealth = reduceRollout(P, p0, { a: { online: true, report: { deploymentId: DEP, state: 'active', since: 0 } } }, GATE * 2);
  t.equal(status(noHealth, 'a'), 'gating', 'no health report: no evidence');
  const lateHealthy = reduceRollout(P, p0, { a: rep('active', 1000, { health: { healthy: true, since: 5000 } }) }, 1000 + GATE);
  t.equal(status(lateHealthy, 'a'), 'gating', 'the gate counts from when it became healthy');
});

t.test('canary succeeds → promote, the next wave is notified at once', async (t) => {
  const s = reduceRollout(P, inWave(P, 0, 0), { a: rep('active', 1000) }, 1000 + GATE);
  t.same(s.decision, { kind: 'promote', fromWave: 0, toWave: 1 });
  t.same(s.notify, ['b', 'c', 'd']);
  t.same(s.next, { phase: 'running', wave: 1, waveStartedAt: 1000 + GATE, notifiedInWave: 3, timedOut: {} });
});

t.test('canary fails → abort (no success), roll the canary back', async (t) => {
  const s = reduceRollout(P, inWave(P, 0, 0), { a: rep('failed', 500, {}, 'DOWNLOAD_FAILED') }, 600);
  t.equal(s.decision.kind, 'abort');
  t.match(s.decision.kind === 'abort' ? s.decision.reason : {}, { kind: 'no-success', wave: 1, failed: 1 });
  t.same(s.rollback, ['a']);
  t.equal(s.next.phase, 'aborted');
  const again = reduceRollout(P, s.next, { a: rep('failed', 500) }, 700);
  t.equal(again.decision.kind, 'aborted', 'stays aborted');
  t.same(again.notify, []);
});

t.test('last wave: failures within the threshold, an offline straggler pending → done', async (t) => {
  const obs = { a: rep('active', 0), b: rep('failed', 10), c: rep('active', 0), d: offline() };
  const s = reduceRollout(P, inWave(P, 1, 0), obs, GATE);
  t.same(s.decision, { kind: 'done' });
  t.equal(status(s, 'd'), 'pending');
  t.match(s.counts, { total: 4, succeeded: 2, failed: 1, pending: 1, timedOut: 0 });
});

t.test('threshold trips mid-wave → abort and roll back the whole current wave', async (t) => {
  const obs = { a: rep('active', 0), b: rep('failed', 10), c: rep('rolled_back', 20), d: rep('downloading', 0) };
  const s = reduceRollout(P, inWave(P, 1, 0), obs, 1000);
  t.equal(s.decision.kind, 'abort');
  t.match(s.decision.kind === 'abort' ? s.decision.reason : {}, { kind: 'threshold', wave: 2, failed: 2 });
  t.same(s.rollback, ['b', 'c', 'd'], 'failed, succeeded and in-progress devices of that wave');
});

t.test('devices are counted once: repeated or old-deployment reports add nothing', async (t) => {
  const old: DeviceObservation = { online: true, report: { deploymentId: 'dep-1', state: 'failed', since: 0 } };
  const s = reduceRollout(P, inWave(P, 1, 0), { a: rep('active', 0), b: old, c: old, d: old }, 1000);
  t.equal(s.decision.kind, 'wait');
  t.equal(status(s, 'b'), 'waiting', 'a report for another deployment is no report');
  t.equal(s.counts.failed, 0);
});

t.test('deadline: online stuck devices time out (sticky); offline ones stay pending', async (t) => {
  const lenient = plan([['a'], ['b', 'c', 'd']], { kind: 'count', count: 5 });
  const p1 = inWave(lenient, 1, 0);
  t.equal(waveDeadline(lenient, p1), TIMEOUT);
  const obs = { a: rep('active', 0), b: rep('converting', 100), c: rep('active', 0), d: { ...rep('downloading', 100), online: false } };
  const before = reduceRollout(lenient, p1, obs, TIMEOUT - 1);
  t.equal(before.decision.kind, 'wait');
  const s = reduceRollout(lenient, p1, obs, TIMEOUT);
  t.same(s.next.timedOut, { b: { at: TIMEOUT, state: 'converting' } });
  t.equal(status(s, 'b'), 'timed_out');
  t.equal(status(s, 'd'), 'pending', 'offline mid-download: a straggler, not timed out');
  t.same(s.decision, { kind: 'done' });
  t.match(s.counts, { timedOut: 1, failed: 0, pending: 1, succeeded: 2 });
  const late = reduceRollout(lenient, s.next, { ...obs, b: rep('active', 0) }, TIMEOUT + GATE);
  t.equal(status(late, 'b'), 'timed_out', 'a late success does not undo a timeout already acted on');
});

t.test('a timeout counts against the threshold', async (t) => {
  const s = reduceRollout(P, inWave(P, 0, 0), { a: online() }, TIMEOUT);
  t.equal(status(s, 'a'), 'timed_out');
  t.equal(s.decision.kind, 'abort', 'no success in the wave');
  const gated = reduceRollout(P, inWave(P, 0, 0), { a: rep('active', 0, { health: { healthy: false, since: 0 } }) }, TIMEOUT);
  t.same(gated.next.timedOut, { a: { at: TIMEOUT, state: 'active' } }, 'active but never healthy by the deadline');
});

t.test('incompatible rejections are excluded; other rejections are failures', async (t) => {
  const pct = plan([['a', 'b', 'c', 'd']], { kind: 'percent', hundredths: 3000, minSample: 10 });
  const obs = { a: rep('rejected', 0, {}, 'DEPLOYMENT_INCOMPATIBLE'), b: rep('active', 0), c: rep('active', 0), d: rep('active', 0) };
  const s = reduceRollout(pct, inWave(pct, 0, 0), obs, GATE);
  t.equal(status(s, 'a'), 'incompatible');
  t.same(s.decision, { kind: 'done' });
  const bad = reduceRollout(pct, inWave(pct, 0, 0), { ...obs, a: rep('rejected', 0, {}, 'MANIFEST_BAD_SIGNATURE'), b: rep('rejected', 0, {}, 'MANIFEST_EXPIRED') }, GATE);
  t.equal(status(bad, 'a'), 'failed');
  t.equal(bad.decision.kind, 'abort', '2 of 4 targets = 50% > 30%');
  const custom = reduceRollout(pct, inWave(pct, 0, 0), { ...obs, a: rep('rejected', 0, {}, 'REQ_MISMATCH') }, GATE, { isIncompatible: (r) => r.error?.code === 'REQ_MISMATCH' });
  t.equal(status(custom, 'a'), 'incompatible', 'the classification is injectable');
});

t.test('superseded and canceled are neither success nor failure, and superseded is not rolled back', async (t) => {
  const s = reduceRollout(P, inWave(P, 1, 0), { a: rep('active', 0), b: rep('superseded', 0), c: rep('failed', 0), d: rep('failed', 0) }, 10);
  t.equal(status(s, 'b'), 'excluded');
  t.equal(s.decision.kind, 'abort');
  t.same(s.rollback, ['c', 'd']);
});

t.test('all offline: the wave is stalled, not failed and not promoted', async (t) => {
  const s = reduceRollout(P, initialProgress(0), { a: offline() }, 0);
  t.same(s.notify, ['a'], 'the retained desired lets it catch up later');
  t.equal(status(s, 'a'), 'pending');
  t.match(s.decision, { kind: 'wait', stalled: true });
  const later = reduceRollout(P, s.next, { a: offline() }, TIMEOUT * 3);
  t.match(later.decision, { kind: 'wait', stalled: true }, 'no timeout for offline devices');
  t.same(later.next.timedOut, {});
});

t.test('an active device that went offline is pending, not a success', async (t) => {
  const s = reduceRollout(P, inWave(P, 0, 0), { a: { ...rep('active', 0), online: false } }, GATE);
  t.equal(status(s, 'a'), 'pending');
  t.match(s.decision, { kind: 'wait', stalled: true });
});

t.test('a straggler of an earlier wave that fails later counts in the current wave', async (t) => {
  const P3 = plan([['a', 'x'], ['b', 'c']], { kind: 'count', count: 1 });
  const s = reduceRollout(P3, inWave(P3, 1, 0), { a: rep('active', 0), x: rep('failed', 0), b: rep('failed', 0), c: online() }, 10);
  t.equal(s.decision.kind, 'abort');
  t.same(s.rollback, ['b', 'c'], 'only the current wave is rolled back');
});

t.test('rate pacing: one device per minute inside a wave, deadline after the last one', async (t) => {
  const perMin = { count: 1, perMs: 60_000 };
  const R = plan([['a'], ['b', 'c', 'd']], { kind: 'count', count: 1 }, perMin);
  const promote = reduceRollout(R, inWave(R, 0, 0), { a: rep('active', 0) }, GATE);
  t.same(promote.notify, ['b']);
  t.equal(promote.next.notifiedInWave, 1);
  t.equal(promote.wakeAt, GATE + 60_000);
  const early = reduceRollout(R, promote.next, { a: rep('active', 0) }, GATE + 59_999);
  t.same(early.notify, []);
  t.equal(status(early, 'c'), 'queued');
  const second = reduceRollout(R, promote.next, { a: rep('active', 0) }, GATE + 60_000);
  t.same(second.notify, ['c']);
  t.equal(waveDeadline(R, second.next), GATE + 120_000 + TIMEOUT);
  const obs = { a: rep('active', 0), b: rep('active', 0), c: rep('active', 0) };
  const waitForD = reduceRollout(R, second.next, obs, GATE + 100_000);
  t.equal(waitForD.decision.kind, 'wait', 'cannot finish before every device was notified');
  const skip = reduceRollout(R, second.next, { ...obs, d: rep('active', 0) }, GATE + 10 * 60_000);
  t.same(skip.notify, ['d']);
  t.same(skip.decision, { kind: 'done' });
});

t.test('abort never notifies devices that only became due in the same step', async (t) => {
  const R = plan([['a'], ['b', 'c', 'd']], { kind: 'count', count: 0 }, { count: 1, perMs: 60_000 });
  const progress: RolloutProgress = { phase: 'running', wave: 1, waveStartedAt: 0, notifiedInWave: 1, timedOut: {} };
  const s = reduceRollout(R, progress, { a: rep('active', 0), b: rep('failed', 10) }, 60_000);
  t.equal(s.decision.kind, 'abort');
  t.same(s.notify, [], 'c was due at 60s but the rollout stopped');
  t.same(s.rollback, ['b']);
  t.equal(s.next.notifiedInWave, 1);
  t.equal(status(s, 'c'), 'queued');
});

t.test('edge plans: empty plan is done; operator abort rolls back the notified part of the wave', async (t) => {
  const empty = reduceRollout(plan([]), initialProgress(0), {}, 0);
  t.same(empty.decision, { kind: 'done' });
  const R = plan([['a'], ['b', 'c', 'd']], { kind: 'count', count: 1 }, { count: 1, perMs: 60_000 });
  const a = abortRollout(R, { phase: 'running', wave: 1, waveStartedAt: 0, notifiedInWave: 2, timedOut: {} }, 'operator said so');
  t.same(a.rollback, ['b', 'c']);
  t.match(a.next, { phase: 'aborted', abort: { kind: 'operator', wave: 2 } });
});

t.test('a TENSORRT_PLUGIN_REMOVED rejection means "does not fit", not a failure', async (t) => {
  const pct = plan([['a', 'b']], { kind: 'percent', hundredths: 3000, minSample: 10 });
  const s = reduceRollout(pct, inWave(pct, 0, 0), { a: rep('rejected', 0, {}, 'TENSORRT_PLUGIN_REMOVED'), b: rep('active', 0) }, GATE);
  t.equal(status(s, 'a'), 'incompatible');
  t.same(s.decision, { kind: 'done' });
});
