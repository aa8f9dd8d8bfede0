import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { WorkerReply, WorkerRequest, WorkerInit } from './ort-protocol.js';

/**
 * One ONNX Runtime session per worker thread: `session.run()` runs the native Run
 * synchronously on the calling thread (serving.md §6.3), so it must not be the main thread.
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
    const feeds = { [init.inputName]: new ort.Tensor('float32', msg.input, msg.dims) };
    const out = await session.run(feeds);
    const outputs: Record<string, { dims: number[]; data: Float32Array | Int32Array }> = {};
    const transfer: ArrayBuffer[] = [];
    for (const name of session.outputNames) {
      const t = out[name];
      if (!t) continue;
      // Copy into an ArrayBuffer we own so it can be transferred (ORT's may be external).
      const data = t.type === 'int32' ? new Int32Array(t.data as Int32Array) : new Float32Array(t.data as Float32Array);
      outputs[name] = { dims: [...t.dims], data };
      transfer.push(data.buffer);
    }
    // The input goes back too (the run is over, ORT holds no reference): the main thread reuses it.
    transfer.push(msg.input.buffer as ArrayBuffer);
    port?.postMessage({ type: 'result', id: msg.id, outputs, input: msg.input } satisfies WorkerReply, transfer);
  } catch (err) {
    port?.postMessage({ type: 'run-error', id: msg.id, message: err instanceof Error ? err.message : String(err) } satisfies WorkerReply);
  }
}
