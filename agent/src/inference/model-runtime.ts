import type { NmsAttributes, Servable } from '../core/contracts/model.js';
import { AgentError } from '../core/errors.js';
import type { Batcher, Priority } from './batcher.js';
import { sliceBatch, type Engine, type EngineOutputs } from './engine.js';
import { batchedNms } from './nms.js';
import { boxesToDetections, type Detection } from './postprocess.js';
import { DECODERS } from './decoders/registry.js';
import type { DetectorFamilyName } from '../core/contracts/detector.js';
import type { Placement } from './letterbox.js';
import { decodeImage } from './preprocess.js';
import type { TensorPool } from './tensor-pool.js';
import { writeTensor } from './tensor.js';

export interface DetectOptions {
  /** Score threshold; default the package's nms.confidenceThreshold (the family's upstream default). */
  readonly threshold?: number;
  readonly maxDetections?: number;
  /** NMS IoU, for the families whose NMS runs here (REQUEST_OPTION_UNSUPPORTED otherwise). */
  readonly iou?: number;
  /** Class filter by label; default the package's nms.classes. */
  readonly classes?: readonly string[];
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
    this.checkOptions(o);
    const t0 = performance.now();
    const { tensor, placement, decodeMs, preprocessMs } = await this.toTensor(bytes);
    const t2 = performance.now();
    const out = await this.parts.batcher.submit(tensor, o.priority);
    const inferMs = ms(t2);
    const t3 = performance.now();
    const detections = this.postprocess(out, placement, o);
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

  get family(): DetectorFamilyName {
    return this.parts.servable.model.family ?? 'tao-batched-nms';
  }

  /** Checks the per-request options against the model before any work is done. */
  checkOptions(o: DetectOptions): void {
    const m = this.parts.servable.model;
    if (o.iou !== undefined && !DECODERS[this.family].nmsInCode) {
      throw new AgentError('REQUEST_OPTION_UNSUPPORTED', `Model ${m.name}@${m.version} (${this.family}) has its NMS in the graph or the TensorRT plugin; iou cannot be set per request.`, {
        hint: 'Leave iou out (docs/http-api.md "Per-model thresholds").',
      });
    }
    const unknown = o.classes?.filter((c) => !m.classes.includes(c));
    if (unknown && unknown.length > 0) {
      throw new AgentError('BAD_REQUEST', `Query parameter classes names labels model ${m.name}@${m.version} does not have: ${unknown.join(', ')}.`, { hint: `Labels: ${m.classes.join(', ')}.` });
    }
  }

  /** Engine outputs of one image → detections in image pixels, through the family's decoder. */
  private postprocess(out: EngineOutputs, placement: Placement, o: DetectOptions): Detection[] {
    const m = this.parts.servable.model;
    const family = this.family;
    const only = o.classes ?? m.nms.classes;
    const allowed = only ? Uint8Array.from(m.classes, (c) => (only.includes(c) ? 1 : 0)) : null;
    const threshold = o.threshold ?? m.nms.confidenceThreshold;
    const maxDetections = o.maxDetections ?? m.nms.maxDetections ?? this.parts.defaultMaxDetections;
    const names = family === 'tao-batched-nms' ? this.parts.outputNames : (m.decode?.outputs ?? m.outputs);
    const tensors = names.map((n) => {
      const t = out[n];
      if (!t) throw new AgentError('ENGINE_FAILED', `The engine returned no output "${n}".`);
      return t;
    });
    const boxes = DECODERS[family].decode(tensors, {
      netWidth: m.input.width,
      netHeight: m.input.height,
      numClasses: m.classes.length,
      params: m.decode ?? {},
      scoreThreshold: threshold,
      iouThreshold: o.iou ?? m.nms.iouThreshold,
      maxDetections,
      batchedNms: family === 'tao-batched-nms' ? this.parts.nms : null,
      allowed,
    });
    return boxesToDetections(boxes, placement, { labels: m.classes, threshold, maxDetections, allowed });
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
      ...(m.input.resample ? { resample: m.input.resample } : {}),
      ...(m.input.sizeRounding ? { sizeRounding: m.input.sizeRounding } : {}),
    });
    const decodeMs = ms(t0);
    const t1 = performance.now();
    const len = m.input.channels * m.input.width * m.input.height;
    const tensor = this.parts.pool?.take(len) ?? new Float32Array(len);
    writeTensor(
      img.pixels,
      img.channels,
      img.placement,
      {
        channels: m.input.channels,
        colorOrder: m.input.colorOrder,
        mean: m.input.mean,
        scale: m.input.scale,
        ...(m.input.std ? { std: m.input.std } : {}),
        ...(m.input.pad !== undefined ? { pad: m.input.pad } : {}),
      },
      tensor,
    );
    return { tensor, placement: img.placement, decodeMs, preprocessMs: ms(t1) };
  }

  /** Raw tensor → the graph's own outputs (KServe infer for families other than tao-batched-nms). */
  async inferRaw(input: Float32Array, batch: number): Promise<EngineOutputs> {
    return batch === 1 ? await this.parts.batcher.submit(input) : await this.parts.engine.infer(input, batch);
  }

  /**
   * Raw tensor → the four BatchedNMS tensors for the whole batch (docs/reference/yolov3-io.md "BatchedNMS outputs"), the same
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
    // BatchedNMS's four outputs: keep count, boxes, scores, classes (docs/reference/yolov3-io.md "BatchedNMS outputs").
    const count = get(0).data[0] ?? 0;
    return { count, boxes: get(1).data as Float32Array, scores: get(2).data as Float32Array, classes: get(3).data as Float32Array };
  }
}
