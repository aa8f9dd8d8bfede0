import { AgentError } from '../core/errors.js';
import { sliceBatch, type Engine, type EngineInfo, type EngineOutputs } from './engine.js';
import type { TensorPool } from './tensor-pool.js';

/**
 * inference.maxBatch 0 (auto): the dynamic batch limit for a backend. A GPU engine runs a batch
 * of 4 in much less than four single runs, which is what a dynamic batcher is for (docs/reference/serving-runtime.md
 * "Dynamic batching"). ONNX Runtime on the CPU runs a batch in as long as its images one after another, and
 * copying the images into the batch tensor is extra main-thread work: with batches the server
 * spent 34 ms of CPU per request against 29 ms without, at the same inference throughput
 * (docs/benchmarks.md, 2026-11-28 04:31).
 */
export function autoMaxBatch(backend: EngineInfo['backend']): number {
  return backend === 'tensorrt' ? 4 : 1;
}

export interface BatcherOptions {
  readonly maxBatch: number;
  readonly delayMs: number;
  readonly maxQueue: number;
  readonly onBatch?: (size: number, queueMs: readonly number[]) => void;
  readonly now?: () => number;
  /** Single-item tensors go back here once copied into a batch; batch tensors come from it. */
  readonly pool?: TensorPool;
  /**
   * A low-priority item may take every engine slot only when no normal item arrived for this
   * long; otherwise one slot at most, so a live request waits for one low run at worst.
   */
  readonly lowQuietMs?: number;
}

/** `low`: evaluation traffic, served only when no normal request waits (docs/http-api.md, priority). */
export type Priority = 'normal' | 'low';

interface Item {
  readonly tensor: Float32Array;
  readonly at: number;
  resolve(o: EngineOutputs): void;
  reject(e: unknown): void;
}

/**
 * Dynamic batching in front of an engine (docs/reference/serving-runtime.md "Dynamic batching", Triton's dynamic batcher): single
 * images queue in arrival order; a batch leaves as soon as maxBatch images wait or the oldest
 * has waited `delayMs`, and only while the engine has a free slot (so under load batches form
 * from what queued while the engine was busy). A full queue rejects with OVERLOADED.
 */
export class Batcher {
  private readonly queue: Item[] = [];
  private readonly lowQueue: Item[] = [];
  private running = 0;
  private lowRunning = 0;
  private lastNormalAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;

  constructor(
    private readonly engine: Engine,
    private readonly o: BatcherOptions,
  ) {
    this.now = o.now ?? (() => performance.now());
  }

  get depth(): number {
    return this.queue.length + this.lowQueue.length;
  }

  /**
   * One image tensor (C·H·W floats, transferred to the engine) → its outputs (batch dim 1).
   * `low` items wait until no normal item is queued and form batches of their own.
   */
  submit(tensor: Float32Array, priority: Priority = 'normal'): Promise<EngineOutputs> {
    if (this.depth >= this.o.maxQueue) {
      return Promise.reject(
        new AgentError('OVERLOADED', `The inference queue is full (${this.o.maxQueue} waiting).`, { hint: 'Retry after the Retry-After delay, or raise inference.maxQueue.' }),
      );
    }
    return new Promise<EngineOutputs>((resolve, reject) => {
      const item = { tensor, at: this.now(), resolve, reject };
      if (priority === 'low') this.lowQueue.push(item);
      else {
        this.lastNormalAt = item.at;
        this.queue.push(item);
      }
      this.pump();
    });
  }

  private pump(): void {
    this.pumpNormal();
    const maxBatch = Math.max(1, Math.min(this.o.maxBatch, this.engine.info.maxBatch));
    const quiet = this.now() - this.lastNormalAt >= (this.o.lowQuietMs ?? 1000);
    const lowSlots = quiet ? this.engine.info.concurrency : 1;
    while (this.queue.length === 0 && this.lowQueue.length > 0 && this.running < this.engine.info.concurrency && this.lowRunning < lowSlots) {
      void this.run(this.lowQueue.splice(0, maxBatch), true);
    }
  }

  private pumpNormal(): void {
    const maxBatch = Math.max(1, Math.min(this.o.maxBatch, this.engine.info.maxBatch));
    while (this.queue.length > 0 && this.running < this.engine.info.concurrency) {
      const oldest = this.queue[0]!;
      const waited = this.now() - oldest.at;
      if (this.queue.length < maxBatch && waited < this.o.delayMs && this.running === 0) {
        // Only wait for company when the engine is idle; when it is busy, whatever queues
        // meanwhile becomes the next batch anyway.
        if (!this.timer) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, this.o.delayMs - waited);
        }
        return;
      }
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      void this.run(this.queue.splice(0, maxBatch));
    }
  }

  private async run(items: Item[], low = false): Promise<void> {
    this.running++;
    if (low) this.lowRunning++;
    const start = this.now();
    this.o.onBatch?.(
      items.length,
      items.map((i) => start - i.at),
    );
    try {
      let input: Float32Array;
      if (items.length === 1) input = items[0]!.tensor;
      else {
        const per = items[0]!.tensor.length;
        input = this.o.pool?.take(per * items.length) ?? new Float32Array(per * items.length);
        items.forEach((it, i) => {
          input.set(it.tensor, i * per);
          this.o.pool?.give(it.tensor);
        });
      }
      const out = await this.engine.infer(input, items.length);
      // A batch of one gets the outputs whole: not every output is batch-major (ONNX
      // NonMaxSuppression's selected_indices is [M,3] of (batch, class, box); slicing its first
      // dimension as a batch kept one row, i.e. one detection).
      if (items.length === 1) items[0]!.resolve(out);
      else
        items.forEach((it, i) => {
          const mine: Record<string, EngineOutputs[string]> = {};
          for (const [name, t] of Object.entries(out)) mine[name] = sliceBatch(t, i);
          it.resolve(mine);
        });
    } catch (err) {
      for (const it of items) it.reject(err);
    } finally {
      this.running--;
      if (low) this.lowRunning--;
      this.pump();
      if (this.running === 0 && this.depth === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.running === 0 && this.depth === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Fails everything still queued (used when an engine is torn down). */
  rejectAll(err: unknown): void {
    for (const it of [...this.queue.splice(0), ...this.lowQueue.splice(0)]) it.reject(err);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
