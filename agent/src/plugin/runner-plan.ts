/**
 * Pure planning of the trt-runner build (agent/native/trt-runner, issue #5): which TensorRT
 * API the runner compiles against and the exact cmake/make argv. runner-build.ts only
 * executes it. Every path is given explicitly so cmake never searches the build host's own
 * /usr (with --root the headers and libraries come from the mirror tree).
 */

/** What runner-tensorrt.ts found: host paths (the --root prefix already applied). */
export interface TensorrtInstall {
  /** MAJOR.MINOR.PATCH from NvInferVersion.h. */
  readonly version: string;
  readonly major: number;
  /** Directory holding NvInfer.h, NvInferPlugin.h and NvInferVersion.h. */
  readonly includeDir: string;
  readonly nvinfer: string;
  readonly nvinferPlugin: string;
}

/**
 * main.cpp branches on NvInferVersion.h: 7.x frees objects with destroy() and uses the
 * bindings API; 8.0–8.4 the bindings API with `delete`; from 8.5 on the named-tensor API
 * (setInputShape, setTensorAddress, enqueueV3), the only one TensorRT 10 kept. 8.5–9.x still
 * run implicit-batch (UFF) engines through the deprecated enqueue(batch, bindings), the only
 * API there is for them (agent/native/trt-runner/README.md).
 */
export type RunnerApi = 'bindings-destroy' | 'bindings' | 'named-tensors';

export function runnerApiFor(major: number, minor = 0): RunnerApi | undefined {
  if (major === 7) return 'bindings-destroy';
  if (major === 8 && minor < 5) return 'bindings';
  if (major >= 8) return 'named-tensors';
  return undefined;
}

export interface RunnerPlanInput {
  readonly tensorrt: TensorrtInstall;
  /** CUDA toolkit root (the directory above bin/nvcc). */
  readonly cudaRoot: string;
  readonly cxxCompiler: string;
  readonly sourceDir: string;
  readonly buildDir: string;
  readonly jobs: number;
}

export interface RunnerPlan {
  readonly api: RunnerApi;
  readonly cmakeArgs: readonly string[];
  /** make argv (after the program name); make runs with cwd = the build dir. */
  readonly makeArgs: readonly string[];
  /** The binary make produces. */
  readonly output: string;
}

export interface RunnerPlanProblem {
  readonly kind: 'unsupported-tensorrt';
  readonly message: string;
}

export function planRunnerBuild(input: RunnerPlanInput): RunnerPlan | RunnerPlanProblem {
  const api = runnerApiFor(input.tensorrt.major, Number(input.tensorrt.version.split('.')[1] ?? 0));
  if (!api) {
    return {
      kind: 'unsupported-tensorrt',
      message: `TensorRT ${input.tensorrt.version} is too old for trt-runner (it needs 7.x, 8.x or 10.x: the IExecutionContext/enqueueV2 API arrived in 7.0).`,
    };
  }
  const cmakeArgs = [
    '-S',
    input.sourceDir,
    '-B',
    input.buildDir,
    '-DCMAKE_BUILD_TYPE=Release',
    `-DCMAKE_CXX_COMPILER=${input.cxxCompiler}`,
    // Preset cache entries: CMakeLists.txt's find_path/find_library keep them and search nothing.
    `-DTENSORRT_INCLUDE_DIR=${input.tensorrt.includeDir}`,
    `-DNVINFER=${input.tensorrt.nvinfer}`,
    `-DNVINFER_PLUGIN=${input.tensorrt.nvinferPlugin}`,
    // FindCUDA (JetPack 4/5 cmake) takes the toolkit from here instead of searching PATH.
    `-DCUDA_TOOLKIT_ROOT_DIR=${input.cudaRoot}`,
  ];
  const jobs = Math.max(1, Math.floor(input.jobs));
  return { api, cmakeArgs, makeArgs: ['trt-runner', `-j${jobs}`], output: `${input.buildDir.replace(/\/+$/, '')}/trt-runner` };
}
