import { AgentError } from '../../core/errors.js';
import type { NmsAttributes } from '../../core/contracts/model.js';
import { readBatchedNmsAttributes } from './batched-nms-attributes.js';
import { decodeModel, encodeModel, DataType, type OnnxModel, type ValueInfo } from './onnx-proto.js';

/**
 * Turns a TAO ONNX graph into one stock ONNX Runtime can run: the TensorRT-only NMS node
 * (`BatchedNMSDynamic_TRT` / `BatchedNMS_TRT`) is removed, its inputs become the graph outputs,
 * and its attributes are returned so the inference service applies the same NMS in code
 * (inference/nms.ts). Attributes the real plugin would refuse, or that make it find nothing,
 * are refused here with NMS_ATTRIBUTES_INVALID (batched-nms-attributes.ts).
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

const TRT_NMS_OPS = new Set(['BatchedNMSDynamic_TRT', 'BatchedNMS_TRT']);

function decodeOrThrow(onnx: Uint8Array): OnnxModel {
  try {
    return decodeModel(onnx);
  } catch (err) {
    throw new AgentError('ONNX_INVALID', `The file is not a valid ONNX model: ${(err as Error).message}.`, {
      cause: err,
      hint: 'Check that the file is an ONNX ModelProto (or a decoded ONNX .etlt payload) and not truncated.',
    });
  }
}

/**
 * Intake check without graph surgery (`jetson-fleet package create`, and before a Jetson
 * conversion): the TensorRT NMS node's attributes, refused with NMS_ATTRIBUTES_INVALID where the
 * real plugin would fail or find nothing; null when the graph has no such node.
 */
export function readTrtNmsAttributes(onnx: Uint8Array): NmsAttributes | null {
  const nodes = (decodeOrThrow(onnx).graph?.node ?? []).filter((n) => TRT_NMS_OPS.has(n.opType));
  return nodes.length === 0 ? null : readBatchedNmsAttributes(nodes[0]!.attribute ?? [], nodes[0]!.opType);
}

export function prepareForOnnxRuntime(onnx: Uint8Array): PreparedOnnx {
  const model = decodeOrThrow(onnx);
  const graph = model.graph;
  if (!graph || graph.node.length === 0) {
    throw new AgentError('ONNX_INVALID', 'The ONNX model has no graph or an empty graph.', { hint: 'Re-export the model.' });
  }
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const realInput = graph.input.find((vi) => !initNames.has(vi.name));
  if (!realInput) throw new AgentError('ONNX_INVALID', 'The ONNX graph has no input tensor.', { hint: 'Re-export the model.' });

  const nmsNodes = graph.node.filter((n) => TRT_NMS_OPS.has(n.opType));
  if (nmsNodes.length === 0) {
    return { model: onnx, nms: null, outputNames: graph.output.map((o) => o.name), inputName: realInput.name };
  }
  if (nmsNodes.length > 1) {
    throw new AgentError('ONNX_UNSUPPORTED', `The ONNX graph has ${nmsNodes.length} TensorRT NMS nodes; exactly one is supported.`, {
      hint: 'Export a single-head detector (TAO YOLOv3/v4 exports have one BatchedNMS node).',
    });
  }
  const nms = nmsNodes[0]!;
  const [boxes, scores] = nms.input;
  if (!boxes || !scores) {
    throw new AgentError('ONNX_UNSUPPORTED', `The ${nms.opType} node has ${nms.input.length} inputs; boxes and scores are expected.`);
  }
  const consumed = new Set(nms.output);
  const stillUsed = graph.node.some((n) => n !== nms && n.input.some((i) => consumed.has(i)));
  if (stillUsed) {
    throw new AgentError('ONNX_UNSUPPORTED', `Other nodes consume the outputs of ${nms.opType}; the graph cannot be cut there.`, {
      hint: 'Export the model with the NMS node as the last node (as TAO does).',
    });
  }

  const attrs = readBatchedNmsAttributes(nms.attribute ?? [], nms.opType);
  graph.node = graph.node.filter((n) => n !== nms);
  const known = new Map<string, ValueInfo>();
  for (const vi of graph.valueInfo ?? []) known.set(vi.name, vi);
  // The new outputs keep any shape information the exporter recorded; float32 otherwise
  // (BatchedNMS takes float boxes and scores: TensorRT plugin README).
  const asOutput = (name: string): ValueInfo => known.get(name) ?? { name, type: { tensorType: { elemType: DataType.FLOAT } } };
  graph.output = [asOutput(boxes), asOutput(scores)];
  graph.valueInfo = (graph.valueInfo ?? []).filter((vi) => !consumed.has(vi.name) && vi.name !== boxes && vi.name !== scores);

  return { model: encodeModel(model), nms: attrs, outputNames: [boxes, scores], inputName: realInput.name };
}
