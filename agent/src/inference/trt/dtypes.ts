import type { TensorData } from '../engine.js';
import { DTYPES, type DTypeName, type WireTensor } from './protocol.js';

/**
 * Element conversions between the agent's tensors (Float32Array input, Float32Array /
 * Int32Array outputs: engine.ts TensorData) and the bytes of every DataType trt-runner carries.
 * Formats: IEEE 754 binary16 (FP16); bfloat16 = the upper 16 bits of binary32 (BF16); FP8 is
 * TensorRT's E4M3 (1 sign, 4 exponent bits with bias 7, 3 mantissa bits, no infinities,
 * S.1111.111 = NaN; NVIDIA "FP8 Formats for Deep Learning", arXiv:2209.05433 §3). Pure.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** binary32 → binary16, round to nearest even; overflow → ±Inf, NaN kept. */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0] ?? 0;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  const rest = mant & 0x1fff;
  mant >>>= 13;
  if (rest > 0x1000 || (rest === 0x1000 && (mant & 1))) {
    mant++;
    if (mant === 0x400) {
      mant = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | mant;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** binary32 → bfloat16, round to nearest even. */
export function toBf16(value: number): number {
  f32[0] = value;
  const x = u32[0] ?? 0;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fromBf16(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0] ?? 0;
}

/** E4M3 → number. */
export function fromE4M3(v: number): number {
  const sign = v & 0x80 ? -1 : 1;
  const exp = (v >>> 3) & 0xf;
  const mant = v & 7;
  if (exp === 0xf && mant === 7) return NaN;
  if (exp === 0) return sign * mant * 2 ** -9;
  return sign * (1 + mant / 8) * 2 ** (exp - 7);
}

/** number → E4M3, round to nearest even, saturating at ±448 (what TensorRT's FP8 casts do). */
export function toE4M3(value: number): number {
  if (Number.isNaN(value)) return 0x7f;
  const sign = value < 0 || Object.is(value, -0) ? 0x80 : 0;
  const a = Math.min(Math.abs(value), 448);
  let best = 0;
  let bestErr = Infinity;
  // 127 finite magnitudes: exhaustive nearest, ties to the even code.
  for (let c = 0; c < 0x7f; c++) {
    const err = Math.abs(fromE4M3(c) - a);
    if (err < bestErr || (err === bestErr && (c & 1) === 0)) {
      best = c;
      bestErr = err;
    }
  }
  return sign | best;
}

const clampRound = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(Number.isNaN(v) ? 0 : v)));

/** The agent's FP32 input as the bytes of the engine's input DataType. */
export function encodeElements(values: Float32Array, dtype: DTypeName): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'FP32':
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    case 'FP16':
    case 'BF16': {
      const out = new Uint16Array(n);
      const conv = dtype === 'FP16' ? toHalf : toBf16;
      for (let i = 0; i < n; i++) out[i] = conv(values[i] ?? 0);
      return new Uint8Array(out.buffer);
    }
    case 'INT32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = clampRound(values[i] ?? 0, -2147483648, 2147483647);
      return new Uint8Array(out.buffer);
    }
    case 'INT64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(clampRound(values[i] ?? 0, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
      return new Uint8Array(out.buffer);
    }
    case 'INT8': {
      const out = new Int8Array(n);
      for (let i = 0; i < n; i++) out[i] = clampRound(values[i] ?? 0, -128, 127);
      return new Uint8Array(out.buffer);
    }
    case 'UINT8': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = clampRound(values[i] ?? 0, 0, 255);
      return out;
    }
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = values[i] ? 1 : 0;
      return out;
    }
    case 'FP8': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = toE4M3(values[i] ?? 0);
      return out;
    }
  }
}

/**
 * A runner tensor as TensorData: floating types widen to Float32Array, integer and boolean
 * types to Int32Array. INT64 values outside the int32 range cannot be represented there and
 * are an error, never truncated.
 */
export function toTensorData(t: WireTensor): TensorData {
  const size = DTYPES[t.dtype].size;
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.bytes.byteLength !== count * size) {
    throw new Error(`tensor ${t.name} ${t.dtype} [${t.dims.join(',')}] carries ${t.bytes.byteLength} bytes, expected ${count * size}`);
  }
  // Typed-array views need aligned offsets; a misaligned buffer is copied once.
  const bytes = t.bytes.byteOffset % 8 === 0 ? t.bytes : t.bytes.slice();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = [...t.dims];
  switch (t.dtype) {
    case 'FP32':
      return { dims, data: new Float32Array(bytes.buffer, bytes.byteOffset, count) };
    case 'INT32':
      return { dims, data: new Int32Array(bytes.buffer, bytes.byteOffset, count) };
    case 'FP16':
    case 'BF16': {
      const out = new Float32Array(count);
      const conv = t.dtype === 'FP16' ? fromHalf : fromBf16;
      for (let i = 0; i < count; i++) out[i] = conv(view.getUint16(2 * i, true));
      return { dims, data: out };
    }
    case 'FP8': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = fromE4M3(view.getUint8(i));
      return { dims, data: out };
    }
    case 'INT64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) throw new Error(`INT64 tensor ${t.name} holds ${v} at element ${i}, outside the int32 range the agent's tensors carry`);
        out[i] = Number(v);
      }
      return { dims, data: out };
    }
    case 'INT8':
    case 'UINT8':
    case 'BOOL': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = t.dtype === 'INT8' ? view.getInt8(i) : view.getUint8(i);
      return { dims, data: out };
    }
  }
}
