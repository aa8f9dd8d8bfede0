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
  // Same macro layout as the real NvInferVersion.h (jetson-platform.md §3.3).
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
