import { onnxShapedBytes } from './protobuf-bytes.js';

/** A valid model.json for an ONNX package named `file` (values from the seed YOLOv3 spec). */
export function manifestFor(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 1,
    name: 'yolov3-kitti',
    version: '1.0.0',
    network: 'yolov3',
    format: 'onnx',
    file: 'model.onnx',
    input: { name: 'Input', channels: 3, height: 384, width: 1248 },
    outputs: ['BatchedNMS'],
    classes: ['car', 'cyclist', 'pedestrian'],
    nms: { confidenceThreshold: 0.01, iouThreshold: 0.6, topK: 200 },
    ...over,
  };
}

export const ONNX_BYTES = onnxShapedBytes(4000);
