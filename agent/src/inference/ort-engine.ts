import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { exists } from '../platform/fs.js';
import type { Engine, EngineInfo, EngineOutputs } from './engine.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './ort-protocol.js';
import type { TensorPool } from './tensor-pool.js';

export interface OrtEngineOptions {
  /** Serialized ONNX model (already prepared: no TensorRT-only nodes). */
  readonly model: Uint8Array;
  readonly inputName: string;
  readonly inputShape: readonly [number, number, number];
  readonly outputNames: readonly string[];
  readonly maxBatch: number;
  readonly workers: number;
  /** Per worker; keep workers × intraOp ≤ cores (docs/reference/serving-runtime.md "ONNX Runtime and the event loop"). */
  readonly intraOpThreads: number;
  readonly log: Logger;
  /** Receives each input buffer back from the worker after its run. */
  readonly pool?: TensorPool;
  /** float16: the worker converts each input to half-float bits. */
  readonly inputType?: 'float32' | 'float16';
  readonly extraInputs?: WorkerInit['extraInputs'];
}

interface Pending {
  resolve(o: EngineOutputs): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  /** Runs posted to this worker and not answered yet (≤ PIPELINE_DEPTH). */
  inflight: number;
  pending: Map<number, Pending>;
}

/**
 * Runs posted to one worker at a time: the one it is running and the next, waiting in its
 * message port. With one, the worker idled from the end of each run until the main thread
 * had handled the result and posted the next batch; the main thread is often mid-way through
 * a tensor write or an HTTP response then, and those gaps cost ~15 % of the worker's time at
 * concurrency 4 (docs/benchmarks.md). The worker runs its requests one after another.
 */
export const PIPELINE_DEPTH = 2;

/**
 * The worker script is compiled JS. From agent/dist it sits next to this file; when this
 * module runs from TypeScript sources (tests), the built copy in agent/dist is used
 * (`npm test` builds first).
 */
export async function ortWorkerUrl(): Promise<URL> {
  const here = new URL('./ort-worker.js', import.meta.url);
  if (await exists(fileURLToPath(here))) return here;
  const built = fileURLToPath(here).replace(/([\\/])agent\1src\1/, '$1agent$1dist$1');
  if (await exists(built)) return pathToFileURL(built);
  throw new AgentError('ENGINE_FAILED', `The ONNX Runtime worker script is missing (${built}).`, { hint: 'Run `npm run build`.' });
}

/**
 * ONNX Runtime backend: one session per worker thread (its run() blocks the calling thread,
 * docs/reference/serving-runtime.md "ONNX Runtime and the event loop"). Inputs are transferred to the worker, not copied.
 */
export class OrtEngine implements Engine {
  readonly info: EngineInfo;
  private slots: Slot[] = [];
  private readonly waiting: (() => void)[] = [];
  private nextId = 1;
  private unloading = false;
  private url: URL | undefined;

  constructor(private readonly o: OrtEngineOptions) {
    this.info = {
      backend: 'onnxruntime',
      inputName: o.inputName,
      inputShape: o.inputShape,
      outputNames: o.outputNames,
      maxBatch: o.maxBatch,
      concurrency: o.workers * PIPELINE_DEPTH,
    };
  }

