/**
 * The one interface every backend implements (issue #5 §4): ONNX Runtime in worker threads
 * (ort-engine.ts) and the TensorRT runner process on Jetsons. A batch is one contiguous
 * NCHW float32 tensor; outputs come back whole (first dim = batch).
 */
export interface TensorData {
  readonly dims: readonly number[];
  /** float16 outputs arrive as float32, int64/int8/uint8/bool ones as int32 (values kept; `datatype` says what the graph gave). */
  readonly data: Float32Array | Int32Array;
  /** KServe v2 datatype of the graph's output when it is not what `data` holds (FP16, INT64, INT8, UINT8, BOOL). */
  readonly datatype?: string;
}

export type EngineOutputs = Readonly<Record<string, TensorData>>;

export interface EngineInfo {
  readonly backend: 'onnxruntime' | 'tensorrt';
  readonly inputName: string;
  /** [C, H, W] of one image. */
  readonly inputShape: readonly [number, number, number];
  readonly outputNames: readonly string[];
  readonly maxBatch: number;
  /** Batches the engine takes at once (ORT: workers × PIPELINE_DEPTH, running or next in line). */
  readonly concurrency: number;
}

export interface Engine {
  readonly info: EngineInfo;
  load(): Promise<void>;
  /** `runs` inferences on a zero tensor at batch 1 (first runs allocate arenas and pick kernels). */
  warmup(runs: number): Promise<void>;
  infer(input: Float32Array, batch: number): Promise<EngineOutputs>;
  unload(): Promise<void>;
}

/** Slice item `i` of a batched output along its first dimension. */
export function sliceBatch(t: TensorData, i: number): TensorData {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  return { dims: [1, ...t.dims.slice(1)], data: t.data.subarray(i * per, (i + 1) * per), ...(t.datatype ? { datatype: t.datatype } : {}) };
}
