import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './cli.js';

const STANDIN = path.join(REPO_ROOT, 'test', 'fixtures', 'trt-standin');
const NVCC_DOUBLE = path.join(REPO_ROOT, 'test', 'fixtures', 'bin', 'nvcc-double');

export interface StandinRoot {
  readonly root: string;
  /** <root>/usr/local/cuda/bin/nvcc (the nvcc double: only --version). */
  readonly nvcc: string;
}

/**
 * A host root with a TEST DOUBLE of a TensorRT + CUDA install where JetPack puts them
 * (headers under /usr/include/aarch64-linux-gnu, libs with SONAME links under
 * /usr/lib/aarch64-linux-gnu, toolkit under /usr/local/cuda). The headers and libraries are
 * the stand-ins in test/fixtures/trt-standin compiled with the host compiler: enough to
 * configure, compile, link and start trt-runner; not TensorRT.
 */
export function makeTensorrtStandinRoot(root: string, version: string, parts: { headers?: boolean; libs?: boolean } = {}): StandinRoot {
  const [major, minor, patch] = version.split('.');
  const inc = path.join(root, 'usr/include/aarch64-linux-gnu');
  const lib = path.join(root, 'usr/lib/aarch64-linux-gnu');
  const cuda = path.join(root, 'usr/local/cuda');
  for (const d of [inc, lib, path.join(cuda, 'bin'), path.join(cuda, 'lib64')]) mkdirSync(d, { recursive: true });
  cpSync(path.join(STANDIN, 'cuda', 'include'), path.join(cuda, 'include'), { recursive: true });
  copyFileSync(NVCC_DOUBLE, path.join(cuda, 'bin', 'nvcc'));
  // Compile against a private include dir so `headers: false` can still build the libraries.
  const build = path.join(root, '.standin-include');
  cpSync(path.join(STANDIN, 'include'), build, { recursive: true });
  // Same macro layout as the real NvInferVersion.h (NVIDIA/TensorRT include/NvInferVersion.h before 10.11).
  writeFileSync(path.join(build, 'NvInferVersion.h'), `#define NV_TENSORRT_MAJOR ${major}\n#define NV_TENSORRT_MINOR ${minor}\n#define NV_TENSORRT_PATCH ${patch}\n#define NV_TENSORRT_BUILD 0\n`);
  if (parts.headers !== false) cpSync(build, inc, { recursive: true });
  const cudaInc = path.join(cuda, 'include');
  execFileSync('cc', ['-shared', '-fPIC', `-I${cudaInc}`, '-Wl,-soname,libcudart.so', '-o', path.join(cuda, 'lib64', 'libcudart.so'), path.join(STANDIN, 'stub', 'cudart.c')]);
  if (parts.libs !== false) {
    for (const [name, define] of [['libnvinfer', []], ['libnvinfer_plugin', ['-DSTANDIN_PLUGIN']]] as const) {
      const real = `${name}.so.${version}`;
      execFileSync('c++', ['-shared', '-fPIC', ...define, `-I${build}`, `-I${cudaInc}`, `-Wl,-soname,${name}.so.${major}`, '-o', path.join(lib, real), path.join(STANDIN, 'stub', 'nvinfer.cpp')]);
      symlinkSync(real, path.join(lib, `${name}.so.${major}`));
      symlinkSync(`${name}.so.${major}`, path.join(lib, `${name}.so`));
    }
  }
  return { root, nvcc: path.join(cuda, 'bin', 'nvcc') };
}

/** The warning flags the runner must build clean under (agent/native/trt-runner/CMakeLists.txt), as errors. */
export const RUNNER_WARNING_FLAGS = ['-Wall', '-Wextra', '-Wconversion', '-Wdeprecated-declarations', '-Werror'];

/**
 * Compile agent/native/trt-runner/main.cpp with g++ against a stand-in root (the headers of
 * that TensorRT generation), warnings as errors, linked to the stub libraries with an rpath so
 * it runs without LD_LIBRARY_PATH. Throws with the compiler's output on any warning.
 */
export function buildStandinRunner(s: StandinRoot, out: string): string {
  const inc = path.join(s.root, 'usr/include/aarch64-linux-gnu');
  const lib = path.join(s.root, 'usr/lib/aarch64-linux-gnu');
  const cuda = path.join(s.root, 'usr/local/cuda');
  execFileSync(
    'c++',
    [
      '-std=c++14',
      ...RUNNER_WARNING_FLAGS,
      `-I${inc}`,
      `-I${path.join(cuda, 'include')}`,
      '-o',
      out,
      path.join(REPO_ROOT, 'agent', 'native', 'trt-runner', 'main.cpp'),
      `-L${lib}`,
      `-L${path.join(cuda, 'lib64')}`,
      '-lnvinfer',
      '-lnvinfer_plugin',
      '-lcudart',
      `-Wl,-rpath,${lib}:${path.join(cuda, 'lib64')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return out;
}

/** TensorRT DataType enum values (the stand-in header's, which are the real header's). */
export const TRT_DATATYPE = { FP32: 0, FP16: 1, INT8: 2, INT32: 3, BOOL: 4, UINT8: 5, FP8: 6, BF16: 7, INT64: 8, INT4: 9 } as const;

export interface StandinTensorSpec {
  readonly io: 'in' | 'out';
  readonly name: string;
  readonly dtype: keyof typeof TRT_DATATYPE;
  /** TensorFormat: 0 linear; 3 CHW4 (vectorized). */
  readonly format?: number;
  readonly dims: readonly number[];
}

/** A stand-in engine file (the format test/fixtures/trt-standin/stub/nvinfer.cpp reads). */
export function standinEngine(spec: { implicit?: boolean; maxBatch: number; failEnqueue?: number; tensors: readonly StandinTensorSpec[] }): string {
  return [
    'TRT-STANDIN-ENGINE',
    `implicit ${spec.implicit ? 1 : 0}`,
    `maxbatch ${spec.maxBatch}`,
    ...(spec.failEnqueue ? [`fail-enqueue ${spec.failEnqueue}`] : []),
    ...spec.tensors.map((t) => `tensor ${t.io} ${t.name} ${TRT_DATATYPE[t.dtype]} ${t.format ?? 0} ${t.dims.join(' ')}`),
    '',
  ].join('\n');
}

/** Element j of a non-echo output, as the stub computes it (stub/nvinfer.cpp writeValue). */
export function standinValue(dtype: keyof typeof TRT_DATATYPE, j: number): number {
  switch (dtype) {
    case 'FP32':
    case 'FP16':
    case 'BF16':
      return (j - 3) * 0.5;
    case 'INT32':
      return j - 3;
    case 'INT64':
      return (j - 3) * 100000007;
    case 'INT8':
      return (j % 100) - 50;
    case 'BOOL':
      return j % 2;
    case 'UINT8':
      return j % 256;
    case 'FP8':
      return j % 16;
    case 'INT4':
      return 0;
  }
}
