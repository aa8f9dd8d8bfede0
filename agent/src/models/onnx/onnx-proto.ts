import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs';

/**
 * The subset of onnx.proto (ONNX IR, github.com/onnx/onnx `onnx/onnx.proto`) this agent reads
 * and writes, written by hand from the spec's field numbers. Every field of the messages a
 * model file can contain is declared — protobufjs drops unknown fields on decode, so a field
 * missing here would silently disappear from a model after graph surgery.
 */
const rep = (type: string, id: number) => ({ type, id, rule: 'repeated' as const });
const one = (type: string, id: number) => ({ type, id });

const ONNX_JSON = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: one('string', 1),
            refAttrName: one('string', 21),
            docString: one('string', 13),
            type: one('int32', 20),
            f: one('float', 2),
            i: one('int64', 3),
            s: one('bytes', 4),
            t: one('TensorProto', 5),
            g: one('GraphProto', 6),
            sparseTensor: one('SparseTensorProto', 22),
            tp: one('TypeProto', 14),
            floats: rep('float', 7),
            ints: rep('int64', 8),
            strings: rep('bytes', 9),
            tensors: rep('TensorProto', 10),
            graphs: rep('GraphProto', 11),
            sparseTensors: rep('SparseTensorProto', 23),
            typeProtos: rep('TypeProto', 15),
          },
        },
        ValueInfoProto: { fields: { name: one('string', 1), type: one('TypeProto', 2), docString: one('string', 3) } },
        NodeProto: {
          fields: {
            input: rep('string', 1),
            output: rep('string', 2),
            name: one('string', 3),
            opType: one('string', 4),
            domain: one('string', 7),
            attribute: rep('AttributeProto', 5),
            docString: one('string', 6),
          },
        },
        TrainingInfoProto: {
          fields: {
            initialization: one('GraphProto', 1),
            algorithm: one('GraphProto', 2),
            initializationBinding: rep('StringStringEntryProto', 3),
            updateBinding: rep('StringStringEntryProto', 4),
          },
        },
        ModelProto: {
          fields: {
            irVersion: one('int64', 1),
            opsetImport: rep('OperatorSetIdProto', 8),
            producerName: one('string', 2),
            producerVersion: one('string', 3),
            domain: one('string', 4),
            modelVersion: one('int64', 5),
            docString: one('string', 6),
            graph: one('GraphProto', 7),
            metadataProps: rep('StringStringEntryProto', 14),
            trainingInfo: rep('TrainingInfoProto', 20),
            functions: rep('FunctionProto', 25),
          },
        },
        StringStringEntryProto: { fields: { key: one('string', 1), value: one('string', 2) } },
        TensorAnnotation: { fields: { tensorName: one('string', 1), quantParameterTensorNames: rep('StringStringEntryProto', 2) } },
        GraphProto: {
          fields: {
            node: rep('NodeProto', 1),
            name: one('string', 2),
            initializer: rep('TensorProto', 5),
            sparseInitializer: rep('SparseTensorProto', 15),
            docString: one('string', 10),
            input: rep('ValueInfoProto', 11),
            output: rep('ValueInfoProto', 12),
            valueInfo: rep('ValueInfoProto', 13),
            quantizationAnnotation: rep('TensorAnnotation', 14),
          },
        },
        TensorProto: {
          fields: {
            dims: rep('int64', 1),
            dataType: one('int32', 2),
            segment: one('TensorProto.Segment', 3),
            floatData: rep('float', 4),
            int32Data: rep('int32', 5),
            stringData: rep('bytes', 6),
            int64Data: rep('int64', 7),
            name: one('string', 8),
            docString: one('string', 12),
            rawData: one('bytes', 9),
            externalData: rep('StringStringEntryProto', 13),
            dataLocation: one('int32', 14),
            doubleData: rep('double', 10),
            uint64Data: rep('uint64', 11),
          },
          nested: { Segment: { fields: { begin: one('int64', 1), end: one('int64', 2) } } },
        },
        SparseTensorProto: { fields: { values: one('TensorProto', 1), indices: one('TensorProto', 2), dims: rep('int64', 3) } },
        TensorShapeProto: {
          fields: { dim: rep('TensorShapeProto.Dimension', 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: one('int64', 1), dimParam: one('string', 2), denotation: one('string', 3) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType'] } },
          fields: {
            tensorType: one('TypeProto.Tensor', 1),
            sequenceType: one('TypeProto.Sequence', 4),
            mapType: one('TypeProto.Map', 5),
            optionalType: one('TypeProto.Optional', 9),
            sparseTensorType: one('TypeProto.SparseTensor', 8),
            denotation: one('string', 6),
          },
          nested: {
            Tensor: { fields: { elemType: one('int32', 1), shape: one('TensorShapeProto', 2) } },
            Sequence: { fields: { elemType: one('TypeProto', 1) } },
            Map: { fields: { keyType: one('int32', 1), valueType: one('TypeProto', 2) } },
            Optional: { fields: { elemType: one('TypeProto', 1) } },
            SparseTensor: { fields: { elemType: one('int32', 1), shape: one('TensorShapeProto', 2) } },
          },
        },
        OperatorSetIdProto: { fields: { domain: one('string', 1), version: one('int64', 2) } },
        FunctionProto: {
          fields: {
            name: one('string', 1),
            input: rep('string', 4),
            output: rep('string', 5),
            attribute: rep('string', 6),
            attributeProto: rep('AttributeProto', 11),
            node: rep('NodeProto', 7),
            docString: one('string', 8),
            opsetImport: rep('OperatorSetIdProto', 9),
            domain: one('string', 10),
          },
        },
      },
    },
  },
};

// protobufjs (+ long) is loaded on first use: an agent serving no ONNX model never needs it
// (idle footprint, docs/benchmarks.md). It is CommonJS, so a synchronous require keeps this API sync.
let modelProto: Protobuf.Type | undefined;
function modelProtoType(): Protobuf.Type {
  if (!modelProto) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof Protobuf;
    modelProto = protobuf.Root.fromJSON(ONNX_JSON).lookupType('onnx.ModelProto');
  }
  return modelProto;
}

/** TensorProto.DataType (onnx.proto). */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10 } as const;
/** AttributeProto.AttributeType (onnx.proto). */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

type Int64 = number | { toNumber(): number };

export interface TensorShapeDim {
  dimValue?: Int64;
  dimParam?: string;
}
export interface ValueInfo {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: TensorShapeDim[] } } };
}
export interface Attribute {
  name: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  ints?: Int64[];
  floats?: number[];
  t?: Tensor;
}
export interface Tensor {
  name?: string;
  dims?: Int64[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int64Data?: Int64[];
}
export interface OnnxNode {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: Attribute[];
}
export interface OnnxGraph {
  node: OnnxNode[];
  name?: string;
  initializer?: Tensor[];
  input: ValueInfo[];
  output: ValueInfo[];
  valueInfo?: ValueInfo[];
}
export interface OnnxModel {
  irVersion?: Int64;
  opsetImport?: { domain?: string; version?: Int64 }[];
  producerName?: string;
  graph?: OnnxGraph;
  metadataProps?: { key?: string; value?: string }[];
}

export function int64(v: Int64 | undefined): number {
  if (v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function decodeModel(bytes: Uint8Array): OnnxModel {
  return modelProtoType().decode(bytes) as unknown as OnnxModel;
}

export function encodeModel(model: OnnxModel): Uint8Array {
  const type = modelProtoType();
  const err = type.verify(model);
  if (err) throw new Error(`invalid ONNX ModelProto: ${err}`);
  return type.encode(type.fromObject(model)).finish();
}
