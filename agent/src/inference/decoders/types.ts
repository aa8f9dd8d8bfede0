import type { DecodeParamsT } from '../../core/contracts/detector.js';
import type { NmsAttributes } from '../../core/contracts/model.js';
import type { TensorData } from '../engine.js';

/**
 * What every family decoder (one module per family, docs/models.md "Families") gets and gives:
 * the graph's outputs for ONE image, in the order the manifest names them, → boxes in
 * model-input pixels (x1 y1 x2 y2), score and class id. Decoders are pure functions.
 */
export interface DecodeContext {
  readonly netWidth: number;
  readonly netHeight: number;
  readonly numClasses: number;
  readonly params: DecodeParamsT;
  /** Candidates at or below this are dropped (families whose graph does not threshold itself). */
  readonly scoreThreshold: number;
  /** For the families whose NMS runs here. */
  readonly iouThreshold: number;
  readonly maxDetections: number;
  /** tao-batched-nms with the node cut off: the plugin's attributes (inference/nms.ts). */
  readonly batchedNms: NmsAttributes | null;
  /** Class filter: 1 = keep. Applied before NMS where the NMS runs here (as Ultralytics' `classes`). */
  readonly allowed?: Uint8Array | null;
}

export interface DecodedBoxes {
  readonly count: number;
  /** count × 4, x1 y1 x2 y2 in model-input pixels (float64: no extra rounding before the box mapping). */
  readonly boxes: Float64Array;
  readonly scores: Float32Array;
  readonly classes: Int32Array;
}

export type Decoder = (outputs: readonly TensorData[], ctx: DecodeContext) => DecodedBoxes;

/** Grows a DecodedBoxes one row at a time. */
export class BoxList {
  private n = 0;
  private b: Float64Array;
  private s: Float32Array;
  private c: Int32Array;

  constructor(capacity = 64) {
    this.b = new Float64Array(capacity * 4);
    this.s = new Float32Array(capacity);
    this.c = new Int32Array(capacity);
  }

  get length(): number {
    return this.n;
  }

  push(x1: number, y1: number, x2: number, y2: number, score: number, cls: number): void {
    if (this.n === this.s.length) {
      const cap = this.s.length * 2;
      const b = new Float64Array(cap * 4);
      b.set(this.b);
      const s = new Float32Array(cap);
      s.set(this.s);
      const c = new Int32Array(cap);
      c.set(this.c);
      this.b = b;
      this.s = s;
      this.c = c;
    }
    const i = this.n++;
    this.b[i * 4] = x1;
    this.b[i * 4 + 1] = y1;
    this.b[i * 4 + 2] = x2;
    this.b[i * 4 + 3] = y2;
    this.s[i] = score;
    this.c[i] = cls;
  }

  done(): DecodedBoxes {
    return { count: this.n, boxes: this.b.subarray(0, this.n * 4), scores: this.s.subarray(0, this.n), classes: this.c.subarray(0, this.n) };
  }
}

export function need(outputs: readonly TensorData[], i: number, family: string, what: string): TensorData {
  const t = outputs[i];
  if (!t) throw new Error(`${family}: output ${i} (${what}) is missing`);
  return t;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
