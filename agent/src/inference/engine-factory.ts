import type { NmsAttributes, Servable } from '../core/contracts/model.js';
import { AgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { prepareForOnnxRuntime } from '../models/onnx/prepare.js';
import { readBytes } from '../platform/fs.js';
import type { Engine } from './engine.js';
import { OrtEngine } from './ort-engine.js';

export interface BuiltEngine {
  readonly engine: Engine;
  readonly nms: NmsAttributes | null;
  readonly outputNames: readonly string[];
}

/** Makes an (unloaded) engine for a servable: the backend follows what conversion produced. */
export type EngineFactory = (servable: Servable) => Promise<BuiltEngine>;

export interface EngineFactoryOptions {
  readonly workers: number;
  readonly intraOpThreads: number;
  readonly maxBatch: number;
  readonly log: Logger;
  /** Model bytes already in memory (the generated demo model), by path. */
  readonly inMemory?: ReadonlyMap<string, Uint8Array>;
}

export function defaultEngineFactory(o: EngineFactoryOptions): EngineFactory {
  return async (servable) => {
    const m = servable.model;
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
          maxBatch: Math.min(m.maxBatch, o.maxBatch),
          workers: o.workers,
          intraOpThreads: o.intraOpThreads,
          log: o.log.child({ model: `${m.name}@${m.version}` }),
        });
        return { engine, nms, outputNames };
      }
      case 'tensorrt':
        throw new AgentError('ENGINE_FAILED', `Model ${m.name}@${m.version} is a TensorRT engine; the trt-runner backend is not available in this build.`, {
          hint: 'Serve the ONNX Runtime servable of this package, or see docs/hardware-validation.md for the on-board runner.',
        });
    }
  };
}
