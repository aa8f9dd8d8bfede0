/**
 * Reuses the model-input tensors (C·H·W floats: 5.7 MB at 3×384×1248) instead of allocating one
 * per request. Measured in the serving benchmark (docs/benchmarks.md): with a fresh
 * Float32Array per request the main thread spent about a third of its busy time in the garbage
 * collector — large external ArrayBuffers drive V8's external-memory GC. Buffers come back from
 * the ONNX Runtime worker with the result (transferred both ways) and from the batcher once it
 * has copied single items into a batch. Bounded per size, so a burst does not pin memory.
 */
export class TensorPool {
  private readonly free = new Map<number, Float32Array[]>();

  constructor(private readonly maxPerSize = 8) {}

  /** A tensor of `length` floats with arbitrary contents (the caller overwrites all of it). */
  take(length: number): Float32Array {
    return this.free.get(length)?.pop() ?? new Float32Array(length);
  }

  /** Hand a tensor back; the caller must not touch it afterwards. Detached buffers are ignored. */
  give(tensor: Float32Array): void {
    if (tensor.length === 0 || tensor.byteOffset !== 0 || tensor.byteLength !== tensor.buffer.byteLength) return;
    let list = this.free.get(tensor.length);
    if (!list) this.free.set(tensor.length, (list = []));
    if (list.length < this.maxPerSize) list.push(tensor);
  }

  /** Pooled tensors of `length` floats (tests). */
  size(length: number): number {
    return this.free.get(length)?.length ?? 0;
  }
}
