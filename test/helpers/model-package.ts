import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { create } from 'tar';

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
