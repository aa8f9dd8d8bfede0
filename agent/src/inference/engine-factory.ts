import type { NmsAttributes, Servable } from '../core/contracts/model.js';
import { AgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { prepareForOnnxRuntime } from '../models/onnx/prepare.js';
import { readBytes, statMaybe } from '../platform/fs.js';
import type { Engine } from './engine.js';
import { OrtEngine } from './ort-engine.js';
import type { TensorPool } from './tensor-pool.js';
import { RunnerEngine } from './trt/runner-engine.js';

export interface BuiltEngine {
  readonly engine: Engine;
  readonly nms: NmsAttributes | null;
  readonly outputNames: readonly string[];
  /** Size of the file the engine loads (ONNX model or TensorRT plan): the base of its memory estimate (swap-memory.ts). */
  readonly modelBytes?: number;
}

/**
 * Makes an (unloaded) engine for a servable: the backend follows what conversion produced.
 * `pool` receives input tensors back once a backend is done with them.
 */
export type EngineFactory = (servable: Servable, options?: { readonly pool?: TensorPool }) => Promise<BuiltEngine>;

export interface EngineFactoryOptions {
  readonly workers: number;
  readonly intraOpThreads: number;
  /** Cap on the engine's batch (KServe requests); 0 = the model package's maxBatch. */
  readonly maxBatch: number;
  readonly log: Logger;
  /** trt-runner binary (inference.trtRunner); wins over findTrtRunner. */
  readonly trtRunner?: string;
  /** The runner `jetson-agent runner build` recorded, looked up per activation (a build made while the daemon runs is used by the next activation). */
  readonly findTrtRunner?: () => Promise<string | undefined>;
  readonly runnerTimeoutMs?: number;
  /** Model bytes already in memory (the generated demo model), by path. */
  readonly inMemory?: ReadonlyMap<string, Uint8Array>;
}

export function defaultEngineFactory(o: EngineFactoryOptions): EngineFactory {
  return async (servable, options = {}) => {
    const m = servable.model;
    const maxBatch = Math.min(m.maxBatch, o.maxBatch || m.maxBatch);
    switch (servable.kind) {
      case 'onnxruntime': {
        const bytes = o.inMemory?.get(servable.onnxPath) ?? (await readBytes(servable.onnxPath));
        // Idempotent: a model conversion already prepared passes through unchanged; a raw TAO
        // ONNX is cut before its TensorRT-only NMS node here.
        const prepared = prepareForOnnxRuntime(bytes);
        const nms = prepared.nms ?? servable.nms;
        const outputNames = prepared.nms ? prepared.outputNames : servable.outputNames;
        const engine = new OrtEngine({
          model: prepared.model,
          inputName: prepared.inputName,
          inputShape: [m.input.channels, m.input.height, m.input.width],
          outputNames,
          maxBatch,
          workers: o.workers,
          intraOpThreads: o.intraOpThreads,
          log: o.log.child({ model: `${m.name}@${m.version}` }),
          ...(options.pool ? { pool: options.pool } : {}),
          ...(m.input.dtype === 'float16' ? { inputType: 'float16' as const } : {}),
          ...(m.extraInputs ? { extraInputs: m.extraInputs.map((x) => ({ name: x.name, dtype: x.dtype, values: x.value === 'input-hw' ? [m.input.height, m.input.width] : x.value })) } : {}),
        });
        return { engine, nms, outputNames, modelBytes: bytes.byteLength };
      }
      case 'tensorrt': {
        const runnerPath = o.trtRunner || (await o.findTrtRunner?.());
        if (!runnerPath) {
          throw new AgentError('ENGINE_FAILED', `Model ${m.name}@${m.version} is a TensorRT engine and no trt-runner is built or configured.`, {
            hint: 'Run `jetson-agent runner build` on the board (or set inference.trtRunner to a runner binary), then activate the model again.',
          });
        }
        const engine = new RunnerEngine({
          runnerPath,
          enginePath: servable.enginePath,
          inputShape: [m.input.channels, m.input.height, m.input.width],
          maxBatch,
          requestTimeoutMs: o.runnerTimeoutMs ?? 10_000,
          startTimeoutMs: 60_000,
          restartBackoffMs: [200, 10_000],
          log: o.log.child({ model: `${m.name}@${m.version}`, backend: 'tensorrt' }),
        });
        const modelBytes = (await statMaybe(servable.enginePath))?.size ?? 0;
        // A TAO engine's outputs are BatchedNMS's four, in the plugin's order (docs/reference/yolov3-io.md "BatchedNMS outputs");
        // other families' are the graph's own (decode order in the manifest).
        const family = m.family ?? 'tao-batched-nms';
        const outputNames = family === 'tao-batched-nms' ? ['BatchedNMS', 'BatchedNMS_1', 'BatchedNMS_2', 'BatchedNMS_3'] : (m.decode?.outputs ?? m.outputs);
        return { engine, nms: null, outputNames, modelBytes };
      }
    }
  };
}
