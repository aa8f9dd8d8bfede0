import { AttrType, DataType, decodeModel, encodeModel, type OnnxModel } from '../../agent/src/models/onnx/onnx-proto.js';

/**
 * Generated models (agent/src/models/onnx/generate.ts) changed so that they fail in one
 * specific way on the real path — at preparation, at load, at warm-up or only on some inputs —
 * the way a badly exported or badly trained model does in the field. Each is a valid ONNX
 * ModelProto that `jetson-fleet package create` accepts.
 */
function edit(onnx: Uint8Array, fn: (m: OnnxModel) => void): Uint8Array {
  const m = decodeModel(onnx);
  fn(m);
  return encodeModel(m);
}

/** The first Conv names an operator ONNX Runtime does not know: loading the session fails. */
export function unknownOperator(onnx: Uint8Array): Uint8Array {
  return edit(onnx, (m) => {
    const conv = m.graph?.node.find((n) => n.opType === 'Conv');
    if (!conv) throw new Error('no Conv node');
    conv.opType = 'Cxnv';
  });
}

/**
 * Another node reads the TensorRT NMS node's output (an Identity on `nmsed_boxes`), so the NMS
 * is no longer the graph's tail: `jetson-fleet package create` checks only the NMS node's
 * attributes and accepts it, but the graph surgery that prepares the model for ONNX Runtime
 * cannot cut the graph there and refuses it on the device (ONNX_UNSUPPORTED).
 */
export function nmsOutputConsumed(onnx: Uint8Array): Uint8Array {
  return edit(onnx, (m) => {
    const g = m.graph;
    const nms = g?.node.find((n) => n.opType.startsWith('BatchedNMS'));
    if (!g || !nms) throw new Error('no BatchedNMS node');
    const boxes = nms.output[1];
    if (!boxes) throw new Error('BatchedNMS node has no nmsed_boxes output');
    g.node = [...g.node, { name: 'fault/reads_nms', opType: 'Identity', input: [boxes], output: ['fault/boxes_copy'] }];
  });
}

/**
 * The input is multiplied by `table[max(Input) > limit]` where the table has ONE entry: while
 * every input value is ≤ limit the index is 0 and the model answers exactly like the original;
 * once any value exceeds it the Gather index is out of range and ONNX Runtime fails the run.
 * Input values are mean-subtracted pixels (about −124…+152; warm-up uses zeros). With
 * limit −1 the warm-up fails; with limit 64 warm-up and dark golden images pass and bright
 * photos fail — a model that breaks only on production traffic.
 */
export function failsAboveInput(onnx: Uint8Array, limit: number): Uint8Array {
  return edit(onnx, (m) => {
    const g = m.graph;
    if (!g) throw new Error('no graph');
    for (const n of g.node) n.input = n.input.map((i) => (i === 'Input' ? 'trap/x' : i));
    g.initializer = [
      ...(g.initializer ?? []),
      { name: 'trap/limit', dims: [], dataType: DataType.FLOAT, floatData: [limit] },
      { name: 'trap/table', dims: [1], dataType: DataType.FLOAT, floatData: [1] },
    ];
    g.node = [
      { name: 'trap/max', opType: 'ReduceMax', input: ['Input'], output: ['trap/max'], attribute: [{ name: 'keepdims', type: AttrType.INT, i: 0 }] },
      { name: 'trap/over', opType: 'Greater', input: ['trap/max', 'trap/limit'], output: ['trap/over'] },
      { name: 'trap/index', opType: 'Cast', input: ['trap/over'], output: ['trap/index'], attribute: [{ name: 'to', type: AttrType.INT, i: DataType.INT64 }] },
      { name: 'trap/gain', opType: 'Gather', input: ['trap/table', 'trap/index'], output: ['trap/gain'] },
      { name: 'trap/mul', opType: 'Mul', input: ['Input', 'trap/gain'], output: ['trap/x'] },
      ...g.node,
    ];
  });
}

/**
 * The graph's `Input` with symbolic C, H and W (`dimParam`), as a TAO export with a dynamic input
 * has: package create then takes the size and channels from the spec or the flags, which is what
 * the spec tests exercise with one graph for many specs.
 */
export function dynamicInput(onnx: Uint8Array): Uint8Array {
  return edit(onnx, (m) => {
    const input = m.graph?.input.find((i) => i.name === 'Input');
    const dims = input?.type?.tensorType?.shape?.dim;
    if (!dims || dims.length !== 4) throw new Error('no 4-D Input');
    input.type!.tensorType!.shape!.dim = dims.map((d, i) => (i === 0 ? d : { dimParam: ['', 'C', 'H', 'W'][i] }));
  });
}
