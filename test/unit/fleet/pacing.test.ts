import t from 'tap';
import { formatDuration, parseDuration } from '../../../agent/src/fleet/duration.js';
import { dueCount, dueOffset, pacingSpan, parseRate } from '../../../agent/src/fleet/rate.js';

t.test('parseDuration: --health-gate / --wave-timeout', async (t) => {
  const table: [string, number][] = [
    ['5m', 300_000],
    ['30m', 1_800_000],
    ['120s', 120_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['5m30s', 330_000],
    ['7d', 604_800_000],
    ['0s', 0],
  ];
  for (const [text, ms] of table) t.equal(parseDuration(text), ms, text);
  for (const bad of ['30', '', '5 m', '5x', 'm5', '1.5h', '1m5', '-5m']) t.throws(() => parseDuration(bad, '--wave-timeout'), { code: 'USAGE' }, bad);
  t.equal(formatDuration(300_000), '5m');
  t.equal(formatDuration(5_400_000), '1h30m');
  t.equal(formatDuration(90_500), '1m30s500ms');
  t.equal(formatDuration(0), '0s');
});

t.test('parseRate', async (t) => {
  t.same(parseRate('100/min'), { count: 100, perMs: 60_000 });
  t.same(parseRate('2/s'), { count: 2, perMs: 1000 });
  t.same(parseRate('500/h'), { count: 500, perMs: 3_600_000 });
  for (const bad of ['0/min', '10', '10/day', '/min', 'x/min', '1.5/min']) t.throws(() => parseRate(bad), { code: 'USAGE' }, bad);
});

t.test('rate pacing: evenly spaced, first immediately, integer exact', async (t) => {
  const perSecond = { count: 60, perMs: 60_000 };
  t.equal(dueOffset(0, perSecond), 0);
  t.equal(dueOffset(1, perSecond), 1000);
  t.equal(dueOffset(59, perSecond), 59_000);
  const seven = { count: 7, perMs: 60_000 };
  t.equal(dueOffset(1, seven), 8572, '60000/7 = 8571.43 → next whole ms');
  t.equal(dueCount(10, 0, perSecond), 1);
  t.equal(dueCount(10, 999, perSecond), 1);
  t.equal(dueCount(10, 1000, perSecond), 2);
  t.equal(dueCount(10, 1_000_000, perSecond), 10, 'capped at the wave size');
  t.equal(dueCount(7, 8571, seven), 1, 'consistent with dueOffset');
  t.equal(dueCount(7, 8572, seven), 2);
  t.equal(dueCount(10, 0, undefined), 10, 'no rate: whole wave at once');
  t.equal(dueCount(0, 5000, perSecond), 0);
  t.equal(pacingSpan(10, perSecond), 9000);
  t.equal(pacingSpan(1, perSecond), 0);
  t.equal(pacingSpan(10, undefined), 0);
});
