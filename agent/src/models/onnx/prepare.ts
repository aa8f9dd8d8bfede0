import { AgentError } from '../../core/errors.js';
import type { NmsAttributes } from '../../core/contracts/model.js';

/**
 * Turns a TAO ONNX graph into one stock ONNX Runtime can run (tlt-models.md §10): the
 * TensorRT-only NMS node (`BatchedNMSDynamic_TRT` / `BatchedNMS_TRT`) is removed, its inputs
 * become the graph outputs, and its attributes are returned so the inference service applies
 * the same NMS in code. PLACEHOLDER: the implementation lands with the inference work; the
 * signature is the contract.
 */
export interface PreparedOnnx {
  /** Serialized ONNX ModelProto for ONNX Runtime. */
  readonly model: Uint8Array;
  /** null when the graph had no TensorRT NMS node (outputs used as they are). */
  readonly nms: NmsAttributes | null;
  /** Output names in post-processing order: [boxes, scores] after surgery. */
  readonly outputNames: readonly string[];
  readonly inputName: string;
}

export function prepareForOnnxRuntime(_onnx: Uint8Array): PreparedOnnx {
  throw new AgentError('INTERNAL', 'ONNX preparation for ONNX Runtime is not implemented yet.');
}
