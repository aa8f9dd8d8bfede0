import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BoardInfo } from '../../agent/src/core/contracts/board.js';
import { deriveEtltKey, encodeEtlt } from '../../agent/src/models/etlt.js';
import { onnxShapedBytes, uffShapedBytes } from './protobuf-bytes.js';
import { REPO_ROOT } from './cli.js';

export const DOUBLES = path.join(REPO_ROOT, 'test', 'fixtures', 'bin');
export const SEED_SPEC = path.join(REPO_ROOT, 'test', 'fixtures', 'specs', 'yolov3_kitti_seed.txt');
export const MODEL_KEY = 'nvidia_tlt';

/** A BoardInfo as detection reports a Jetson Nano on JetPack 4.4 (TensorRT 7.1.3, sm_53). */
export function nanoBoard(over: Partial<BoardInfo> = {}): BoardInfo {
  return {
    isJetson: true,
    model: 'NVIDIA Jetson Nano Developer Kit',
    module: 'p3448-0000',
    soc: 'tegra210',
    chipId: 33,
    cudaArch: 53,
    l4t: '32.4.3',
    jetpack: '4.4',
    cuda: '10.2',
    cudnn: '8.0.0',
    tensorrt: '7.1.3',
    cmake: null,
    trtOssBranch: 'release/7.1',
    pluginLibrary: null,
    trtLibDir: '/usr/lib/aarch64-linux-gnu',
    pluginPackage: null,
    sources: {},
    warnings: [],
    ...over,
  };
}

export const laptop = (): BoardInfo => nanoBoard({ isJetson: false, soc: null, cudaArch: null, tensorrt: null, jetpack: null, l4t: null, model: null, module: null, chipId: null });

/** Write a UFF-style (name "Input") or ONNX-style .etlt encrypted with `key`. */
export async function writeEtlt(file: string, payload: 'uff' | 'onnx', key = MODEL_KEY): Promise<void> {
  const plain = payload === 'uff' ? uffShapedBytes('Input', 20_000) : onnxShapedBytes(20_000);
  writeFileSync(file, encodeEtlt(plain, await deriveEtltKey(key), payload === 'uff' ? 'Input' : '', Buffer.alloc(16, 7)));
}

export function writeKeyring(file: string, keys: Record<string, string>): void {
  writeFileSync(file, `keys:\n${Object.entries(keys).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}\n`);
  chmodSync(file, 0o600);
}
