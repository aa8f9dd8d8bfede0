import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { WorkerReply, WorkerRequest, WorkerInit } from './ort-protocol.js';
import { floatsToHalf, halfToFloats } from './half.js';

/**
 * One ONNX Runtime session per worker thread: `session.run()` runs the native Run
 * synchronously on the calling thread (docs/reference/serving-runtime.md "ONNX Runtime and the event loop"), so it must not be the main thread.
 * Loaded as compiled JS from agent/dist (see ort-engine.ts workerUrl).
 */
const port = parentPort;
if (!port) throw new Error('ort-worker must run in a worker thread');
const init = workerData as WorkerInit;

const sessionPromise = ort.InferenceSession.create(init.model, {
  intraOpNumThreads: init.intraOpThreads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  // ORT's intra-op threads spin while idle by default; on a 2-core board that starves the main
  // thread (HTTP, sharp callbacks) between requests. Session config key from ORT's
  // onnxruntime_session_options_config_keys.h.
  extra: { session: { intra_op: { allow_spinning: '0' } } },
});

sessionPromise.then(
  (s) => port.postMessage({ type: 'loaded', inputNames: s.inputNames, outputNames: s.outputNames } satisfies WorkerReply),
  (err: unknown) => port.postMessage({ type: 'load-error', message: err instanceof Error ? err.message : String(err) } satisfies WorkerReply),
);

// The engine posts up to two runs ahead (ort-engine.ts PIPELINE_DEPTH); they run one after
// another, in arrival order, never side by side on the same intra-op threads.
// A release jumps the queue: runs posted before it and not started yet are answered with an
// error instead of run, so an unload waits for at most the run in progress.
let chain: Promise<void> = Promise.resolve();
let releasing = false;
port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'release') releasing = true;
  chain = chain.then(() => handle(msg));
});

async function handle(msg: WorkerRequest): Promise<void> {
  const session = await sessionPromise;
  if (msg.type === 'run' && releasing) {
    port?.postMessage({ type: 'run-error', id: msg.id, message: 'the engine is unloading' } satisfies WorkerReply);
    return;
  }
  if (msg.type === 'release') {
    await session.release();
    port?.postMessage({ type: 'released' } satisfies WorkerReply);
    return;
  }
  try {
    const batch = msg.dims[0] ?? 1;
    const feeds: Record<string, ort.Tensor> = {
      [init.inputName]: init.inputType === 'float16' ? new ort.Tensor('float16', floatsToHalf(msg.input), msg.dims) : new ort.Tensor('float32', msg.input, msg.dims),
    };
    for (const x of init.extraInputs ?? []) feeds[x.name] = extraInput(x, batch);
    const out = await session.run(feeds);
    const outputs: Record<string, { dims: number[]; data: Float32Array | Int32Array; datatype?: string }> = {};
    const transfer: ArrayBuffer[] = [];
    for (const name of session.outputNames) {
      const t = out[name];
      if (!t) continue;
      // Copy into an ArrayBuffer we own so it can be transferred (ORT's may be external).
      const { data, datatype } = ownedCopy(t);
      outputs[name] = { dims: [...t.dims], data, ...(datatype ? { datatype } : {}) };
      transfer.push(data.buffer as ArrayBuffer);
    }
    // The input goes back too (the run is over, ORT holds no reference): the main thread reuses it.
    transfer.push(msg.input.buffer as ArrayBuffer);
    port?.postMessage({ type: 'result', id: msg.id, outputs, input: msg.input } satisfies WorkerReply, transfer);
  } catch (err) {
    port?.postMessage({ type: 'run-error', id: msg.id, message: err instanceof Error ? err.message : String(err) } satisfies WorkerReply);
  }
}

/** KServe v2 names of the ONNX Runtime element types converted on the way out. */
const KSERVE_TYPE: Readonly<Record<string, string>> = { float16: 'FP16', int64: 'INT64', int8: 'INT8', uint8: 'UINT8', bool: 'BOOL', int16: 'INT16', uint16: 'UINT16', float64: 'FP64' };

/**
 * Outputs leave the worker as float32 or int32 (what decoders read), values kept: float16 → float32
 * exactly; integer types → int32 (class ids, counts and indices fit). `datatype` keeps the truth.
 */
function ownedCopy(t: ort.Tensor): { data: Float32Array | Int32Array; datatype?: string } {
  switch (t.type) {
    case 'float32':
      return { data: new Float32Array(t.data as Float32Array) };
    case 'int32':
      return { data: new Int32Array(t.data as Int32Array) };
    case 'float16':
      return { data: halfToFloats(t.data as Uint16Array), datatype: 'FP16' };
    case 'float64':
      return { data: Float32Array.from(t.data as Float64Array), datatype: 'FP64' };
    case 'int64':
    case 'uint64':
      return { data: Int32Array.from(t.data as BigInt64Array, (v) => Number(v)), datatype: KSERVE_TYPE[t.type] ?? 'UINT64' };
    case 'bool':
      return { data: Int32Array.from(t.data as Uint8Array), datatype: 'BOOL' };
    default:
      return { data: Int32Array.from(t.data as ArrayLike<number>), datatype: KSERVE_TYPE[t.type] ?? t.type.toUpperCase() };
  }
}

function extraInput(x: NonNullable<WorkerInit['extraInputs']>[number], batch: number): ort.Tensor {
  const n = x.values.length;
  const dims = [batch, n];
  const all = Array.from({ length: batch * n }, (_, i) => x.values[i % n]!);
  if (x.dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(all, (v) => BigInt(Math.trunc(v))), dims);
  if (x.dtype === 'int32') return new ort.Tensor('int32', Int32Array.from(all), dims);
  return new ort.Tensor('float32', Float32Array.from(all), dims);
}
