import { AgentError } from '../../core/errors.js';
import type { TensorInfoT } from '../../core/contracts/detector.js';
import { decodeModel, int64, type OnnxModel, type ValueInfo } from './onnx-proto.js';

/**
 * The parts of an ONNX graph that say which detector it is (models/families/detect.ts): the
 * real inputs (not initializers) and the outputs with KServe datatypes and shapes (−1 for a
 * symbolic dimension), `metadata_props` (Ultralytics writes names, imgsz, stride there), and
 * the operator types used. Pure.
 */
export interface OnnxSignature {
  readonly inputs: readonly TensorInfoT[];
  readonly outputs: readonly TensorInfoT[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly ops: ReadonlySet<string>;
}

/** TensorProto.DataType (onnx.proto) → KServe v2 datatype names. */
const DATATYPE: Readonly<Record<number, string>> = {
  1: 'FP32',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'BYTES',
  9: 'BOOL',
  10: 'FP16',
  11: 'FP64',
  12: 'UINT32',
  13: 'UINT64',
  16: 'BF16',
};

function info(v: ValueInfo): TensorInfoT {
  const t = v.type?.tensorType;
  const shape = (t?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && int64(d.dimValue) > 0 ? int64(d.dimValue) : -1));
  return { name: v.name, datatype: DATATYPE[t?.elemType ?? 0] ?? `ONNX_TYPE_${t?.elemType ?? 0}`, shape };
}

export function signatureOf(model: OnnxModel): OnnxSignature {
  const g = model.graph;
  if (!g) throw new AgentError('ONNX_INVALID', 'The ONNX model has no graph.', { hint: 'Re-export the model.' });
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const meta: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) meta[p.key] = p.value ?? '';
  return {
    inputs: g.input.filter((i) => !inits.has(i.name)).map(info),
    outputs: g.output.map(info),
    metadata: meta,
    ops: new Set(g.node.map((n) => n.opType)),
  };
}

export function readOnnxSignature(bytes: Uint8Array): OnnxSignature {
  let model: OnnxModel;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw new AgentError('ONNX_INVALID', `The file is not a valid ONNX model: ${(err as Error).message}.`, { cause: err, hint: 'Check that the file is an ONNX ModelProto and not truncated.' });
  }
  return signatureOf(model);
}

/** `name FP32 [1,3,416,416]`, −1 printed as `?`. */
export function formatTensor(t: TensorInfoT): string {
  return `${t.name} ${t.datatype} [${t.shape.map((d) => (d < 0 ? '?' : String(d))).join(',')}]`;
}
