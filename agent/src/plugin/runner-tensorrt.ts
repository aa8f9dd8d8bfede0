import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { readTextMaybe, statMaybe } from '../platform/fs.js';
import type { HostPaths } from '../platform/paths.js';
import type { TensorrtInstall } from './runner-plan.js';
import { parseNvInferVersionHeader } from './version.js';

/**
 * Where JetPack puts the TensorRT development files (docs/reference/jetson-boards.md "Detecting TensorRT, CUDA and cuDNN": headers and libs
 * under the aarch64 triplet; x86 CUDA-repo debs use the x86_64 one; NVIDIA's tarballs are often
 * unpacked to /usr/local/tensorrt). Board-absolute; the --root prefix is added when reading.
 */
export const TRT_INCLUDE_DIRS = ['/usr/include/aarch64-linux-gnu', '/usr/include/x86_64-linux-gnu', '/usr/include', '/usr/local/tensorrt/include'] as const;
export const TRT_LIB_DIRS = ['/usr/lib/aarch64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/usr/local/tensorrt/lib'] as const;
const HEADERS = ['NvInfer.h', 'NvInferPlugin.h', 'NvInferVersion.h'] as const;

/**
 * Finds the TensorRT headers and libraries the runner links against, or throws
 * RUNNER_TENSORRT_MISSING naming every place looked at. Reads only; writes nothing.
 * `boardLibDir` (board detection's trtLibDir) is searched first.
 */
export async function locateTensorrt(paths: HostPaths, boardLibDir: string | null): Promise<TensorrtInstall> {
  const problems: string[] = [];
  let includeDir: string | undefined;
  let version: ReturnType<typeof parseNvInferVersionHeader>;
  for (const dir of TRT_INCLUDE_DIRS) {
    const host = paths.toHost(dir);
    const present = await Promise.all(HEADERS.map(async (h) => Boolean((await statMaybe(path.join(host, h)))?.isFile())));
    if (!present[0] && !present[2]) continue;
    const missing = HEADERS.filter((_, i) => !present[i]);
    if (missing.length > 0) {
      problems.push(`${dir} has ${HEADERS.filter((_, i) => present[i]).join(', ')} but not ${missing.join(', ')}`);
      continue;
    }
    version = parseNvInferVersionHeader((await readTextMaybe(path.join(host, 'NvInferVersion.h'))) ?? '');
    if (!version) {
      problems.push(`${dir}/NvInferVersion.h has no NV_TENSORRT_MAJOR/MINOR/PATCH`);
      continue;
    }
    includeDir = host;
    break;
  }
  if (!includeDir) problems.unshift(`no NvInfer.h + NvInferPlugin.h + NvInferVersion.h in ${TRT_INCLUDE_DIRS.join(', ')}`);

  const libDirs = [...new Set([...(boardLibDir ? [boardLibDir] : []), ...TRT_LIB_DIRS])];
  const findLib = async (name: string): Promise<string | undefined> => {
    // The unversioned dev link first (what a linker uses), then the SONAME link of this major.
    const names = [`${name}.so`, ...(version ? [`${name}.so.${version.sonameMajor}`, `${name}.so.${version.major}`] : [])];
    for (const dir of libDirs) {
      for (const n of names) {
        const p = path.join(paths.toHost(dir), n);
        if ((await statMaybe(p))?.isFile()) return p;
      }
    }
    problems.push(`no ${names.join(' or ')} in ${libDirs.join(', ')}`);
    return undefined;
  };
  const nvinfer = await findLib('libnvinfer');
  const nvinferPlugin = await findLib('libnvinfer_plugin');
  if (!includeDir || !version || !nvinfer || !nvinferPlugin) {
    throw new AgentError('RUNNER_TENSORRT_MISSING', `TensorRT development files not found${paths.isRealRoot ? '' : ` under ${paths.root}`}: ${problems.join('; ')}.`, {
      hint:
        'trt-runner builds only where TensorRT is installed (a Jetson with JetPack): install the headers and libraries ' +
        '(apt-get install nvidia-tensorrt-dev on JetPack 5/6, libnvinfer-dev libnvinfer-plugin-dev on JetPack 4) and rerun. ' +
        'Off-Jetson no runner is needed: ONNX models are served with ONNX Runtime.',
      details: { looked: { include: TRT_INCLUDE_DIRS, lib: libDirs } },
    });
  }
  return { version: `${version.major}.${version.minor}.${version.patch}`, major: version.major, includeDir, nvinfer, nvinferPlugin };
}
