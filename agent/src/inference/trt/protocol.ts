/**
 * The framed binary protocol between the agent and `trt-runner` over stdio, version 2
 * (agent/native/trt-runner/README.md). Every frame: u32 LE payload length, u8 type, payload.
 * All integers little-endian. Pure encode/decode, no I/O.
 *
 *   HELLO  (runner→agent, once at start)  JSON {protocol, tensorrt, api, implicitBatch, maxBatch, inputs, outputs}
 *                                         (tensor: {name, dtype, dims}; -1 = a runtime dimension)
 *   INFER  (agent→runner)  u32 id, u32 n, n × tensor
 *   RESULT (runner→agent)  u32 id, u32 n, n × tensor (dims as TensorRT resolved them)
 *   ERROR  (runner→agent)  u32 id (0 = fatal), UTF-8 "[CODE] message"
 *   SHUTDOWN (agent→runner) empty
 *   tensor = u16 nameLen, name, u8 dtype, u8 ndims, ndims × i64 dim, u32 byteLen, bytes
 */
export const PROTOCOL_VERSION = 2;
export const FrameType = { HELLO: 1, INFER: 2, RESULT: 3, ERROR: 4, SHUTDOWN: 5 } as const;
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

/** Element types the runner carries: wire code and bytes per element (main.cpp dtypeOf). */
export const DTYPES = {
  FP32: { code: 0, size: 4 },
  INT32: { code: 1, size: 4 },
  FP16: { code: 2, size: 2 },
  INT8: { code: 3, size: 1 },
  INT64: { code: 4, size: 8 },
  BOOL: { code: 5, size: 1 },
  UINT8: { code: 6, size: 1 },
  BF16: { code: 7, size: 2 },
  FP8: { code: 8, size: 1 },
} as const;
export type DTypeName = keyof typeof DTYPES;
const BY_CODE = new Map<number, DTypeName>(Object.entries(DTYPES).map(([k, v]) => [v.code, k as DTypeName]));

export const isDTypeName = (s: unknown): s is DTypeName => typeof s === 'string' && Object.hasOwn(DTYPES, s);
export const dtypeOfCode = (code: number): DTypeName | undefined => BY_CODE.get(code);

/** Frames larger than this are a protocol error (a 64-batch FP32 3×1088×1920 input is 1.6 GB; keep it sane). */
export const MAX_FRAME = 512 * 1024 * 1024;

export interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

export interface TensorDesc {
  readonly name: string;
  readonly dtype: DTypeName;
  readonly dims: readonly number[];
}

export interface Hello {
  readonly protocol: number;
  readonly tensorrt: string;
  readonly api: string;
  readonly implicitBatch: boolean;
  readonly maxBatch: number;
  readonly inputs: readonly TensorDesc[];
  readonly outputs: readonly TensorDesc[];
}

/** A tensor as it travels: dtype, shape and the raw little-endian element bytes. */
export interface WireTensor {
  readonly name: string;
  readonly dtype: DTypeName;
  readonly dims: readonly number[];
  readonly bytes: Uint8Array;
}

export interface RunnerError {
  readonly id: number;
  /** The runner's stable code (`INPUT_SHAPE`, `ENQUEUE_FAILED` …), or null for an older runner. */
  readonly code: string | null;
  readonly message: string;
}

export function encodeFrame(type: number, payload: Buffer | Uint8Array = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt8(type, 4);
  return Buffer.concat([head, payload]);
}

function encodeTensors(id: number, tensors: readonly WireTensor[]): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(id, 0);
  head.writeUInt32LE(tensors.length, 4);
  const parts: Buffer[] = [head];
  for (const t of tensors) {
    const name = Buffer.from(t.name, 'utf8');
    const h = Buffer.alloc(2 + name.length + 2 + 8 * t.dims.length + 4);
    let o = h.writeUInt16LE(name.length, 0);
    o += name.copy(h, o);
    o = h.writeUInt8(DTYPES[t.dtype].code, o);
    o = h.writeUInt8(t.dims.length, o);
    for (const d of t.dims) o = h.writeBigInt64LE(BigInt(d), o);
    h.writeUInt32LE(t.bytes.byteLength, o);
    parts.push(h, Buffer.from(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength));
  }
  return Buffer.concat(parts);
}

