import type { NmsAttributes, Servable } from '../core/contracts/model.js';
import { AgentError } from '../core/errors.js';
import type { Batcher, Priority } from './batcher.js';
import { sliceBatch, type Engine, type EngineOutputs } from './engine.js';
import { batchedNms } from './nms.js';
import { toDetections, type Detection } from './postprocess.js';
import type { Placement } from './letterbox.js';
import { decodeImage } from './preprocess.js';
import type { TensorPool } from './tensor-pool.js';
import { writeTensor } from './tensor.js';

export interface DetectOptions {
  /** Score threshold applied after NMS; default the package's nms.confidenceThreshold. */
  readonly threshold?: number;
  readonly maxDetections?: number;
  /** `low`: evaluation traffic, behind every normal request (Batcher). */
  readonly priority?: Priority;
}

export interface Timings {
  decodeMs: number;
  preprocessMs: number;
  inferMs: number;
  postprocessMs: number;
  totalMs: number;
}

export interface DetectResult {
  readonly model: { readonly name: string; readonly version: string };
  readonly image: { readonly width: number; readonly height: number };
  readonly detections: Detection[];
  readonly timings: Timings;
}

export interface RuntimeParts {
  readonly servable: Servable;
  readonly engine: Engine;
  readonly batcher: Batcher;
  /** NMS in code (ONNX graph cut before BatchedNMS), or null when the outputs are BatchedNMS's four. */
  readonly nms: NmsAttributes | null;
  /** Output names in post-processing order. */
  readonly outputNames: readonly string[];
  readonly maxPixels: number;
  readonly defaultMaxDetections: number;
  /** Input tensors are taken from here (the engine hands them back after the run). */
  readonly pool?: TensorPool;
}

const ms = (t0: number): number => Math.round((performance.now() - t0) * 1000) / 1000;

/** One loaded model: the detect pipeline (decode → tensor → batcher/engine → NMS → boxes). */
export class ModelRuntime {
  inflight = 0;
  private drainWaiters: (() => void)[] = [];

  constructor(readonly parts: RuntimeParts) {}

  get name(): string {
    return this.parts.servable.model.name;
  }
  get version(): string {
    return this.parts.servable.model.version;
  }
  get servable(): Servable {
    return this.parts.servable;
  }

  enter(): void {
    this.inflight++;
  }
  leave(): void {
    this.inflight--;
    if (this.inflight === 0) for (const w of this.drainWaiters.splice(0)) w();
  }
  /** Resolves when no request is using this model any more. */
  drained(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  async detect(bytes: Uint8Array, o: DetectOptions = {}, onStage?: (stage: string, ms: number) => void): Promise<DetectResult> {
    const m = this.parts.servable.model;
    const t0 = performance.now();
    const { tensor, placement, decodeMs, preprocessMs } = await this.toTensor(bytes);
    const t2 = performance.now();
    const out = await this.parts.batcher.submit(tensor, o.priority);
    const inferMs = ms(t2);
    const t3 = performance.now();
    const nmsOut = this.nmsOutputs(out);
    const detections = toDetections(nmsOut, placement, {
      labels: m.classes,
      threshold: o.threshold ?? m.nms.confidenceThreshold,
      maxDetections: o.maxDetections ?? this.parts.defaultMaxDetections,
      normalized: this.parts.nms?.isNormalized ?? true,
    });
    const postprocessMs = ms(t3);
    const timings = { decodeMs, preprocessMs, inferMs, postprocessMs, totalMs: ms(t0) };
    if (onStage) for (const [k, v] of Object.entries(timings)) if (k !== 'totalMs') onStage(k.replace(/Ms$/, ''), v);
    return {
      model: { name: m.name, version: m.version },
      image: { width: placement.srcWidth, height: placement.srcHeight },
      detections,
      timings,
    };
  }

  /**
   * Decode + tensor write. The decoded pixels (1.4 MB at 1248×384) die here, before the request
   * waits for the engine: held across that wait (~100 ms at concurrency 8) they outlived young-
   * generation GCs, were promoted, and their external memory set off a major GC every few
   * requests (docs/benchmarks.md, 2026-11-28 04:55).
   */
  private async toTensor(bytes: Uint8Array): Promise<{ tensor: Float32Array; placement: Placement; decodeMs: number; preprocessMs: number }> {
    const m = this.parts.servable.model;
    const t0 = performance.now();
    const img = await decodeImage(bytes, {
      netWidth: m.input.width,
      netHeight: m.input.height,
      resize: m.input.resize,
      gray: m.input.channels === 1,
      maxPixels: this.parts.maxPixels,
    });
    const decodeMs = ms(t0);
    const t1 = performance.now();
    const len = m.input.channels * m.input.width * m.input.height;
    const tensor = this.parts.pool?.take(len) ?? new Float32Array(len);
    writeTensor(img.pixels, img.channels, img.placement, { channels: m.input.channels, colorOrder: m.input.colorOrder, mean: m.input.mean, scale: m.input.scale }, tensor);
    return { tensor, placement: img.placement, decodeMs, preprocessMs: ms(t1) };
  }

  /**
   * Raw tensor → the four BatchedNMS tensors for the whole batch (tlt-models.md §8.1), the same
   * shape whichever backend ran it (KServe infer). `input` is transferred to the engine.
   */
  async inferBatchedNms(input: Float32Array, batch: number): Promise<EngineOutputs> {
    const out = batch === 1 ? await this.parts.batcher.submit(input) : await this.parts.engine.infer(input, batch);
    const per = batch === 1 ? [out] : Array.from({ length: batch }, (_, i) => Object.fromEntries(Object.entries(out).map(([k, t]) => [k, sliceBatch(t, i)])));
    const K = this.parts.nms?.keepTopK ?? ((out[this.parts.outputNames[2] ?? '']?.dims[1]) ?? 0);
    const count = new Int32Array(batch);
    const boxes = new Float32Array(batch * K * 4);
    const scores = new Float32Array(batch * K);
    const classes = new Float32Array(batch * K);
    per.forEach((o, i) => {
      const r = this.nmsOutputs(o);
      count[i] = r.count;
      boxes.set(r.boxes.subarray(0, K * 4), i * K * 4);
      scores.set(r.scores.subarray(0, K), i * K);
      classes.set(r.classes.subarray(0, K), i * K);
    });
    return {
      BatchedNMS: { dims: [batch, 1], data: count },
      BatchedNMS_1: { dims: [batch, K, 4], data: boxes },
      BatchedNMS_2: { dims: [batch, K], data: scores },
      BatchedNMS_3: { dims: [batch, K], data: classes },
    };
  }

  private nmsOutputs(out: EngineOutputs): { count: number; boxes: Float32Array; scores: Float32Array; classes: Float32Array } {
    const names = this.parts.outputNames;
    const get = (i: number) => {
      const t = out[names[i] ?? ''];
      if (!t) throw new AgentError('ENGINE_FAILED', `The engine returned no output "${names[i]}".`);
      return t;
    };
    if (this.parts.nms) {
      const boxes = get(0);
      const scores = get(1);
      const nBoxes = scores.dims[1] ?? 0;
      return batchedNms(boxes.data, scores.data, nBoxes, this.parts.nms);
    }
    // BatchedNMS's four outputs: keep count, boxes, scores, classes (tlt-models.md §8.1).
    const count = get(0).data[0] ?? 0;
    return { count, boxes: get(1).data as Float32Array, scores: get(2).data as Float32Array, classes: get(3).data as Float32Array };
  }
}