  async load(): Promise<void> {
    // Keep the native addon loaded by the main thread for the life of the process: Node
    // dlcloses an addon when the last thread that loaded it exits, and onnxruntime-node's
    // binding then fails to load in the next worker ("Module did not self-register") because
    // the library stays mapped and its registration does not run again.
    await import('onnxruntime-node');
    this.url = await ortWorkerUrl();
    const results = await Promise.allSettled(Array.from({ length: this.o.workers }, () => this.spawn()));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      await this.unload();
      throw failed.reason;
    }
    this.slots = results.map((r) => (r as PromiseFulfilledResult<Slot>).value);
  }

  private spawn(): Promise<Slot> {
    const init: WorkerInit = {
      model: this.o.model,
      inputName: this.o.inputName,
      intraOpThreads: this.o.intraOpThreads,
      ...(this.o.inputType ? { inputType: this.o.inputType } : {}),
      ...(this.o.extraInputs ? { extraInputs: this.o.extraInputs } : {}),
    };
    const worker = new Worker(this.url!, { workerData: init, execArgv: [] });
    const slot: Slot = { worker, inflight: 0, pending: new Map() };
    return new Promise<Slot>((resolve, reject) => {
      let loaded = false;
      worker.on('message', (m: WorkerReply) => {
        switch (m.type) {
          case 'loaded': {
            const missing = this.o.outputNames.filter((n) => !m.outputNames.includes(n));
            if (missing.length > 0) {
              void worker.terminate();
              reject(new AgentError('ENGINE_FAILED', `The model has no output ${missing.join(', ')} (it has ${m.outputNames.join(', ')}).`));
              return;
            }
            loaded = true;
            resolve(slot);
            return;
          }
          case 'load-error':
            void worker.terminate();
            reject(new AgentError('ENGINE_FAILED', `ONNX Runtime could not load the model: ${m.message}`, { hint: 'Check that the model was prepared for ONNX Runtime.' }));
            return;
          case 'result':
          case 'run-error': {
            const p = slot.pending.get(m.id);
            slot.pending.delete(m.id);
            this.release(slot);
            if (m.type === 'result') {
              this.o.pool?.give(m.input);
              p?.resolve(m.outputs);
            }
            else p?.reject(new AgentError('ENGINE_FAILED', `ONNX Runtime failed to run: ${m.message}`));
            return;
          }
          case 'released':
            return;
        }
      });
      worker.on('error', (err) => {
        this.o.log.error({ err }, 'ONNX Runtime worker crashed');
        if (!loaded) reject(new AgentError('ENGINE_FAILED', `The ONNX Runtime worker failed: ${err.message}`, { cause: err }));
      });
      worker.on('exit', (code) => {
        for (const p of slot.pending.values()) p.reject(new AgentError('ENGINE_FAILED', `The ONNX Runtime worker exited (code ${code}) during inference.`));
        slot.pending.clear();
        if (!loaded) reject(new AgentError('ENGINE_FAILED', `The ONNX Runtime worker exited (code ${code}) while loading.`));
        else if (!this.unloading) void this.replace(slot);
      });
    });
  }

  /** A worker that died is replaced so the engine keeps its concurrency. */
  private async replace(dead: Slot): Promise<void> {
    const i = this.slots.indexOf(dead);
    if (i < 0) return;
    try {
      const fresh = await this.spawn();
      if (this.unloading) {
        await fresh.worker.terminate();
        return;
      }
      this.slots[i] = fresh;
      this.wake();
    } catch (err) {
      this.o.log.error({ err }, 'could not replace a crashed ONNX Runtime worker');
    }
  }

  private release(slot: Slot): void {
    slot.inflight--;
    this.wake();
  }

  private wake(): void {
    const next = this.waiting.shift();
    if (next) next();
  }

  private async acquire(): Promise<Slot> {
    for (;;) {
      if (this.unloading) throw new AgentError('ENGINE_FAILED', 'The engine is unloading.');
      // The least loaded live worker with room: an idle worker before a busy one's queue.
      let free: Slot | undefined;
      for (const s of this.slots) if (s.worker.threadId >= 0 && s.inflight < PIPELINE_DEPTH && (!free || s.inflight < free.inflight)) free = s;
      if (free) {
        free.inflight++;
        return free;
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  async infer(input: Float32Array, batch: number): Promise<EngineOutputs> {
    const [c, h, w] = this.o.inputShape;
    if (input.length !== batch * c * h * w) throw new AgentError('INTERNAL', `input has ${input.length} floats, expected ${batch}×${c}×${h}×${w}`);
    const slot = await this.acquire();
    const id = this.nextId++;
    return new Promise<EngineOutputs>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      const msg: WorkerRequest = { type: 'run', id, input, dims: [batch, c, h, w] };
      try {
        slot.worker.postMessage(msg, [input.buffer as ArrayBuffer]);
      } catch (err) {
        // Not posted (e.g. a detached input): give the slot's room back.
        slot.pending.delete(id);
        this.release(slot);
        reject(new AgentError('ENGINE_FAILED', `Could not send the input to the ONNX Runtime worker: ${err instanceof Error ? err.message : String(err)}`));
      }
    });
  }

  async warmup(runs: number): Promise<void> {
    const [c, h, w] = this.o.inputShape;
    for (let i = 0; i < runs; i++) await this.infer(new Float32Array(c * h * w), 1);
  }

  async unload(): Promise<void> {
    this.unloading = true;
    for (const wake of this.waiting.splice(0)) wake();
    // Release the session inside the worker first (terminating a thread that still owns a
    // native session can abort the process), then end the thread.
    await Promise.all(
      this.slots.map(async (s) => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          s.worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          s.worker.on('message', (m: WorkerReply) => {
            if (m.type === 'released') {
              clearTimeout(timer);
              resolve();
            }
          });
          try {
            s.worker.postMessage({ type: 'release' } satisfies WorkerRequest);
          } catch {
            resolve();
          }
        });
        await s.worker.terminate();
      }),
    );
    this.slots = [];
  }
}