function decodeTensors(p: Buffer, what: string): { id: number; tensors: WireTensor[] } {
  const need = (o: number, n: number): void => {
    if (o + n > p.length) throw new Error(`${what} frame is truncated`);
  };
  need(0, 8);
  const id = p.readUInt32LE(0);
  const n = p.readUInt32LE(4);
  let o = 8;
  const tensors: WireTensor[] = [];
  for (let i = 0; i < n; i++) {
    need(o, 2);
    const nameLen = p.readUInt16LE(o);
    o += 2;
    need(o, nameLen + 2);
    const name = p.toString('utf8', o, o + nameLen);
    o += nameLen;
    const code = p.readUInt8(o++);
    const nd = p.readUInt8(o++);
    need(o, 8 * nd + 4);
    const dims: number[] = [];
    for (let d = 0; d < nd; d++, o += 8) {
      const v = p.readBigInt64LE(o);
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -1n) throw new Error(`${what} tensor ${name} has dimension ${v}`);
      dims.push(Number(v));
    }
    const len = p.readUInt32LE(o);
    o += 4;
    if (o + len > p.length) throw new Error(`${what} tensor ${name} overruns the frame`);
    const dtype = dtypeOfCode(code);
    if (!dtype) throw new Error(`${what} tensor ${name} has unknown dtype code ${code}`);
    // Copied into a fresh (aligned) buffer: the frame's is the reader's.
    const bytes = new Uint8Array(len);
    bytes.set(p.subarray(o, o + len));
    tensors.push({ name, dtype, dims, bytes });
    o += len;
  }
  if (o !== p.length) throw new Error(`${what} frame has ${p.length - o} trailing bytes`);
  return { id, tensors };
}

export function encodeInfer(id: number, inputs: readonly WireTensor[]): Buffer {
  return encodeFrame(FrameType.INFER, encodeTensors(id, inputs));
}

export function decodeInfer(p: Buffer): { id: number; tensors: WireTensor[] } {
  return decodeTensors(p, 'INFER');
}

export function encodeResult(id: number, tensors: readonly WireTensor[]): Buffer {
  return encodeFrame(FrameType.RESULT, encodeTensors(id, tensors));
}

export function decodeResult(p: Buffer): { id: number; tensors: WireTensor[] } {
  return decodeTensors(p, 'RESULT');
}

export function encodeError(id: number, code: string, message: string): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32LE(id, 0);
  return encodeFrame(FrameType.ERROR, Buffer.concat([h, Buffer.from(`[${code}] ${message}`, 'utf8')]));
}

export function decodeError(p: Buffer): RunnerError {
  const text = p.toString('utf8', 4);
  const m = /^\[([A-Z0-9_]+)\] ([\s\S]*)$/.exec(text);
  return { id: p.readUInt32LE(0), code: m?.[1] ?? null, message: m?.[2] ?? text };
}

/** HELLO's JSON, checked: a runner of another protocol version or with unknown dtypes is refused. */
export function parseHello(payload: Buffer): Hello {
  let h: unknown;
  try {
    h = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new Error('HELLO is not JSON');
  }
  const o = h as Partial<Hello> & Record<string, unknown>;
  if (o.protocol !== PROTOCOL_VERSION) throw new Error(`the runner speaks protocol ${String(o.protocol ?? 1)}, this agent ${PROTOCOL_VERSION}`);
  const tensors = (x: unknown, what: string): TensorDesc[] => {
    if (!Array.isArray(x)) throw new Error(`HELLO has no ${what}`);
    return x.map((t: unknown) => {
      const d = t as Partial<TensorDesc>;
      if (typeof d.name !== 'string' || !isDTypeName(d.dtype) || !Array.isArray(d.dims) || !d.dims.every((v) => Number.isInteger(v) && v >= -1)) {
        throw new Error(`HELLO ${what} entry ${JSON.stringify(t)} is malformed`);
      }
      return { name: d.name, dtype: d.dtype, dims: d.dims };
    });
  };
  return {
    protocol: o.protocol,
    tensorrt: String(o.tensorrt ?? ''),
    api: String(o.api ?? ''),
    implicitBatch: o.implicitBatch === true,
    maxBatch: typeof o.maxBatch === 'number' ? o.maxBatch : 1,
    inputs: tensors(o.inputs, 'inputs'),
    outputs: tensors(o.outputs, 'outputs'),
  };
}

/** Accumulates stream chunks and yields whole frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32LE(0);
      if (len > MAX_FRAME) throw new Error(`frame of ${len} bytes exceeds the ${MAX_FRAME}-byte limit`);
      if (this.buf.length < 5 + len) break;
      frames.push({ type: this.buf.readUInt8(4), payload: this.buf.subarray(5, 5 + len) });
      this.buf = this.buf.subarray(5 + len);
    }
    return frames;
  }
}
