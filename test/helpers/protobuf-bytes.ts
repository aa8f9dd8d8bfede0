/**
 * Protobuf-shaped byte strings for codec tests. They are NOT runnable models: they only have
 * the wire structure the .etlt key check looks at (ONNX ModelProto: ir_version, producer_name,
 * graph bytes; UFF MetaGraph-like: version + descriptor strings).
 */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function lenField(field: number, data: Uint8Array): number[] {
  return [...varint((field << 3) | 2), ...varint(data.length), ...data];
}

/** A GraphProto-like message of about `bytes` bytes: repeated nodes {input, output, op_type}. */
function graphOfNodes(bytes: number): Uint8Array {
  const parts: number[] = [];
  for (let i = 0; parts.length < bytes; i++) {
    const node = [...lenField(1, Buffer.from(`conv${i}/in`)), ...lenField(2, Buffer.from(`conv${i}/out`)), ...lenField(4, Buffer.from('Conv'))];
    parts.push(...lenField(1, Uint8Array.from(node)));
  }
  return Uint8Array.from(parts);
}

/** ir_version 7, producer_name "tf2onnx", producer_version, a graph of about `graphBytes` bytes of nodes. */
export function onnxShapedBytes(graphBytes = 3000): Buffer {
  return Buffer.from([0x08, 0x07, ...lenField(2, Buffer.from('tf2onnx')), ...lenField(3, Buffer.from('1.9.2')), ...lenField(7, graphOfNodes(graphBytes))]);
}

/** version 1, a descriptor string, a graph blob naming the input. */
export function uffShapedBytes(inputName = 'Input', blobBytes = 3000): Buffer {
  const blob = Buffer.concat([Buffer.from(inputName), Buffer.alloc(blobBytes, 0x11)]);
  return Buffer.from([0x08, 0x01, ...lenField(3, Buffer.from('tensorflow_extension')), ...lenField(4, blob)]);
}
