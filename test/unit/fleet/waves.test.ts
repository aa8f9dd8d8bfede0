import t from 'tap';
import { cumulativeSizes, parseWaves, planWaves } from '../../../agent/src/fleet/waves.js';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `d${i + 1}`);
const sizes = (spec: string, n: number): number[] => planWaves(parseWaves(spec), ids(n)).map((w) => w.length);

t.test('parseWaves reads counts and percentages', async (t) => {
  t.same(parseWaves('1,10%,50%,100%'), [
    { kind: 'count', count: 1 },
    { kind: 'percent', hundredths: 1000 },
    { kind: 'percent', hundredths: 5000 },
    { kind: 'percent', hundredths: 10000 },
  ]);
  t.same(parseWaves(' 5 , 12.5% '), [
    { kind: 'count', count: 5 },
    { kind: 'percent', hundredths: 1250 },
  ]);
  t.same(parseWaves('0.5%'), [{ kind: 'percent', hundredths: 50 }]);
});

t.test('parseWaves refuses bad specs with USAGE', async (t) => {
  for (const bad of ['', '1,,2', '0', '0%', '101%', '50%,10%', '10,5', 'abc', '1.5', '10.123%', '-1', '10 %x']) {
    t.throws(() => parseWaves(bad), { code: 'USAGE' }, JSON.stringify(bad));
  }
});

t.test('planWaves: cumulative sizes, rounding up, tiny fleets, collapse, implicit 100%', async (t) => {
  // [spec, fleet size, expected wave sizes] — worked out by hand.
  const table: [string, number, number[]][] = [
    ['1,10%,50%,100%', 100, [1, 9, 40, 50]], // cumulative 1, 10, 50, 100
    ['1,10%,50%,100%', 1000, [1, 99, 400, 500]],
    ['10%,100%', 30, [3, 27]], // exactly 3: 0.1 × 30 in floats would round up to 4
    ['1,10%,50%,100%', 3, [1, 1, 1]], // 1, ceil(0.3)=1 (collapses), ceil(1.5)=2, 3
    ['1,10%,50%,100%', 2, [1, 1]], // 1, 1, 1, 2
    ['1,10%,50%,100%', 1, [1]],
    ['1,10%,50%,100%', 0, []], // empty fleet: no waves
    ['50%', 10, [5, 5]], // stops short of 100%: a final wave takes the rest
    ['5,1%', 100, [5, 95]], // 1% = 1 < 5: collapses, rest follows
    ['20,100%', 4, [4]], // a count larger than the fleet is capped
    ['0.5%,100%', 1000, [5, 995]],
    ['0.5%,100%', 10, [1, 9]], // any non-zero percentage reaches at least one device
    ['33.33%,100%', 3, [1, 2]], // ceil(0.9999) = 1
    ['1,1,10%', 100, [1, 9, 90]], // duplicates collapse
    ['100%', 7, [7]],
  ];
  for (const [spec, n, want] of table) t.same(sizes(spec, n), want, `${spec} over ${n}`);
});

t.test('planWaves keeps device order and covers every device once', async (t) => {
  const waves = planWaves(parseWaves('1,10%,50%'), ids(25));
  t.same(waves[0], ['d1']);
  t.same(waves.flat(), ids(25));
  t.ok(waves.every((w) => w.length > 0));
});

t.test('cumulativeSizes never shrinks and never exceeds the fleet', async (t) => {
  t.same(cumulativeSizes(parseWaves('5,1%,100%'), 100), [5, 5, 100]);
  t.same(cumulativeSizes(parseWaves('50,10%'), 20), [20, 20]);
});
