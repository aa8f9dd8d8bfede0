/**
 * The framed binary protocol between the agent and `trt-runner` over stdio
 * (agent/native/trt-runner/README.md). Every frame: u32 LE payload length, u8 type, payload.
 * All integers little-endian. Pure encode/decode, no I/O.
 *
 *   HELLO  (runner→agent, once at start)  JSON {tensorrt, inputs, outputs}  (tensor: {name, dtype, dims})
 *   INFER  (agent→runner)  u32 id, u32 batch, FP32 input bytes (batch·C·H·W)
 *   RESULT (runner→agent)  u32 id, u32 n, n × {u16 nameLen, name, u8 dtype, u8 ndims, ndims × i32 dim, u32 byteLen, bytes}
 *   ERROR  (runner→agent)  u32 id (0 = fatal), UTF-8 message
 *   SHUTDOWN (agent→runner) empty
 */
export const FrameType = { HELLO: 1, INFER: 2, RESULT: 3, ERROR: 4, SHUTDOWN: 5 } as const;
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];
/** dtype codes: 0 FP32, 1 INT32. */
export const DType = { FP32: 0, INT32: 1 } as const;
/** Frames larger than this are a protocol error (a 64-batch FP32 3×1088×1920 input is 1.6 GB; keep it sane). */
export const MAX_FRAME = 512 * 1024 * 1024;

export interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

export interface TensorDesc {
  readonly name: string;
  readonly dtype: 'FP32' | 'INT32';
  readonly dims: readonly number[];
}

export interface Hello {
  readonly tensorrt: string;
  readonly inputs: readonly TensorDesc[];
  readonly outputs: readonly TensorDesc[];
}

export interface ResultTensor {
  readonly name: string;
  readonly dims: number[];
  readonly data: Float32Array | Int32Array;
}

export function encodeFrame(type: number, payload: Buffer | Uint8Array = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt8(type, 4);
  return Buffer.concat([head, payload]);
}

export function encodeInfer(id: number, batch: number, input: Float32Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(id, 0);
  head.writeUInt32LE(batch, 4);
  return encodeFrame(FrameType.INFER, Buffer.concat([head, Buffer.from(input.buffer, input.byteOffset, input.byteLength)]));
}

export function decodeInfer(p: Buffer): { id: number; batch: number; input: Float32Array } {
  const id = p.readUInt32LE(0);
  const batch = p.readUInt32LE(4);
  const bytes = p.subarray(8);
  const input = new Float32Array(bytes.length / 4);
  new Uint8Array(input.buffer).set(bytes);
  return { id, batch, input };
}

export function encodeResult(id: number, tensors: readonly ResultTensor[]): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8);
  head.writeUInt32LE(id, 0);
  head.writeUInt32LE(tensors.length, 4);
  parts.push(head);
  for (const t of tensors) {
    const name = Buffer.from(t.name, 'utf8');
    const h = Buffer.alloc(2 + name.length + 2 + 4 * t.dims.length + 4);
    let o = h.writeUInt16LE(name.length, 0);
    o += name.copy(h, o);
    o = h.writeUInt8(t.data instanceof Int32Array ? DType.INT32 : DType.FP32, o);
    o = h.writeUInt8(t.dims.length, o);
    for (const d of t.dims) o = h.writeInt32LE(d, o);
    h.writeUInt32LE(t.data.byteLength, o);
    parts.push(h, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return encodeFrame(FrameType.RESULT, Buffer.concat(parts));
}

export function decodeResult(p: Buffer): { id: number; tensors: ResultTensor[] } {
  const id = p.readUInt32LE(0);
  const n = p.readUInt32LE(4);
  let o = 8;
  const tensors: ResultTensor[] = [];
  for (let i = 0; i < n; i++) {
    const nameLen = p.readUInt16LE(o);
    o += 2;
    const name = p.toString('utf8', o, o + nameLen);
    o += nameLen;
    const dtype = p.readUInt8(o++);
    const nd = p.readUInt8(o++);
    const dims: number[] = [];
    for (let d = 0; d < nd; d++, o += 4) dims.push(p.readInt32LE(o));
    const len = p.readUInt32LE(o);
    o += 4;
    if (o + len > p.length) throw new Error(`RESULT tensor ${name} overruns the frame`);
    const copy = new Uint8Array(len);
    copy.set(p.subarray(o, o + len));
    o += len;
    if (dtype !== DType.FP32 && dtype !== DType.INT32) throw new Error(`RESULT tensor ${name} has unknown dtype ${dtype}`);
    tensors.push({ name, dims, data: dtype === DType.INT32 ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer) });
  }
  return { id, tensors };
}

export function encodeError(id: number, message: string): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32LE(id, 0);
  return encodeFrame(FrameType.ERROR, Buffer.concat([h, Buffer.from(message, 'utf8')]));
}

export function decodeError(p: Buffer): { id: number; message: string } {
  return { id: p.readUInt32LE(0), message: p.toString('utf8', 4) };
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
