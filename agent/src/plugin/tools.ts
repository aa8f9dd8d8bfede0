import os from 'node:os';
import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { run, which } from '../platform/exec.js';
import type { HostPaths } from '../platform/paths.js';
import { cmakeIsNewEnough } from './plan.js';
import { parseCmakeVersion, parseNvccVersion } from './version.js';

/**
 * Build tools for TensorRT OSS, checked before anything else (issue #3 §1): cmake ≥ the
 * branch minimum (docs/reference/tensorrt-oss-plugin.md "cmake minimum": JetPack 4 ships 3.10.2, too old; the DS README
 * builds cmake into $HOME/install), and nvcc (docs/reference/tensorrt-oss-plugin.md "Known failures": "No CMAKE_CUDA_COMPILER could be found"
 * unless /usr/local/cuda/bin is on PATH).
 */
export interface ToolInfo {
  readonly path: string;
  readonly version: string;
}

export async function findCmake(configured: string, neededVersion: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<ToolInfo> {
  const home = env.HOME ?? os.homedir();
  const names = configured ? [configured] : ['cmake', '/usr/local/bin/cmake', path.join(home, 'install', 'bin', 'cmake')];
  const exes: string[] = [];
  for (const n of names) {
    const p = await which(n);
    if (p && !exes.includes(p)) exes.push(p);
  }
  let found: ToolInfo | undefined;
  for (const exe of exes) {
    const r = await run(exe, ['--version'], { reject: false, timeoutMs: 30000 });
    const version = parseCmakeVersion(r.stdout);
    if (!version) continue;
    if (cmakeIsNewEnough(version, neededVersion)) return { path: exe, version };
    found ??= { path: exe, version };
  }
  if (!found) {
    throw new AgentError('CMAKE_NOT_FOUND', `No cmake found${configured ? ` at ${configured}` : ' on PATH, in /usr/local/bin or $HOME/install/bin'}.`, {
      hint: `Install cmake ≥ ${neededVersion} (apt-get install cmake on JetPack 5/6; on JetPack 4 build it from source into $HOME/install) or set plugin.cmakePath.`,
    });
  }
  throw new AgentError('CMAKE_TOO_OLD', `cmake ${found.version} (${found.path}) is too old: this TensorRT OSS branch needs cmake ≥ ${neededVersion}.`, {
    hint:
      `Get cmake ≥ ${neededVersion}: download the source from https://cmake.org/files/ (e.g. cmake-${neededVersion}.x), run ` +
      `./bootstrap --prefix=$HOME/install && make && make install, then set plugin.cmakePath=$HOME/install/bin/cmake (or put it on PATH).`,
    details: { found: found.version, needed: neededVersion, path: found.path },
  });
}

/** nvcc: configured path, else PATH, else <root>/usr/local/cuda/bin/nvcc. Returns its CUDA version. */
export async function findCudaCompiler(configured: string, paths: HostPaths): Promise<ToolInfo> {
  const exe = configured ? await which(configured) : ((await which('nvcc')) ?? (await which(paths.toHost('/usr/local/cuda/bin/nvcc'))));
  const fail = (why: string): AgentError =>
    new AgentError('CUDA_COMPILER_NOT_FOUND', `No CUDA compiler: ${why}.`, {
      hint: 'Put /usr/local/cuda/bin on PATH (export PATH=/usr/local/cuda/bin:$PATH), or pass --cuda-compiler /usr/local/cuda/bin/nvcc / set plugin.cudaCompiler.',
    });
  if (!exe) throw fail(configured ? `${configured} is not an executable file` : 'nvcc is not on PATH and /usr/local/cuda/bin/nvcc does not exist');
  const r = await run(exe, ['--version'], { reject: false, timeoutMs: 30000 });
  const version = parseNvccVersion(r.stdout);
  if (r.exitCode !== 0 || !version) throw fail(`${exe} --version did not report a CUDA version`);
  return { path: exe, version };
}

export async function findCCompiler(): Promise<string> {
  const cc = (await which('gcc')) ?? (await which('cc'));
  if (!cc) {
    throw new AgentError('EXEC_NOT_FOUND', 'No C compiler (gcc or cc) found.', { hint: 'Install build-essential (apt-get install build-essential).' });
  }
  return cc;
}

/** C++ compiler for trt-runner (build-essential installs g++; JetPack images have it). */
export async function findCxxCompiler(): Promise<string> {
  const cxx = (await which('g++')) ?? (await which('c++'));
  if (!cxx) {
    throw new AgentError('EXEC_NOT_FOUND', 'No C++ compiler (g++ or c++) found.', { hint: 'Install build-essential (apt-get install build-essential).' });
  }
  return cxx;
}
