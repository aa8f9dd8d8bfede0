import t from 'tap';
import { SwapHold } from '../../../agent/src/inference/swap-hold.js';
import { Registry } from '../../../agent/src/inference/metrics.js';
import { AgentError } from '../../../agent/src/core/errors.js';

const A = { name: 'det', version: '1' };
const B = { name: 'det', version: '2' };

function makeHold(maxHeld = 3, holdMs = 60_000): { hold: SwapHold; registry: Registry; clock: { t: number } } {
  const clock = { t: 1000 };
  const registry = new Registry();
  return { hold: new SwapHold({ maxHeld, holdMs, registry, now: () => clock.t }), registry, clock };
}

const metric = (r: Registry, line: string): number => {
  const m = r.render().split('\n').find((l) => l.startsWith(line + ' '));
  return m ? Number(m.slice(line.length + 1)) : NaN;
};

t.test('no gap: wait() resolves at once and nothing counts as held', async (t) => {
  const { hold, registry } = makeHold();
  await hold.wait(0);
  t.equal(hold.status(), null);
  t.ok(Number.isNaN(metric(registry, 'jetson_swap_held_requests_total')), 'no held series before a hold');
  t.equal(metric(registry, 'jetson_swap_hold_longest_seconds'), 0, 'longest hold starts at 0');
});

t.test('held requests go on in arrival order when the gap ends; status and stats say what happened', async (t) => {
  const { hold, registry, clock } = makeHold();
  hold.begin(A, B);
  const order: number[] = [];
  const waits = [1, 2, 3].map((i) => hold.wait(clock.t + 60_000).then(() => order.push(i)));
  hold.phase('loading');
  clock.t += 250;
  t.match(hold.status(), { from: A, to: B, phase: 'loading', held: 3, elapsedMs: 250 });
  hold.end();
  await Promise.all(waits);
  t.same(order, [1, 2, 3], 'arrival order');
  t.equal(hold.status(), null, 'the gap is closed');
  t.equal(metric(registry, 'jetson_swap_held_requests_total'), 3);
  t.equal(metric(registry, 'jetson_swap_hold_longest_seconds'), 0.25);
  t.equal(metric(registry, 'jetson_swap_hold_duration_seconds_count{outcome="served"}'), 3);
  t.same(hold.drainStats(), { held: 3, rejected: 0, longestHoldMs: 250 });
  t.same(hold.drainStats(), { held: 0, rejected: 0, longestHoldMs: null }, 'reset per interval');
});

t.test('the bound: past maxHeld waiting, a request answers OVERLOADED at once (the batcher rule)', async (t) => {
  const { hold, registry, clock } = makeHold(2);
  hold.begin(A, B);
  const held = [hold.wait(clock.t + 60_000), hold.wait(clock.t + 60_000)];
  await t.rejects(hold.wait(clock.t + 60_000), { code: 'OVERLOADED', message: /2 requests held while det@1 is replaced by det@2/, hint: /inference\.maxQueue/ });
  t.equal(metric(registry, 'jetson_swap_rejected_requests_total{reason="queue_full"}'), 1);
  hold.end();
  await Promise.all(held);
  t.same(hold.drainStats(), { held: 2, rejected: 1, longestHoldMs: 0 });
});

t.test('the deadline: a request held past it answers MODEL_NOT_READY naming inference.swapHoldMs; the others keep waiting', async (t) => {
  const { hold, registry, clock } = makeHold(4, 40);
  hold.begin(A, B);
  hold.phase('reloading');
  const patient = hold.wait(clock.t + 60_000);
  // A deadline already reached fires on the next timer turn.
  const err = (await hold.wait(clock.t).catch((e: unknown) => e)) as AgentError;
  t.equal(err.code, 'MODEL_NOT_READY');
  t.match(err.message, /longer than inference\.swapHoldMs \(40 ms\)/);
  t.match(err.message, /\(reloading\)/, 'names the phase');
  t.equal(hold.status()?.held, 1, 'the patient request still waits');
  t.equal(metric(registry, 'jetson_swap_rejected_requests_total{reason="deadline"}'), 1);
  hold.end();
  await patient;
});

t.test('fail(): when no model serves after the gap every held request gets that error', async (t) => {
  const { hold, registry, clock } = makeHold();
  hold.begin(A, B);
  const w = [hold.wait(clock.t + 60_000), hold.wait(clock.t + 60_000)];
  hold.fail(new AgentError('MODEL_NOT_READY', 'No model is serving.'));
  for (const p of w) await t.rejects(p, { code: 'MODEL_NOT_READY', message: 'No model is serving.' });
  t.equal(metric(registry, 'jetson_swap_rejected_requests_total{reason="no_model"}'), 2);
  t.equal(hold.open, false);
});
