import { createHash } from 'node:crypto';
import { MODEL_SCHEMA_VERSION, type ModelManifest, type Servable } from '../core/contracts/model.js';
import { generateYoloV3Onnx } from '../models/onnx/generate.js';

/**
 * The demo model served when nothing else is active (issue #5 §6): a generated
 * TAO-YOLOv3-shaped network at the KITTI spec size 3×384×1248 (docs/reference/yolov3-io.md "Input tensor") with
 * seeded random weights. Its detections are meaningless; it exists so the endpoint answers
 * out of the box and the whole pipeline (decode, letterbox, ORT, NMS, mapping) runs for real.
 */
export const DEMO_MODEL_NAME = 'demo-yolov3';
export const DEMO_MODEL_VERSION = 'generated-1';

export interface GeneratedServable {
  readonly servable: Servable;
  readonly bytes: Uint8Array;
}

export function generatedServable(o: {
  name: string;
  version: string;
  height: number;
  width: number;
  seed?: number;
  classes?: readonly string[];
  maxBatch?: number;
  extraConvs?: number;
}): GeneratedServable {
  const classes = o.classes ?? ['car', 'cyclist', 'pedestrian'];
  const bytes = generateYoloV3Onnx({ height: o.height, width: o.width, classes: classes.length, seed: o.seed ?? 1, scoreThreshold: 0.3, iouThreshold: 0.5, keepTopK: 200, extraConvs: o.extraConvs ?? 0 });
  const model: ModelManifest = {
    schemaVersion: MODEL_SCHEMA_VERSION,
    name: o.name,
    version: o.version,
    network: 'yolov3',
    format: 'onnx',
    file: 'model.onnx',
    input: { name: 'Input', channels: 3, height: o.height, width: o.width, colorOrder: 'bgr', mean: [103.939, 116.779, 123.68], scale: 1, resize: 'letterbox-center' },
    outputs: ['BatchedNMS'],
    classes: [...classes],
    nms: { confidenceThreshold: 0.3, iouThreshold: 0.5, topK: 200 },
    precision: 'fp32',
    maxBatch: o.maxBatch ?? 8,
  };
  const sha = createHash('sha256').update(bytes).digest('hex');
  return {
    bytes,
    // `memory:` paths are served from the engine factory's in-memory map, never read from disk.
    servable: { kind: 'onnxruntime', onnxPath: `memory:${o.name}@${o.version}`, model, packageSha256: sha, nms: null, outputNames: [] },
  };
}

export function demoServable(): GeneratedServable {
  return generatedServable({ name: DEMO_MODEL_NAME, version: DEMO_MODEL_VERSION, height: 384, width: 1248, seed: 1 });
}
