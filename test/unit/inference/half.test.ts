import t from 'tap';
import { floatsToHalf, fromHalfBits, halfToFloats, toHalfBits } from '../../../agent/src/inference/half.js';

// IEEE 754 binary16 bit patterns worked out by hand: sign | exponent (bias 15) << 10 | mantissa.
t.test('known half bit patterns', async (t) => {
  t.equal(toHalfBits(1), 0x3c00);
  t.equal(toHalfBits(-2), 0xc000);
  t.equal(toHalfBits(0.5), 0x3800);
  t.equal(toHalfBits(65504), 0x7bff, 'largest finite half');
  t.equal(toHalfBits(65520), 0x7c00, 'rounds up to +Inf');
  t.equal(toHalfBits(2 ** -24), 0x0001, 'smallest subnormal');
  t.equal(toHalfBits(2 ** -26), 0x0000, 'below half the smallest subnormal: 0');
  t.equal(toHalfBits(1 + 2 ** -11), 0x3c00, 'a tie rounds to even (down)');
  t.equal(toHalfBits(1 + 3 * 2 ** -11), 0x3c02, 'a tie rounds to even (up)');
  t.equal(toHalfBits(NaN) & 0x7c00, 0x7c00);
  t.ok(Number.isNaN(fromHalfBits(0x7e00)));
  t.equal(fromHalfBits(0x3555), 0.333251953125);
});

t.test('every finite half survives half → float → half', async (t) => {
  let bad = 0;
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00) continue;
    if (toHalfBits(fromHalfBits(h)) !== h) bad++;
  }
  t.equal(bad, 0);
  const back = halfToFloats(floatsToHalf([0.1, 114, -3.5]));
  t.same(Array.from(back), [0.0999755859375, 114, -3.5]);
});
