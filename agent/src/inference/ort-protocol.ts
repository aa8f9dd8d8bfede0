/** Messages between OrtEngine (main thread) and ort-worker (one session per worker). */
export interface WorkerInit {
  readonly model: Uint8Array;
  readonly inputName: string;
  readonly intraOpThreads: number;
  /** The graph input's element type; float16 inputs get half-float bits (inference/half.ts). */
  readonly inputType?: 'float32' | 'float16';
  /** Constant extra inputs, fed [batch, values.length] with every run. */
  readonly extraInputs?: readonly { readonly name: string; readonly dtype: 'float32' | 'int32' | 'int64'; readonly values: readonly number[] }[];
}

export type WorkerRequest = { type: 'run'; id: number; input: Float32Array; dims: number[] } | { type: 'release' };

export type WorkerReply =
  | { type: 'loaded'; inputNames: readonly string[]; outputNames: readonly string[] }
  | { type: 'load-error'; message: string }
    /** `input` is the request's input buffer, transferred back for reuse (TensorPool). */
  | { type: 'result'; id: number; outputs: Record<string, { dims: number[]; data: Float32Array | Int32Array; datatype?: string }>; input: Float32Array }
  | { type: 'run-error'; id: number; message: string }
  | { type: 'released' };
