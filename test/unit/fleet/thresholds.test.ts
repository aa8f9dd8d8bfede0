import t from 'tap';
import { evaluateThreshold, parseMaxFailures, parseMinSample } from '../../../agent/src/fleet/thresholds.js';
import type { FailureThreshold } from '../../../agent/src/fleet/types.js';

t.test('parseMaxFailures', async (t) => {
  t.same(parseMaxFailures('10%'), { kind: 'percent', hundredths: 1000, minSample: 10 });
  t.same(parseMaxFailures('12.5%', 20), { kind: 'percent', hundredths: 1250, minSample: 20 });
  t.same(parseMaxFailures('0%'), { kind: 'percent', hundredths: 0, minSample: 10 });
  t.same(parseMaxFailures('3'), { kind: 'count', count: 3 });
  t.same(parseMaxFailures('0'), { kind: 'count', count: 0 });
  for (const bad of ['-1', '101%', 'abc', '1.5', '', '%']) t.throws(() => parseMaxFailures(bad), { code: 'USAGE' }, bad);
  t.equal(parseMinSample('5'), 5);
  t.throws(() => parseMinSample('0'), { code: 'USAGE' });
});

t.test('evaluateThreshold table', async (t) => {
  const pct = (h: number, minSample = 10): FailureThreshold => ({ kind: 'percent', hundredths: h, minSample });
  const count = (n: number): FailureThreshold => ({ kind: 'count', count: n });
  // [threshold, failed, executed, total, tripped, why] — expectations worked out by hand.
  const table: [FailureThreshold, number, number, number, boolean, string][] = [
    [count(0), 0, 5, 10, false, 'count 0 with no failure'],
    [count(0), 1, 1, 10, true, 'count 0: any failure trips'],
    [count(3), 3, 50, 100, false, 'exactly N failures is within "max N"'],
    [count(3), 4, 50, 100, true, 'N+1 failures trip'],
    [pct(1000), 1, 1, 100, false, '1 of 1 = 100% but below the minimum sample of 10'],
    [pct(1000), 1, 10, 100, false, '10% is not more than 10%'],
    [pct(1000), 2, 10, 100, true, '20% of 10 devices'],
    [pct(1000), 2, 19, 100, true, '10.5% of 19'],
    [pct(1000), 2, 20, 100, false, '10% of 20'],
    [pct(1000), 3, 3, 20, true, 'below the sample, but 3 of 20 targets is already 15% > 10% whatever happens'],
    [pct(1000), 2, 3, 20, false, '2 of 20 targets = 10%: not yet certain, sample too small'],
    [pct(3000), 1, 4, 4, false, 'tiny fleet: sample = whole fleet (4); 25% ≤ 30%'],
    [pct(3000), 2, 2, 4, true, 'tiny fleet: 2 of 4 targets = 50% > 30%'],
    [pct(0), 1, 1, 100, true, '0%: any failure trips'],
    [pct(10000), 5, 5, 5, false, '100%: never trips'],
    [pct(1000), 0, 0, 0, false, 'empty fleet'],
  ];
  for (const [th, failed, executed, total, tripped, why] of table) {
    const v = evaluateThreshold(th, { failed, executed, total });
    t.equal(v.tripped, tripped, `${why} (${v.message})`);
  }
});

t.test('devices still working count as if they succeed: early failures of a large wave do not trip', async (t) => {
  const pct = { kind: 'percent', hundredths: 1000, minSample: 10 } as const;
  // 10,000 devices, wave 2 of 999 with 2 % failing: the 20 failures arrive before any success.
  const early = evaluateThreshold(pct, { failed: 20, executed: 21, total: 10_000, inFlight: 979 });
  t.equal(early.tripped, false, early.message);
  t.equal(early.message, '20 of 1000 notified device(s) failed (979 still working, counted as if they succeed), within 10%');
  // 20 % failing: 200 failures of 1000 notified exceed 10 % whatever the rest do.
  t.equal(evaluateThreshold(pct, { failed: 200, executed: 201, total: 10_000, inFlight: 799 }).tripped, true);
  t.equal(evaluateThreshold(pct, { failed: 101, executed: 110, total: 10_000, inFlight: 890 }).tripped, true, '101 of 1000 > 10 %');
  t.equal(evaluateThreshold(pct, { failed: 100, executed: 110, total: 10_000, inFlight: 890 }).tripped, false, '100 of 1000 = 10 %');
  t.equal(evaluateThreshold(pct, { failed: 9, executed: 9, total: 10_000, inFlight: 991 }).tripped, false, 'below the sample');
});
