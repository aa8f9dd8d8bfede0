import t from 'tap';
import { encodeElements, fromBf16, fromE4M3, fromHalf, toBf16, toE4M3, toHalf, toTensorData } from '../../../agent/src/inference/trt/dtypes.js';
import type { WireTensor } from '../../../agent/src/inference/trt/protocol.js';

t.test('FP16: IEEE 754 binary16 bit patterns, round to nearest even', async (t) => {
  const table: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff], [65520, 0x7c00], [Infinity, 0x7c00],
    [2 ** -24, 0x0001], [2 ** -14, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [0.1, 0x2e66],
  ];
  for (const [v, h] of table) t.equal(toHalf(v), h, `${v} → 0x${h.toString(16)}`);
  t.ok(Number.isNaN(fromHalf(toHalf(NaN))));
  for (const h of [0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0xfbff]) t.equal(toHalf(fromHalf(h)), h, `0x${h.toString(16)} round-trips`);
});

t.test('BF16 and FP8 (E4M3)', async (t) => {
  t.equal(toBf16(1), 0x3f80);
  t.equal(toBf16(-2.5), 0xc020);
  t.equal(fromBf16(0x3f80), 1);
  t.equal(toBf16(1 + 2 ** -8), 0x3f80, 'tie rounds to even');
  t.equal(toBf16(1 + 3 * 2 ** -8), 0x3f82);
  t.same([toE4M3(1), toE4M3(0.5), toE4M3(448), toE4M3(1e6), toE4M3(-3), toE4M3(2 ** -9)], [0x38, 0x30, 0x7e, 0x7e, 0xc4, 0x01], 'E4M3 codes; saturating at 448');
  t.ok(Number.isNaN(fromE4M3(0x7f)));
  t.equal(fromE4M3(0x7e), 448);
  for (let c = 0; c < 0x7f; c++) t.equal(toE4M3(fromE4M3(c)), c, `E4M3 0x${c.toString(16)} round-trips`);
});

const wire = (dtype: WireTensor['dtype'], dims: number[], bytes: Uint8Array): WireTensor => ({ name: 'x', dtype, dims, bytes });

t.test('encodeElements / toTensorData for every dtype', async (t) => {
  const v = Float32Array.from([-1.5, 0, 2, 300]);
  const cases: [WireTensor['dtype'], number[]][] = [
    ['FP32', [-1.5, 0, 2, 300]],
    ['FP16', [-1.5, 0, 2, 300]],
    ['BF16', [-1.5, 0, 2, 300]],
    ['INT32', [-1, 0, 2, 300]],
    ['INT64', [-1, 0, 2, 300]],
    ['INT8', [-1, 0, 2, 127]],
    ['UINT8', [0, 0, 2, 255]],
    ['BOOL', [1, 0, 1, 1]],
    ['FP8', [-1.5, 0, 2, 288]],
  ];
  for (const [dtype, want] of cases) {
    const bytes = encodeElements(v, dtype);
    const back = toTensorData(wire(dtype, [2, 2], bytes));
    t.same(back.dims, [2, 2]);
    t.same(Array.from(back.data), want, `${dtype}: clamped/rounded the way the dtype holds it`);
  }
  const int64 = new BigInt64Array([1n, 2n ** 40n]);
  t.throws(() => toTensorData(wire('INT64', [2], new Uint8Array(int64.buffer))), /INT64 tensor x holds 1099511627776 at element 1, outside the int32 range/);
  t.throws(() => toTensorData(wire('FP16', [3], new Uint8Array(4))), /carries 4 bytes, expected 6/);
  const odd = new Uint8Array(9).subarray(1);
  new DataView(odd.buffer, 1).setFloat32(0, 1.25, true);
  t.same(Array.from(toTensorData(wire('FP32', [2], odd)).data), [1.25, 0], 'a misaligned buffer is read correctly');
});
