/**
 * Reuses the model-input tensors (C·H·W floats: 5.7 MB at 3×384×1248) instead of allocating one
 * per request. Measured in the serving benchmark (docs/benchmarks.md): with a fresh
 * Float32Array per request the main thread spent about a third of its busy time in the garbage
 * collector — large external ArrayBuffers drive V8's external-memory GC. Buffers come back from
 * the ONNX Runtime worker with the result (transferred both ways) and from the batcher once it
 * has copied single items into a batch.
 *
 * Bounded in total, which also bounds each size: every batch length n·C·H·W has its own
 * bucket, so a bound per size alone let a burst pin (1+2+3+4)·8 single items at batch 4 —
 * hundreds of MB on a 4 GB Nano, held while idle. The pool keeps at most `maxItems` single-item
 * tensors' worth of bytes (default 4: 23 MB at 3×384×1248). The single-item length is the
 * smallest length seen (every request takes one; batches are multiples of it).
 * Single items are preferred over batch tensors — every request needs one, a batch only when
 * requests pile up — so larger buckets are evicted first and a batch tensor that does not fit is
 * dropped to the garbage collector.
 */
export class TensorPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** Floats held in `free`. */
  private retained = 0;
  private single = Infinity;

  constructor(private readonly maxItems = 4) {}

  /** A tensor of `length` floats with arbitrary contents (the caller overwrites all of it). */
  take(length: number): Float32Array {
    if (length > 0) this.single = Math.min(this.single, length);
    const t = this.free.get(length)?.pop();
    if (!t) return new Float32Array(length);
    this.retained -= length;
    return t;
  }

  /** Hand a tensor back; the caller must not touch it afterwards. Detached buffers are ignored. */
  give(tensor: Float32Array): void {
    const n = tensor.length;
    if (n === 0 || tensor.byteOffset !== 0 || tensor.byteLength !== tensor.buffer.byteLength) return;
    this.single = Math.min(this.single, n);
    const cap = this.maxItems * this.single;
    let list = this.free.get(n);
    // Make room by dropping longer (batch) tensors, longest first; never shorter ones.
    if (this.retained + n > cap) {
      for (const len of [...this.free.keys()].filter((l) => l > n).sort((a, b) => b - a)) {
        const longer = this.free.get(len) ?? [];
        while (longer.length > 0 && this.retained + n > cap) {
          longer.pop();
          this.retained -= len;
        }
        if (longer.length === 0) this.free.delete(len);
      }
    }
    if (this.retained + n > cap) return;
    if (!list) this.free.set(n, (list = []));
    list.push(tensor);
    this.retained += n;
  }

  /** Pooled tensors of `length` floats (tests). */
  size(length: number): number {
    return this.free.get(length)?.length ?? 0;
  }

  /** Bytes held by pooled tensors. */
  get retainedBytes(): number {
    return this.retained * Float32Array.BYTES_PER_ELEMENT;
  }
}
