import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { create } from 'tar';
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

/** A small model package tar (model.json + a model file) for manifest tests. */
export async function makeModelPackage(dir: string, name = 'peoplenet', version = '1.2.0'): Promise<string> {
  const src = path.join(dir, 'pkg-src');
  mkdirSync(src, { recursive: true });
  writeFileSync(path.join(src, 'model.json'), JSON.stringify({ schemaVersion: 1, name, version, network: 'yolov4', format: 'onnx', file: 'model.onnx' }));
  writeFileSync(path.join(src, 'model.onnx'), Buffer.alloc(4096, 7));
  const file = path.join(dir, `${name}-${version}.tar`);
  await create({ file, cwd: src }, ['model.json', 'model.onnx']);
  return file;
}
